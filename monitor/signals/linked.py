"""Each behaviour's network at its default query, read from what linked.lua keeps: the edges,
and for the clusters' evidence the pair counts between accounts and each account's posts
grouped by signature (the accounts their pairs are with). The figures are those
``coordination.summaries`` gives from the pairs themselves; tests compare the two."""

from collections import defaultdict
from typing import cast

from redis.asyncio import Redis

from monitor import keys, zsets
from monitor.connection import text
from monitor.signals import coordination, matching
from monitor.signals.coordination import BEHAVIOURS, Grouping, Query, Summary
from monitor.timewindow import Window

SEP = "\0"
INDEXES = tuple(Query(behaviour).index for behaviour in ("co-post", "co-link", "co-similar",
                "co-repost", "co-reply"))  # fmt: skip  # linked.lua's LINKED_ORDER


def query_args() -> list[int]:
    """The default query as linked.lua takes it: window (ms), threshold numerator, denominator."""
    default = Query("co-post")
    return [default.window_s * 1000, default.threshold.numerator, default.threshold.denominator]


Signature = tuple[dict[str, set[str]], int]  # partner accounts by behaviour letter; posts


async def summaries(redis: Redis, tag: str, window: Window, top: int) -> tuple[list[Summary], int]:
    """As coordination.summaries, for a window holding everything the tag retains; the
    evidence of the first ``top`` clusters of each behaviour only."""
    kept = await redis.zrangebyscore(keys.tally(tag, "edges"), Query("co-post").min_weight, "+inf")
    by_letter: defaultdict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for member in cast(list[bytes], kept):
        letter, source, target, weight = text(member).split(SEP)
        by_letter[letter].append((source, target, int(weight)))
    groupings = {}
    for behaviour in BEHAVIOURS:
        letter = matching.namespace(Query(behaviour).index)
        edges = sorted(by_letter[letter], key=lambda edge: (-edge[2], edge[0], edge[1]))
        groupings[behaviour] = (letter, edges, Grouping.of(edges))
    clustered = sorted({a for _, _, grouping in groupings.values() for a in grouping.where})
    signatures = await _signatures(redis, tag, clustered)
    unpaired = await coordination.unpaired(redis, tag, window)
    found = []
    for behaviour, (letter, edges, grouping) in groupings.items():
        shown = grouping.ranked()[:top]
        pairs = await _pairs(redis, tag, letter, grouping, shown)
        posts = {}
        for n in shown:
            members = set(grouping.members[n])
            posts[n] = sum(count for account in members for partners, count in signatures[account]
                           if partners.get(letter, set()) & members)  # fmt: skip
        found.append(Summary(Query(behaviour), edges, grouping.clusters(pairs, posts),
                             unpaired[letter]))  # fmt: skip
    inside = {letter: grouping.where.keys() for letter, _, grouping in groupings.values()}
    matched = sum(
        count
        for account in clustered
        for partners, count in signatures[account]
        if any(
            account in inside[letter] and others & inside[letter]
            for letter, others in partners.items()
        )
    )
    return found, matched


async def _signatures(redis: Redis, tag: str, accounts: list[str]) -> dict[str, list[Signature]]:
    """Each account's posts with pairs, grouped by their partners."""
    found: dict[str, list[Signature]] = {}
    listed = await zsets.members(redis, keys.tally(tag, "signatures"), accounts)
    for account, members in zip(accounts, listed, strict=True):
        found[account] = []
        for member in members:
            signature, _, count = text(member)[len(account) + 1 :].rpartition(SEP)
            partners: defaultdict[str, set[str]] = defaultdict(set)
            for token in signature.split("\2"):
                letter, _, other = token.partition("\1")
                partners[letter].add(other)
            found[account].append((dict(partners), int(count)))
    return found


async def _pairs(
    redis: Redis, tag: str, letter: str, grouping: Grouping, shown: list[int]
) -> dict[int, int]:
    """Matching post pairs between members of each cluster shown."""
    accounts = [account for n in shown for account in grouping.members[n]]
    prefixes = [f"{letter}{SEP}{account}" for account in accounts]
    inside = []  # (cluster, link) of the links between two members of one cluster
    for account, links in zip(
        accounts, await zsets.members(redis, keys.tally(tag, "links"), prefixes), strict=True
    ):
        for link in links:
            other = text(link).split(SEP)[2]
            if grouping.where.get(other) == grouping.where[account]:
                inside.append((grouping.where[account], b"l" + SEP.encode() + link))
    names = [name for _, name in inside]
    counts = await redis.hmget(keys.tally(tag, "linked"), names) if names else []
    pairs = dict.fromkeys(shown, 0)
    for (n, _), count in zip(inside, counts, strict=True):
        pairs[n] += int(count or 0)
    return pairs
