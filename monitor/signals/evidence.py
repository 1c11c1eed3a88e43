"""The post pairs behind an edge: what a user checks, and quotes, before publishing a claim.

Each pair is re-checked against the stored keys themselves (not their digests), so a pair is
listed only when the two posts share what the behaviour says they share.
"""

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from monitor import hashed, keys, poststore
from monitor.signals import matching, records
from monitor.signals.coordination import Pair, Query, matching_pairs
from monitor.signals.records import Record
from monitor.timewindow import Window


@dataclass(frozen=True)
class Evidence:
    """Two matching posts, oldest first, and what they share."""

    first: Record
    second: Record
    dt_ms: int
    shared: str  # the content key, the link(s), the post reposted or replied to, or the overlap
    texts: tuple[str, str] | None  # both content keys, for co-similar
    said: tuple[str | None, str | None] = (None, None)  # both posts' words, where stored


async def between(
    redis: Redis, tag: str, query: Query, window: Window, account_a: str, account_b: str
) -> list[Evidence]:
    """Every pair of matching posts by the two accounts (either way round), oldest first."""
    wanted = {account_a, account_b}
    pairs = [
        pair for pair in await matching_pairs(redis, tag, query, window)
        if {pair.a, pair.b} == wanted
    ]  # fmt: skip
    posts = sorted({post for pair in pairs for post in (pair.p, pair.q)})
    if not posts:
        return []
    recs = dict(zip(posts, await hashed.hmget(redis, keys.records(tag), posts), strict=True))
    feats = dict(zip(posts, await hashed.hmget(redis, keys.cofeatures(tag), posts), strict=True))
    bodies = await poststore.read(redis, posts)
    words = {key: body.text for key, body in bodies.items()}
    found = []
    for pair in pairs:
        rec_p, rec_q, feat_p, feat_q = recs[pair.p], recs[pair.q], feats[pair.p], feats[pair.q]
        if rec_p is None or rec_q is None or feat_p is None or feat_q is None:
            continue  # expired between the two reads
        mine = matching.said(matching.unpack(feat_p), bodies.get(pair.p))
        theirs = matching.said(matching.unpack(feat_q), bodies.get(pair.q))
        if mine is None or theirs is None:
            continue  # its words left the post store
        shared = _shared(query, pair, mine, theirs)
        if shared is None:
            continue
        first, second = sorted(
            (records.loads(pair.p, rec_p), records.loads(pair.q, rec_q)),
            key=lambda r: (r.t_ms, r.key),
        )
        texts = None
        if query.behaviour == "co-similar":
            texts = (mine["k"][query.rule], theirs["k"][query.rule])
        said = (words.get(first.key), words.get(second.key))
        found.append(Evidence(first, second, pair.dt_ms, shared, texts, said))
    return sorted(found, key=lambda e: (e.first.t_ms, e.second.t_ms, e.first.key))


def _shared(query: Query, pair: Pair, mine: dict[str, Any], theirs: dict[str, Any]) -> str | None:
    """What the two posts share under the query's behaviour, or None when they do not."""
    rule = query.rule
    if query.behaviour == "co-post":
        key: str = mine["k"][rule]
        return key if key == theirs["k"][rule] else None
    if query.behaviour == "co-link":
        links = [link for link in mine["l"][rule] if link in theirs["l"][rule]]
        return " ".join(links) or None
    if query.behaviour in ("co-repost", "co-reply"):
        ref: str | None = mine.get("r")
        return ref if ref is not None and ref == theirs.get("r") else None
    return (
        f"{pair.shared} of {pair.union} tokens in common (Jaccard {pair.shared / pair.union:.3f})"
    )
