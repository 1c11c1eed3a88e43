"""Finds coordination pairs in the aggregator, where the work grows with the number of processes.

The apply script adds a batch's posts to the tag's index first; this module then reads, for each
of their keys, the posts indexed near them (pipelined range reads),
matches them here, and hands the pairs to a small script (pairs.lua) that keeps each pair once.
Of any two matching posts, the later one indexed reads the index after the other is in it, so
every pair is found by at least one aggregator, however many apply posts of one tag at once; a
pair found twice (by both, or again after a redelivery) is kept once. Viral keys are checked
again when a pair is kept, so a key that turned viral meanwhile pairs nothing (coordinate.lua).
"""

import asyncio
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import numpy as np
import orjson
from redis.asyncio import Redis

from monitor import connection, keys
from monitor.signals import matching
from monitor.signals.matching import Features
from monitor.signals.pairlog import RECORD

_HERE = Path(__file__).parent
_KEEP = "".join((_HERE / f"{name}.lua").read_text() for name in ("coordinate", "pairlog", "tally"))
_KEEP += (_HERE / "pairs.lua").read_text()
_RULES = {"t": "toolkit", "e": "extended"}
PAIRS_PER_CALL = 500


@dataclass(frozen=True, slots=True)
class Indexed:
    """A post the apply script has indexed for one tag: its features as the tag's index holds
    them (with the co-similar prefix entries; see matching.for_tag)."""

    key: str
    t_ms: int
    features: Features


@dataclass(frozen=True, slots=True)
class _Hit:
    post: str
    author: str
    t_ms: int
    flags: str


@dataclass
class _Near:
    """The posts indexed under one key in three buckets, and how many each bucket holds."""

    hits: list[_Hit]
    counts: dict[int, int]


@dataclass
class _Found:
    """Pairs to keep: (pairs code, row, candidate key digests) by row, as pairs.lua takes them."""

    rows: dict[tuple[str, str, str, str], list[Any]] = field(default_factory=dict)
    similar: list[tuple[Indexed, _Hit, str, str]] = field(default_factory=list)


def _hit(member: bytes) -> _Hit:
    post, author, flags = orjson.loads(member[33:])
    return _Hit(post, author, int(member[19:32]), flags)


def _bounds(prefix: str, start_ms: int, end_ms: int) -> tuple[str, str]:
    """The lexical range of the index members under a prefix from one time to another."""
    return f"[{prefix}{max(start_ms, 0):013d}", f"[{prefix}{max(end_ms, 0):013d}\x01"


async def _read(
    redis: Redis, tag: str, wanted: Sequence[tuple[str, str, int]], window_ms: int, cap: int
) -> dict[tuple[str, str, int], _Near]:
    """The index's posts near each (namespace, key digest, bucket): its bucket and the two beside
    it in one bounded read each; where that read is full, each bucket's count, and the posts of
    the buckets within the cap. Plain pipelined reads: Redis does the least work per member."""
    index, limit = keys.coindex(tag), 3 * cap + 3
    pipe = redis.pipeline(transaction=False)
    for namespace, digest, bucket in wanted:
        prefix = f"{namespace}\0{digest}\0"
        low, high = _bounds(prefix, (bucket - 1) * window_ms, (bucket + 2) * window_ms - 1)
        pipe.zrangebylex(index, low, high, 0, limit)
    replies = cast(list[list[bytes]], await pipe.execute())
    near, full = {}, []
    for (namespace, digest, bucket), members in zip(wanted, replies, strict=True):
        if len(members) >= limit:
            full.append((namespace, digest, bucket))
            continue
        counts = dict.fromkeys((bucket - 1, bucket, bucket + 1), 0)
        hits = [_hit(member) for member in members]
        for hit in hits:
            counts[hit.t_ms // window_ms] += 1
        near[namespace, digest, bucket] = _Near(hits, counts)
    for found in full:
        near[found] = await _crowded(redis, index, found, window_ms, cap)
    return near


async def _crowded(
    redis: Redis, index: str, wanted: tuple[str, str, int], window_ms: int, cap: int
) -> _Near:
    """Near posts where one bounded read could not take them all: bucket by bucket."""
    namespace, digest, bucket = wanted
    buckets = (bucket - 1, bucket, bucket + 1)
    ranges = [
        _bounds(f"{namespace}\0{digest}\0", b * window_ms, (b + 1) * window_ms - 1) for b in buckets
    ]
    pipe = redis.pipeline(transaction=False)
    for low, high in ranges:
        pipe.zlexcount(index, low, high)
    counts = dict(zip(buckets, cast(list[int], await pipe.execute()), strict=True))
    for b, (low, high) in zip(buckets, ranges, strict=True):
        if counts[b] <= cap:
            pipe.zrangebylex(index, low, high)
    members = [m for reply in cast(list[list[bytes]], await pipe.execute()) for m in reply]
    return _Near([_hit(member) for member in members], counts)


def _match(post: Indexed, near: dict[tuple[str, str, int], _Near], window_ms: int, cap: int,
           found: _Found) -> None:  # fmt: skip
    """The pairs of one post with the posts near it on each of its keys; co-similar ones wait
    for the other post's tokens."""
    author, bucket = post.features["a"], post.t_ms // window_ms
    for namespace, digest, flags in post.features["e"]:
        nearby = near[namespace, digest, bucket]
        if nearby.counts[bucket] > cap:
            continue  # viral here: counted as unpaired by the apply script
        for hit in nearby.hits:
            if hit.post == post.key or hit.author == author:
                continue
            if abs(post.t_ms - hit.t_ms) > window_ms or nearby.counts[hit.t_ms // window_ms] > cap:
                continue
            for code in flags:
                if code not in hit.flags:
                    continue
                if namespace == "s":
                    found.similar.append((post, hit, code, digest))
                    continue
                row = _row(post, hit)
                found.rows[namespace + code, row[1], row[3], digest] = [
                    namespace + code,
                    row,
                    [digest],
                ]


def _row(post: Indexed, hit: _Hit) -> list[Any]:
    """[a, p, b, q, dt, key (chosen when kept), earlier time], p < q."""
    mine, theirs = (post.features["a"], post.key), (hit.author, hit.post)
    first, second = (mine, theirs) if post.key < hit.post else (theirs, mine)
    return [*first, *second, abs(post.t_ms - hit.t_ms), "", min(post.t_ms, hit.t_ms)]


def _prefixes(features: Features, code: str) -> list[str]:
    return [d for ns, d, flags in features["e"] if ns == "s" and code in flags]


def _similar(
    found: _Found, features: dict[str, Features], threshold: Fraction
) -> Iterable[list[Any]]:
    """Co-similar candidates whose token sets are similar enough, each with the prefix tokens
    both posts hold, in the order of the first post's (the one pairs.lua and a purge agree on)."""
    done = set()
    for post, hit, code, _digest in found.similar:
        theirs = features.get(hit.post)
        pair = (code, *sorted((post.key, hit.post)))
        if theirs is None or pair in done:
            continue  # found through another token, or from the other post
        done.add(pair)
        rule = _RULES[code]
        mine_tokens, their_tokens = post.features["s"][rule], theirs["s"][rule]
        mine = set(mine_tokens)
        shared = sum(1 for token in their_tokens if token in mine)
        union = len(mine_tokens) + len(their_tokens) - shared
        if shared * threshold.denominator < threshold.numerator * union:
            continue
        row = _row(post, hit)
        first, second = (post.features, theirs) if row[1] == post.key else (theirs, post.features)
        held = set(_prefixes(second, code))
        yield ["s" + code, [*row, shared, union], [d for d in _prefixes(first, code) if d in held]]


async def find(
    redis: Redis, tag: str, posts: Sequence[Indexed], window_ms: int, cap: int, threshold: Fraction
) -> list[list[Any]]:
    """The pairs of ``posts`` (indexed for ``tag``) with every post the index holds near them,
    within ``window_ms`` on keys calm there (at most ``cap`` posts a bucket), co-similar ones at
    least ``threshold`` alike: [pairs code, row, candidate keys] as pairs.lua keeps them."""
    wanted = list(
        dict.fromkeys(
            (namespace, digest, post.t_ms // window_ms)
            for post in posts
            for namespace, digest, _flags in post.features["e"]
        )
    )
    if not wanted:
        return []
    near = await _read(redis, tag, wanted, window_ms, cap)
    found = _Found()
    for post in posts:
        _match(post, near, window_ms, cap, found)
    rows = list(found.rows.values())
    if found.similar:
        own = {post.key: post.features for post in posts}
        others = sorted({hit.post for _, hit, _, _ in found.similar} - own.keys())
        read = redis.hmget(keys.cofeatures(tag), others) if others else asyncio.sleep(0, [])
        raws = cast(list[bytes | None], await read)
        features = own | {k: orjson.loads(raw) for k, raw in zip(others, raws, strict=True) if raw}
        rows += list(_similar(found, features, threshold))
    return rows


def _digest(text: str) -> int:
    """The first 64 bits of the SHA-1 of an id, as the pair logs tell ids apart (pairlog.lua)."""
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "big")


def _records(found: Sequence[list[Any]]) -> bytes:
    """The pair log records of found pairs, but for their key, which pairs.lua chooses."""
    records = np.zeros(len(found), RECORD)
    digests: dict[str, int] = {}
    for at, (_code, row, _keys) in enumerate(found):
        a, p, b, q = (digests.get(x) or digests.setdefault(x, _digest(x)) for x in row[:4])
        shared, union = row[7:9] if len(row) > 7 else (0, 0)
        records[at] = (a, p, b, q, row[6], row[4], 0, shared, union, 1)
    return records.tobytes()


async def keep(redis: Redis, per_tag: dict[str, list[list[Any]]], args: list[Any]) -> None:
    """Keep each tag's pairs (pairs.lua), in one pipelined round trip."""
    calls = []
    for tag, rows in per_tag.items():
        for start in range(0, len(rows), PAIRS_PER_CALL):
            chunk = rows[start : start + PAIRS_PER_CALL]
            call_args = [*args, orjson.dumps(chunk), _records(chunk)]
            calls.append((keys.tag_keys(tag, matching.INDEXES), call_args))
    if calls:
        await connection.run_scripts(redis, connection.script(redis, _KEEP), calls)
