"""The coordination section as plain-text tables, which each renderer escapes its own way."""

from dataclasses import dataclass

from monitor.reports import shown
from monitor.reports.model import Coordination

MEMBERS_SHOWN = 12


@dataclass(frozen=True)
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]


def summary(c: Coordination) -> str:
    p = c.parameters
    return (
        f"{c.coordinated_accounts:,} accounts in coordination clusters ({c.people_share:.1%} of "
        f"people) posted {c.posts_share:.1%} of the posts; {c.matched_posts_share:.1%} of the "
        f"posts match another cluster member's. Parameters: window {p['window_s']} s, minimum "
        f"weight {p['min_weight']}, text rule {p['text_rule']}, co-similar threshold "
        f"{p['threshold']}, copy-paste from {p['copy_paste_min_accounts']} accounts; bursts: "
        f"robust z >= {p['burst_z']} against the {p['burst_baseline_minutes']} minutes before, "
        f"from {p['burst_min_posts']} posts a minute."
    )


def _members(ids: list[tuple[str, str | None]]) -> str:
    shown = [f"@{handle}" if handle else account for account, handle in ids[:MEMBERS_SHOWN]]
    more = len(ids) - MEMBERS_SHOWN
    return ", ".join(shown) + (f" and {more:,} more" if more > 0 else "")


def tables(c: Coordination) -> list[Table]:
    networks = Table(
        "Networks",
        ["behaviour", "edges", "accounts", "clusters", "unpaired viral posts"],
        [[n.behaviour, f"{n.edges:,}", f"{n.accounts:,}", f"{len(n.clusters):,}",
          f"{n.unpaired_viral_posts:,}"] for n in c.networks],
    )  # fmt: skip
    clusters = Table(
        "Clusters",
        ["behaviour", "size", "weight", "co-activity weight", "evidence pairs", "members",
         "evidence"],
        [[n.behaviour, f"{k.size:,}", f"{k.weight:,}", f"{k.coactivity_weight:,}",
          f"{k.evidence_pairs:,}", _members([(m.id, m.handle) for m in k.members]), k.evidence]
         for n in c.networks for k in n.clusters],
    )  # fmt: skip
    copies = Table(
        "Copy-paste clusters",
        ["text as first posted", "variants", "accounts", "posts", "first (UTC)", "span"],
        [[shown.shortened(k.first_text or k.text), f"{k.variants:,}", f"{k.accounts:,}",
          f"{k.posts:,}", k.first, _span(k.span_s)] for k in c.copy_paste],
    )  # fmt: skip
    bursts = Table(
        "Bursts",
        ["start (UTC)", "peak", "end", "posts", "peak posts", "peak z", "coordinated share"],
        [[b.start, b.peak, b.end, f"{b.posts:,}", f"{b.peak_posts:,}",
          "∞" if b.peak_z is None else f"{b.peak_z:g}", f"{b.coordinated_share:.0%}"]
         for b in c.bursts],
    )  # fmt: skip
    return [networks, clusters, copies, bursts, *_cohorts(c)]


def _cohorts(c: Coordination) -> list[Table]:
    k = c.cohorts
    if k is None:
        return []
    new = "n/a" if k.new_share is None else f"{k.new_share:.1%}"
    spikes = ", ".join(f"{day} ({n})" for day, n in k.creation_spikes.items()) or "none"
    return [Table("Accounts", ["figure", "value"], [
        ["accounts (with a creation date)", f"{k.accounts:,} ({k.with_creation_date:,})"],
        ["created in the 30 days before their first post", new],
        ["days on which unusually many were created", spikes],
        ["posts per account: median, 90th percentile, max",
         f"{k.posts_per_account_median:g}, {k.posts_per_account_p90:,}, "
         f"{k.posts_per_account_max:,}"],
        ["share of posts by the top 1% of accounts", f"{k.top_1pct_share:.1%}"],
        ["share of posts by the top 10 accounts", f"{k.top_10_share:.1%}"],
    ])]  # fmt: skip


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"
