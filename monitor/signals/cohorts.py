"""Account cohorts: who carries a tag — how new the accounts are, and how concentrated posting is.

- Creation: accounts by creation month; the share created in the ``NEW_DAYS`` days before their
  first post on the tag in the window; days on which unusually many were created (at least
  ``MIN_CREATED`` accounts and a robust z-score >= 3.5 against the 60 days before, as for
  bursts). Only accounts whose platform gives a creation date count; the report says how many.
- Posting: posts per account (median, 90th percentile by the nearest-rank method, maximum); the
  share of the window's posts carried by the top 1% of accounts (at least one account) and by
  the top 10.
"""

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.signals import bursts, people
from monitor.signals.records import Record

NEW_DAYS = 30
MIN_CREATED = 5
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Cohorts:
    accounts: int
    with_creation_date: int
    created_by_month: dict[str, int]
    new_share: float | None  # of accounts with a creation date
    creation_spikes: dict[str, int]  # day -> accounts created
    posts_per_account_median: float
    posts_per_account_p90: int
    posts_per_account_max: int
    top_1pct_share: float
    top_10_share: float


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).date().isoformat()


def _spikes(created_days: Counter[int]) -> dict[str, int]:
    found = {}
    for day, count in created_days.items():
        if count < MIN_CREATED:
            continue
        history = [created_days.get(d, 0) for d in range(day - 60, day)]
        if bursts.robust_z(count, history) >= bursts.Z_THRESHOLD:
            found[_day(day * DAY_MS)] = count
    return dict(sorted(found.items()))


def positions(accounts: int) -> tuple[list[int], int, int]:
    """Where the posting figures lie among accounts ranked by posts, most first: the ranks the
    median is taken from, the rank of the 90th percentile (nearest rank), and how many accounts
    the top 1% is."""
    middle = accounts // 2
    medians = [middle] if accounts % 2 else [middle - 1, middle]
    return medians, accounts - math.ceil(0.9 * accounts), max(1, math.ceil(accounts / 100))


@dataclass(frozen=True)
class Posting:
    """Posts per account, as the figures need them."""

    accounts: int
    at: dict[int, int]  # rank -> posts, for the ranks ``positions`` gives and rank 0
    top_1pct: int  # posts of the top 1% of accounts
    top_10: int


def cohorts(records: Sequence[Record]) -> Cohorts | None:
    """Figures for the accounts posting in the records' window, or None when there are none."""
    if not records:
        return None
    first_post: dict[tuple[str, str], int] = {}
    created: dict[tuple[str, str], int] = {}
    for r in records:  # oldest first
        account = people.account(r)
        first_post.setdefault(account, r.t_ms)
        if r.author_created_ms is not None:
            created[account] = r.author_created_ms
    new = sum(1 for a, ms in created.items() if 0 <= first_post[a] - ms <= NEW_DAYS * DAY_MS)
    ranked = [n for _, n in people.accounts_by_posts(records)]
    medians, p90, top = positions(len(ranked))
    posting = Posting(len(ranked), {rank: ranked[rank] for rank in {0, p90, *medians}},
                      sum(ranked[:top]), sum(ranked[:10]))  # fmt: skip
    return assemble(posting, len(records), Counter(ms // DAY_MS for ms in created.values()), new)


def assemble(posting: Posting, total: int, created_days: Counter[int], new: int) -> Cohorts:
    """The figures from posts per account and the accounts created per day (day numbers since
    the epoch), ``new`` of which first posted within NEW_DAYS of their creation."""
    dated = sum(created_days.values())
    months = Counter[str]()
    for day, accounts in created_days.items():
        months[_day(day * DAY_MS)[:7]] += accounts
    medians, p90, _ = positions(posting.accounts)
    middle = [posting.at[rank] for rank in medians]
    return Cohorts(
        accounts=posting.accounts,
        with_creation_date=dated,
        created_by_month=dict(sorted(months.items())),
        new_share=round(new / dated, 4) if dated else None,
        creation_spikes=_spikes(created_days),
        posts_per_account_median=middle[0] if len(middle) == 1 else sum(middle) / 2,
        posts_per_account_p90=posting.at[p90],
        posts_per_account_max=posting.at[0],
        top_1pct_share=round(posting.top_1pct / total, 4),
        top_10_share=round(posting.top_10 / total, 4),
    )
