"""Copy-paste clusters: one content key posted by at least k distinct accounts in a window.

Unlike co-post there is no time limit between the posts: the same text from many accounts over
days is a copy-paste campaign too. Candidates come from live counts of distinct accounts per
key (over everything retained); each is then counted exactly in the window from the index.
"""

from dataclasses import dataclass
from typing import cast

import orjson
from redis.asyncio import Redis

from monitor import hashed, keys, poststore, zsets
from monitor.models import LAST_MS
from monitor.signals import matching
from monitor.signals.contentkeys import Rule
from monitor.timewindow import Window

_SEP = b"\0"


@dataclass(frozen=True)
class CopyPaste:
    text: str
    accounts: list[str]
    posts: list[str]  # post keys, oldest first
    first_ms: int
    last_ms: int

    @property
    def span_s(self) -> float:
        return (self.last_ms - self.first_ms) / 1000


async def clusters(
    redis: Redis,
    tag: str,
    window: Window,
    rule: Rule = "extended",
    min_accounts: int = 3,
    top: int | None = None,
    everything: bool = False,
) -> list[CopyPaste]:
    """Keys posted by >= min_accounts accounts in the window, most accounts first (then the
    earliest, then by text); the first ``top`` of them when it is given. ``everything``: the
    window holds every retained post, so a key's live count is its count in the window."""
    code = matching.RULE_CODES[rule].encode()
    scored = cast(
        list[tuple[bytes, float]],
        await redis.zrevrangebyscore(keys.cocopies(tag), "+inf", min_accounts, withscores=True),
    )
    counted = [
        (b"p" + key[len(code) :], int(n)) for key, n in scored if key.startswith(code + _SEP)
    ]
    if everything and top is not None and len(counted) > top:
        prefixes = await _contenders(redis, tag, counted, top, code.decode())
    else:
        prefixes = [prefix for prefix, _ in counted]
    bounded = (max(window.start_ms, 0), min(window.end_ms, LAST_MS))
    start, end = (f"{ms:013d}" for ms in bounded)
    kept = []
    for prefix, hits in zip(
        prefixes, await _between(redis, tag, prefixes, start, end), strict=True
    ):
        posts = _posts(hits, len(prefix) + 1, code.decode())
        accounts = sorted({author for _, _, author in posts})
        if len(accounts) >= min_accounts:
            kept.append((posts, accounts))

    def rank(found: tuple[list[tuple[int, str, str]], list[str]]) -> tuple[int, int]:
        posts, accounts = found
        return -len(accounts), posts[0][0]  # most accounts, then the earliest

    kept.sort(key=rank)
    if top is not None and len(kept) > top:  # texts for those shown, and any tied with the last
        kept = kept[:top] + [k for k in kept[top:] if rank(k) == rank(kept[top - 1])]
    firsts = [posts[0][1] for posts, _ in kept]
    features = await hashed.hmget(redis, keys.cofeatures(tag), firsts)
    bodies = await poststore.read(redis, firsts)
    found = [
        CopyPaste(_text(first, raw, bodies, rule), accounts, [post for _, post, _ in posts],
                  posts[0][0], posts[-1][0])
        for (posts, accounts), first, raw in zip(kept, firsts, features, strict=True)
    ]  # fmt: skip
    return sorted(found, key=lambda c: (-len(c.accounts), c.first_ms, c.text))[:top]


def _text(post: str, raw: bytes | None, bodies: dict[str, poststore.Body], rule: Rule) -> str:
    """A post's content key under a rule, from its features and its words."""
    features = matching.said(matching.unpack(raw), bodies.get(post)) if raw else None
    return str((features or {}).get("k", {}).get(rule) or "")


async def _contenders(
    redis: Redis, tag: str, counted: list[tuple[bytes, int]], top: int, code: str
) -> list[bytes]:
    """Of keys ranked by their live counts (most first), those that can be among the first
    ``top``: every key counted more often than the top-th, and of those counted as often, the
    ones whose first post comes early enough. Only their posts are read then."""
    least = counted[top - 1][1]
    above = [prefix for prefix, n in counted if n > least]
    tied = [prefix for prefix, n in counted if n == least]
    firsts = await _firsts(redis, tag, tied)
    earliest = []  # a key's first index entry: when, and whether it holds the rule's text
    for prefix, first in zip(tied, firsts, strict=True):
        if first:  # none: its posts left since the counts were read
            at = len(prefix) + 1
            earliest.append((prefix, int(first[at : at + 13]), bool(_posts([first], at, code))))
    # An entry with the other rule's text only: the key's first post is later, never earlier.
    known = sorted(t for _, t, holds in earliest if holds)
    wanted = top - len(above)
    cutoff = known[wanted - 1] if len(known) >= wanted else None
    return above + [prefix for prefix, t, _ in earliest if cutoff is None or t <= cutoff]


async def _between(
    redis: Redis, tag: str, prefixes: list[bytes], start: str, end: str
) -> list[list[bytes]]:
    """Each key's index members from ``start`` to ``end``, in time order: from its shard, and
    from the whole index of earlier versions while that holds any."""
    found = await zsets.between(redis, keys.coindex(tag), prefixes, start, end, sharded=True)
    if prefixes and await redis.exists(keys.coindex(tag)):
        older = await zsets.between(redis, keys.coindex(tag), prefixes, start, end)
        found = [sorted(new + old) for new, old in zip(found, older, strict=True)]
    return found


async def _firsts(redis: Redis, tag: str, prefixes: list[bytes]) -> list[bytes]:
    """Each key's first index member (b"" for none), from its shard and the whole index."""
    found = await zsets.firsts(redis, keys.coindex(tag), prefixes, sharded=True)
    if prefixes and await redis.exists(keys.coindex(tag)):
        older = await zsets.firsts(redis, keys.coindex(tag), prefixes)
        found = [min(filter(None, pair), default=b"") for pair in zip(found, older, strict=True)]
    return found


def _posts(hits: list[bytes], at: int, code: str) -> list[tuple[int, str, str]]:
    """(time, post, author) of the index hits that hold their key under the rule."""
    found = []
    for hit in hits:
        post, author, flags = orjson.loads(hit[at + 14 :])
        if code in flags:
            found.append((int(hit[at : at + 13]), post, author))
    return found
