"""A report's coordination networks read from the pair logs (pairlog.lua): one GET per behaviour
and array arithmetic, where the pairs sets need each pair decoded on its own. The networks are
the ones ``coordination.summaries`` builds from the pairs sets; the tally tests build reports
both ways and compare them.

The logs tell posts and accounts apart by 64-bit digests of their ids. Two of n ids share a
digest with a chance of about n²/2^65: 3 in 100 million for a million posts.
"""

import asyncio
from dataclasses import dataclass
from typing import cast

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray
from redis.asyncio import Redis
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from monitor import keys
from monitor.reports import tallied
from monitor.signals import coordination, matching
from monitor.signals.coordination import BEHAVIOURS, Cluster, Query, Summary, largest_first
from monitor.timewindow import Window

RECORD = np.dtype([
    ("a", "<u8"), ("p", "<u8"), ("b", "<u8"), ("q", "<u8"), ("first", "<f8"), ("dt", "<u4"),
    ("key", "<u8"), ("shared", "<u4"), ("union", "<u4"), ("sign", "<i4"),
])  # fmt: skip
Digests = NDArray[np.uint64]
Ids = NDArray[np.int64]


_MARKS = 1 << 24  # values below this may be made distinct by marking a bool array (16 MB at most)
_SPARSE = 2  # where the range is over this many times the values, sorting them is faster


def _marked(values: Ids, bound: int) -> bool:
    """Whether to find the distinct values by marks over their range rather than by sorting."""
    return bound <= min(_MARKS, _SPARSE * len(values))


def _distinct(values: Ids, bound: int) -> Ids:
    """The distinct values, ascending; each is in [0, bound)."""
    if not _marked(values, bound):
        return np.unique(values, return_counts=True)[0]  # its sorting path: hashing is slower
    marks = np.zeros(bound, bool)
    marks[values] = True
    return np.flatnonzero(marks)


def _counted(values: Ids, bound: int) -> tuple[Ids, Ids]:
    """The distinct values, ascending, and how often each occurs; each is in [0, bound)."""
    if not _marked(values, bound):
        found, counts = np.unique(values, return_counts=True)
        return found, counts.astype(np.int64)
    counts = np.bincount(values, minlength=bound)
    found = np.flatnonzero(counts)
    return found, counts[found]


def _dense(digests: Digests) -> tuple[Digests, Ids]:
    """The distinct digests, sorted, and each digest's place among them. Arrow hashes them, and
    only the distinct ones are sorted: np.unique sorts them all (for 100,000 digests of 7,200
    posts, 1.5 times slower on one two-core machine, 5 times on another)."""
    encoded = pa.array(digests, pa.uint64()).dictionary_encode()
    found = encoded.dictionary.to_numpy()
    order = np.argsort(found)
    place = np.empty(len(order), np.int64)
    place[order] = np.arange(len(order))
    return found[order], place[encoded.indices.to_numpy()]


def _rows(log: NDArray[np.void], fields: tuple[str, ...]) -> NDArray[np.void]:
    """The fields of each record as one value, for np.unique."""
    columns = np.stack([log[name].astype(np.uint64) for name in fields], axis=1)
    return np.ascontiguousarray(columns).view(f"V{8 * len(fields)}").ravel()


@dataclass
class Pairs:
    """Matching pairs (a, p, b, q), with accounts and posts numbered by their places in the
    sorted digests."""

    accounts: Digests
    posts: Digests
    by: Ids  # each post's account
    a: Ids
    p: Ids
    b: Ids
    q: Ids


def pairs_in(raw: bytes, query: Query, window: Window, oldest_ms: int) -> Pairs:
    """The query's pairs in the window, once each, as ``coordination.matching_pairs`` finds them;
    records before the oldest retained post are of expired pairs."""
    log = np.frombuffer(raw, RECORD)
    first, dt = log["first"], log["dt"].astype(np.int64)
    shared, union = log["shared"].astype(np.int64), log["union"].astype(np.int64)
    num, den = query.threshold.numerator, query.threshold.denominator
    kept = (
        (first >= max(window.start_ms, oldest_ms)) & (first + dt <= window.end_ms)
        & (dt <= query.window_s * 1000) & (shared * den >= num * union)
    )  # fmt: skip
    if (log["sign"] < 0).any():  # made, dropped, maybe made again: live if the signs add up
        log = log[kept]
        _, group, inverse = np.unique(
            _rows(log, ("p", "q", "key")), return_index=True, return_inverse=True
        )
        log = log[group[np.bincount(inverse.ravel(), weights=log["sign"]) > 0]]
        kept = np.ones(len(log), bool)
    every = kept.all()  # a window over everything often keeps every record: then no copy
    a, p, b, q = (log[name] if every else log[name][kept] for name in ("a", "p", "b", "q"))
    size = len(p)
    posts, places = _dense(np.concatenate([p, q]))
    author = np.zeros(len(posts), np.uint64)  # a post has one account: number those of posts
    author[places[:size]], author[places[size:]] = a, b
    accounts, by = _dense(author)
    many = max(len(posts), 1)  # a pair found through two keys counts once
    once = _distinct(places[:size] * many + places[size:], many * many)
    p, q = once // many, once % many
    return Pairs(accounts, posts, by, by[p], p, by[q], q)


@dataclass
class Found:
    """One behaviour's network over account numbers: its kept edges and clusters."""

    query: Query
    accounts: Digests
    edges: tuple[Ids, Ids, Ids]  # source, target, weight
    clusters: list[list[int]]
    label: Ids  # each account's cluster (-1: none)
    weight: Ids
    pairs: Ids
    posts: Ids
    inside: Digests  # posts of pairs whose two accounts are in clusters, once each


def network(pairs: Pairs, query: Query) -> Found:
    """Weights, kept edges, clusters and their evidence, as ``coordination.Network`` has them.
    Numbered posts and accounts combine into one int64 key, so that each count is one pass."""
    n, many = max(len(pairs.accounts), 1), max(len(pairs.posts), 1)
    a, b, p, q = pairs.a, pairs.b, pairs.p, pairs.q
    matched = _distinct(np.concatenate([p * n + b, q * n + a]), many * n)  # a post, an account
    # it met; w(a -> b): the distinct posts of a that met b
    edges, weights = _counted(pairs.by[matched // n] * n + matched % n, n * n)
    kept = weights >= query.min_weight
    source, target, weight = edges[kept] // n, edges[kept] % n, weights[kept]
    label, clusters = _components(source, target, n)
    la, lb = label[a], label[b]
    same, inside = (la >= 0) & (la == lb), (la >= 0) & (lb >= 0)
    # a post's cluster is its account's: a cluster's posts are the distinct posts of its pairs
    in_cluster = _distinct(np.concatenate([p[same], q[same]]), many)
    return Found(
        query=query,
        accounts=pairs.accounts,
        edges=(source, target, weight),
        clusters=clusters,
        label=label,
        weight=np.bincount(label[source], weights=weight, minlength=len(clusters)).astype(np.int64),
        pairs=np.bincount(la[same], minlength=len(clusters)),
        posts=np.bincount(label[pairs.by[in_cluster]], minlength=len(clusters)),
        inside=pairs.posts[_distinct(np.concatenate([p[inside], q[inside]]), many)],
    )


def _components(source: Ids, target: Ids, n: int) -> tuple[Ids, list[list[int]]]:
    """The clusters, the connected components of the accounts with ties (undirected), and each
    account's cluster number (-1: it has no tie)."""
    ties = coo_array((np.ones(len(source), np.int8), (source, target)), shape=(n, n))
    _, component = connected_components(ties, directed=False)
    tied = np.zeros(n, bool)
    tied[source], tied[target] = True, True
    members = np.flatnonzero(tied)
    _, number = np.unique(component[members], return_inverse=True)
    label = np.full(n, -1, np.int64)
    label[members] = number
    order = np.argsort(number, kind="stable")  # members of a cluster stay in ascending order
    ends = np.flatnonzero(np.diff(number[order])) + 1
    return label, [c.tolist() for c in np.split(members[order], ends)] if len(members) else []


def _network(raw: bytes, query: Query, window: Window, oldest_ms: int) -> Found:
    return network(pairs_in(raw, query, window, oldest_ms), query)


def summary(found: Found, names: dict[int, str], unpaired: int, listed: int) -> Summary:
    """With the edges of the first ``listed`` clusters: the others' are only counted."""
    digests = found.accounts.tolist()
    named = {m: names[digests[m]] for members in found.clusters for m in members}
    clusters = [
        Cluster(sorted(named[m] for m in members), int(found.weight[n]), int(found.pairs[n]),
                int(found.posts[n]))
        for n, members in enumerate(found.clusters)
    ]  # fmt: skip
    ranked = sorted(range(len(clusters)), key=lambda n: largest_first(clusters[n]))
    place = np.full(len(clusters), -1)  # a listed cluster's place among them
    place[ranked[:listed]] = np.arange(len(ranked[:listed]))
    source, target, weight = found.edges
    at = place[found.label[source]]
    source, target, weight, at = source[at >= 0], target[at >= 0], weight[at >= 0], at[at >= 0]
    rank = np.zeros(len(found.accounts), np.int64)  # of each listed member's name
    members = _distinct(np.concatenate([source, target]), len(rank)).tolist()  # some only targets
    for n, member in enumerate(sorted(members, key=named.__getitem__)):
        rank[member] = n
    order = np.lexsort((rank[target], rank[source], -weight, at))  # heaviest first, then by ids
    name = np.empty(len(rank), object)
    name[list(named)] = list(named.values())
    edges = list(zip(name[source[order]].tolist(), name[target[order]].tolist(), strict=True))
    ends = np.cumsum(np.bincount(at, minlength=len(ranked[:listed]))).tolist()
    ties = [edges[start:end] for start, end in zip([0, *ends], ends, strict=False)]
    return Summary(found.query, len(found.edges[0]), [clusters[n] for n in ranked], ties, unpaired)


async def _names(redis: Redis, tag: str, digests: Digests) -> dict[int, str]:
    wanted = np.unique(digests, return_counts=True)[0].tolist()
    if not wanted:
        return {}
    found = cast(
        list[bytes | None],
        await redis.hmget(keys.tally(tag, "names"), [d.to_bytes(8, "little") for d in wanted]),
    )
    if None in found:
        raise LookupError(f"#{tag}: a logged account has no name; its tallies need a reset")
    return {digest: cast(bytes, name).decode() for digest, name in zip(wanted, found, strict=True)}


async def logs(redis: Redis, tag: str) -> list[bytes] | None:
    """The pair logs, in BEHAVIOURS order; None while they do not hold every pair. One
    transaction: a script would copy them into its own memory first."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hget(keys.tally(tag, "counts"), "level")
        for index in keys.LOGGED:
            pipe.get(keys.tally(tag, f"log:{index}"))
        level, *found = await pipe.execute()
    return [raw or b"" for raw in found] if level == tallied.LEVEL else None


async def summaries(
    redis: Redis, tag: str, window: Window, oldest_ms: int, listed: int
) -> tuple[list[Summary], int]:
    """``coordination.summaries`` from the pair logs, or from the pairs sets while the logs
    catch up."""
    raws, viral = await asyncio.gather(logs(redis, tag), coordination.unpaired(redis, tag, window))
    if raws is None:
        return await coordination.summaries(redis, tag, window, listed, viral)
    queries = [Query(behaviour) for behaviour in BEHAVIOURS]
    found = await asyncio.gather(
        *(  # in threads: numpy's sorts run on several cores at once
            asyncio.to_thread(_network, raw, query, window, oldest_ms)
            for raw, query in zip(raws, queries, strict=True)
        )
    )
    kept = [f.accounts[np.concatenate(f.clusters or [[]]).astype(np.int64)] for f in found]
    names = await _names(redis, tag, np.concatenate([*kept, np.array([], np.uint64)]))
    matched = len(np.unique(np.concatenate([f.inside for f in found]), return_counts=True)[0])
    return [
        summary(f, names, viral[matching.namespace(f.query.index)], listed) for f in found
    ], matched
