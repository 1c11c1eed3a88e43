"""Copy-paste clusters: one content key posted by at least k distinct accounts in a window.

Unlike co-post there is no time limit between the posts: the same text from many accounts over
days is a copy-paste campaign too. Candidates come from live counts of distinct accounts per
key (over everything retained); each is then counted exactly in the window from the index.
"""

from dataclasses import dataclass
from typing import cast

import orjson
from redis.asyncio import Redis

from monitor import keys, zsets
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
) -> list[CopyPaste]:
    """Keys posted by >= min_accounts accounts in the window, most accounts first (then the
    earliest, then by text); the first ``top`` of them when it is given."""
    code = matching.RULE_CODES[rule].encode()
    scored = cast(list[bytes], await redis.zrangebyscore(keys.cocopies(tag), min_accounts, "+inf"))
    prefixes = [b"p" + key[len(code) :] for key in scored if key.startswith(code + _SEP)]
    start, end = (f"{ms:013d}" for ms in (window.start_ms, window.end_ms))
    kept = []
    for prefix, hits in zip(
        prefixes, await zsets.between(redis, keys.coindex(tag), prefixes, start, end), strict=True
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
    features = (
        await redis.hmget(keys.cofeatures(tag), [posts[0][1] for posts, _ in kept]) if kept else []
    )
    found = [
        CopyPaste(orjson.loads(raw)["k"][rule] if raw else "", accounts,
                  [post for _, post, _ in posts], posts[0][0], posts[-1][0])
        for (posts, accounts), raw in zip(kept, features, strict=True)
    ]  # fmt: skip
    return sorted(found, key=lambda c: (-len(c.accounts), c.first_ms, c.text))[:top]


def _posts(hits: list[bytes], at: int, code: str) -> list[tuple[int, str, str]]:
    """(time, post, author) of the index hits that hold their key under the rule."""
    found = []
    for hit in hits:
        post, author, flags = orjson.loads(hit[at + 14 :])
        if code in flags:
            found.append((int(hit[at : at + 13]), post, author))
    return found
