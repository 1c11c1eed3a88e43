"""Finds coordination pairs in the aggregator, where the work grows with the number of processes.

The apply script adds a batch's posts to the tag's index first; this module then reads, for each
of their keys, the posts indexed near them (a read-only script, neighbours.lua),
matches them here, and hands the pairs to a small script (pairs.lua) that keeps each pair once.
Of any two matching posts, the later one indexed reads the index after the other is in it, so
every pair is found by at least one aggregator, however many apply posts of one tag at once; a
pair found twice (by both, or again after a redelivery) is kept once. A key read with more posts
in a bucket than the cap is viral there; it is checked again when a pair is kept, so a key that
turned viral meanwhile pairs nothing (coordinate.lua).
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
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
_READ = (_HERE / "neighbours.lua").read_text()
_KEEP = "".join((_HERE / f"{name}.lua").read_text() for name in ("coordinate", "pairlog", "tally"))
_KEEP += (_HERE / "pairs.lua").read_text()
_RULES = {"t": "toolkit", "e": "extended"}
READS_PER_CALL = 300  # (key, bucket) reads a call: a reply stays a few hundred kB at most
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
    # co-similar candidates by (rule code, p, q), until the other post's tokens are read
    similar: dict[tuple[str, str, str], tuple[Indexed, _Hit]] = field(default_factory=dict)
    # keys read viral, (namespace, digest, flags, bucket) -> [post, time, ...] of the posts there
    viral: dict[tuple[str, str, str, int], list[str | int]] = field(default_factory=dict)


def _hit(member: bytes) -> _Hit:
    post, author, flags = orjson.loads(member[33:])
    return _Hit(post, author, int(member[19:32]), flags)


Wanted = tuple[str, str, int]  # (namespace, key digest, bucket) of an index read


async def _read(
    redis: Redis, wanted: dict[str, list[Wanted]], window_ms: int, cap: int
) -> dict[str, dict[Wanted, _Near]]:
    """The index's posts near each (namespace, key digest, bucket) of each tag: read-only script
    calls (neighbours.lua) in one round trip, where a command a read would cost this process
    some 30 us each."""
    calls, order = [], []
    for tag, reads in wanted.items():
        for start in range(0, len(reads), READS_PER_CALL):
            args: list[object] = [window_ms, cap]
            for namespace, digest, bucket in reads[start : start + READS_PER_CALL]:
                args += [f"{namespace}\0{digest}\0", bucket]
            calls.append(([keys.coindex(tag)], args))
        order += [(tag, read) for read in reads]
    answers = await connection.run_scripts(redis, connection.script(redis, _READ), calls)
    replies = [reply for answer in answers for reply in answer]
    near: dict[str, dict[Wanted, _Near]] = {tag: {} for tag in wanted}
    parsed = dict[bytes, _Hit]()
    for (tag, (ns, digest, bucket)), (counted, *members) in zip(order, replies, strict=True):
        hits = [parsed.get(m) or parsed.setdefault(m, _hit(m)) for m in members]
        buckets = (bucket - 1, bucket, bucket + 1)
        if counted:
            counts = dict(zip(buckets, map(int, counted.split(b",")), strict=True))
        else:
            counts = dict.fromkeys(buckets, 0)
            for hit in hits:
                counts[hit.t_ms // window_ms] += 1
        near[tag][ns, digest, bucket] = _Near(hits, counts)
    return near


def _match(post: Indexed, near: dict[tuple[str, str, int], _Near], window_ms: int, cap: int,
           found: _Found) -> None:  # fmt: skip
    """The pairs of one post with the posts near it on each of its keys; co-similar ones wait
    for the other post's tokens."""
    key, t_ms, author = post.key, post.t_ms, post.features["a"]
    bucket = t_ms // window_ms
    for namespace, digest, flags in post.features["e"]:
        nearby = near[namespace, digest, bucket]
        counts = nearby.counts
        if counts[bucket] > cap:  # viral here: unpaired on it (coordinate.lua)
            found.viral.setdefault((namespace, digest, flags, bucket), []).extend((key, t_ms))
            continue
        for hit in nearby.hits:
            if (hit.post == key or hit.author == author or abs(t_ms - hit.t_ms) > window_ms
                    or counts[hit.t_ms // window_ms] > cap):  # fmt: skip
                continue
            pair = (key, hit.post) if key < hit.post else (hit.post, key)
            for code in flags:
                if code not in hit.flags:
                    continue
                if namespace == "s":
                    found.similar.setdefault((code, *pair), (post, hit))
                elif (namespace + code, *pair, digest) not in found.rows:
                    found.rows[namespace + code, *pair, digest] = [
                        namespace + code, _row(post, hit), [digest]
                    ]  # fmt: skip


def _row(post: Indexed, hit: _Hit) -> list[Any]:
    """[a, p, b, q, dt, key (chosen when kept), earlier time], p < q."""
    mine, theirs = (post.features["a"], post.key), (hit.author, hit.post)
    first, second = (mine, theirs) if post.key < hit.post else (theirs, mine)
    return [*first, *second, abs(post.t_ms - hit.t_ms), "", min(post.t_ms, hit.t_ms)]


def _similar(
    found: _Found, features: dict[str, Features], threshold: Fraction
) -> Iterable[list[Any]]:
    """Co-similar candidates whose token sets are similar enough, each with the prefix tokens
    both posts hold, in the order of the first post's (the one pairs.lua and a purge agree on)."""
    sets: dict[tuple[str, str], set[str]] = {}
    prefixes: dict[tuple[str, str], list[str]] = {}

    def prefixed(post: str, code: str) -> list[str]:
        if (post, code) not in prefixes:
            entries = features[post]["e"]
            prefixes[post, code] = [d for ns, d, f in entries if ns == "s" and code in f]
        return prefixes[post, code]

    for (code, p, q), (post, hit) in found.similar.items():
        theirs = features.get(hit.post)
        if theirs is None:
            continue  # gone since it was read
        rule = _RULES[code]
        mine_tokens = matching.tokens(post.features, rule)
        their_tokens = matching.tokens(theirs, rule)
        mine = sets.get((post.key, rule))
        if mine is None:
            mine = sets[post.key, rule] = set(mine_tokens)
        shared = len(mine.intersection(their_tokens))  # token lists are sets, sorted
        union = len(mine_tokens) + len(their_tokens) - shared
        if shared * threshold.denominator < threshold.numerator * union:
            continue
        held = set(prefixed(q, code))
        both = [digest for digest in prefixed(p, code) if digest in held]
        yield ["s" + code, [*_row(post, hit), shared, union], both]


async def find(
    redis: Redis, posts: Mapping[str, Sequence[Indexed]], window_ms: int, cap: int,
    threshold: Fraction,
) -> dict[str, tuple[list[list[Any]], list[list[Any]]]]:  # fmt: skip
    """The pairs of the posts each tag indexed with every post its index holds near them, within
    ``window_ms`` on keys calm there (at most ``cap`` posts a bucket), co-similar ones at least
    ``threshold`` alike: by tag, [pairs code, row, candidate keys] as pairs.lua keeps them, and
    the keys read viral with the posts there. Every tag's reads share one round trip, and so do
    their co-similar candidates' tokens."""
    wanted = {
        tag: list(dict.fromkeys(
            (namespace, digest, post.t_ms // window_ms)
            for post in indexed for namespace, digest, _flags in post.features["e"]
        ))
        for tag, indexed in posts.items()
    }  # fmt: skip
    reads = {tag: found for tag, found in wanted.items() if found}
    near = await _read(redis, reads, window_ms, cap)
    found = {tag: _Found() for tag in near}
    for tag, nearby in near.items():
        for post in posts[tag]:
            _match(post, nearby, window_ms, cap, found[tag])
    features = {tag: {post.key: post.features for post in posts[tag]} for tag in found}
    others = {
        tag: sorted({hit.post for _, hit in one.similar.values()} - features[tag].keys())
        for tag, one in found.items()
    }
    others = {tag: read for tag, read in others.items() if read}
    async with redis.pipeline(transaction=False) as pipe:
        for tag, read in others.items():
            pipe.hmget(keys.cofeatures(tag), read)
        raws = cast(list[list[bytes | None]], await pipe.execute() if others else [])
    for (tag, read), got in zip(others.items(), raws, strict=True):
        features[tag] |= {k: orjson.loads(raw) for k, raw in zip(read, got, strict=True) if raw}
    rows = {tag: list(one.rows.values()) for tag, one in found.items()}
    for tag, one in found.items():
        rows[tag] += list(_similar(one, features[tag], threshold))
    viral = {tag: [[*key, posts] for key, posts in one.viral.items()] for tag, one in found.items()}
    return {tag: (rows[tag], viral[tag]) for tag in found if rows[tag] or viral[tag]}


def _digest(text: str) -> int:
    """The first 64 bits of the SHA-1 of an id, as the pair logs tell ids apart (pairlog.lua)."""
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "big")


def _records(found: Sequence[list[Any]]) -> bytes:
    """The pair log records of found pairs, but for their key, which pairs.lua chooses."""
    records = np.zeros(len(found), RECORD)
    rows = [row for _code, row, _keys in found]
    digests = {x: _digest(x) for x in {x for row in rows for x in row[:4]}}
    for at, name in enumerate(("a", "p", "b", "q")):
        records[name] = [digests[row[at]] for row in rows]
    records["first"] = [row[6] for row in rows]
    records["dt"] = [row[4] for row in rows]
    records["shared"] = [row[7] if len(row) > 7 else 0 for row in rows]
    records["union"] = [row[8] if len(row) > 7 else 0 for row in rows]
    records["sign"] = 1
    return records.tobytes()


def member(row: Sequence[Any]) -> bytes:
    """A pairs set member, as the apply script's cjson writes it (it escapes '/'), so that a pair
    kept before is found again."""
    return orjson.dumps(row).replace(b"/", b"\\/")


def _pairs(found: Sequence[list[Any]]) -> bytes:
    """Pairs as pairs.lua takes them: code, times, accounts, and each key with its member."""
    return orjson.dumps([
        [code, row[6], row[6] + row[4], row[0], row[2],
         [[digest, member([*row[:5], digest, *row[6:]]).decode()] for digest in digests]]
        for code, row, digests in found
    ])  # fmt: skip


async def keep(
    redis: Redis, per_tag: dict[str, tuple[list[list[Any]], list[list[Any]]]], args: list[Any]
) -> None:
    """Keep each tag's pairs, and its keys read viral (pairs.lua), in one pipelined round trip."""
    calls = []
    for tag, (rows, viral) in per_tag.items():
        for start in range(0, max(len(rows), 1), PAIRS_PER_CALL):
            chunk = rows[start : start + PAIRS_PER_CALL]
            marked = orjson.dumps(viral if start == 0 else [])
            call_args = [*args, _records(chunk), _pairs(chunk), marked]
            calls.append((keys.tag_keys(tag, matching.INDEXES), call_args))
    if calls:
        await connection.run_scripts(redis, connection.script(redis, _KEEP), calls)
