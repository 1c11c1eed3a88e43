"""The report's figures read from the tallies the apply script keeps (monitor/signals/tally.lua),
for a window that holds everything a tag retains: a few hundred fields instead of every record.

The figures are the ones the records give (tests build both ways and compare). A tag whose posts
arrived before its tallies is reported from its records until the aggregators have counted them
in (monitor.signals.catchup).
"""

from asyncio import TaskGroup
from collections import Counter
from dataclasses import dataclass, field
from typing import cast

import orjson
from redis.asyncio import Redis

from monitor import hashed, keys
from monitor.connection import text
from monitor.models import KINDS
from monitor.reports import model
from monitor.signals.records import loads
from monitor.timewindow import Window, iso

LEVEL = b"5"  # tally.lua's TALLY_LEVEL
SEP = "\0"
_SIZE = {"minute": ("m", 60_000), "hour": ("h", 3_600_000), "day": ("d", 86_400_000)}


@dataclass(frozen=True)
class Head:
    """The report's figures above its coordination section."""

    kinds: Counter[str]
    platforms: Counter[str]
    people: int
    busiest_minute: model.BusiestMinute | None
    volume: list[model.VolumePoint]
    top_accounts: list[model.TopAccount]
    top_posts: list[model.TopPost]
    cohashtags: list[model.CoHashtag]
    newest_posts: dict[tuple[str, str], str] = field(default_factory=dict)  # top account -> key


async def current(redis: Redis, tag: str) -> bool:
    """Whether the tag's tallies hold everything it retains, at this level."""
    return bool(await redis.hget(keys.tally(tag, "counts"), "level") == LEVEL)


async def counts(redis: Redis, tag: str) -> tuple[int, int]:
    """Posts and people."""
    kinds, _ = await _totals(redis, tag)
    return sum(kinds.values()), await _people(redis, tag)


async def _people(redis: Redis, tag: str) -> int:
    return await redis.zcard(keys.tally(tag, "accounts"))


async def _totals(redis: Redis, tag: str) -> tuple[Counter[str], Counter[str]]:
    """Posts by kind and by platform."""
    kinds, platforms = Counter[str](), Counter[str]()
    for raw, posts in (await redis.hgetall(keys.tally(tag, "totals"))).items():
        name = text(raw)
        if name.startswith("@"):
            platforms[name[1:]] = int(posts)
        else:
            kinds[name] = int(posts)
    return kinds, platforms


async def head(redis: Redis, tag: str, window: Window, bucket: model.Bucket, top: int) -> Head:
    async with TaskGroup() as reads:  # the server reads while this parses
        totals = reads.create_task(_totals(redis, tag))
        cotags = reads.create_task(_ranked(redis, keys.tally(tag, "cotags"), top))
        people = reads.create_task(_people(redis, tag))
        busiest = reads.create_task(_busiest(redis, tag))
        volume = reads.create_task(_volume(redis, tag, window, bucket))
        top_accounts = reads.create_task(_top_accounts(redis, tag, top))
        top_posts = reads.create_task(_top_posts(redis, tag, top))
    kinds, platforms = totals.result()
    return Head(
        kinds=kinds,
        platforms=platforms,
        people=people.result(),
        busiest_minute=busiest.result(),
        volume=volume.result(),
        top_accounts=[account for account, _ in top_accounts.result()],
        top_posts=top_posts.result(),
        cohashtags=[model.CoHashtag(tag=text(o), posts=-int(n)) for o, n in cotags.result()],
        newest_posts={(a.platform, a.id): key for a, key in top_accounts.result() if key},
    )


async def _ranked(redis: Redis, key: str, top: int) -> list[tuple[bytes, float]]:
    """The first ``top`` members of a tally scored by minus a count: the largest counts first."""
    return cast(list[tuple[bytes, float]], await redis.zrange(key, 0, top - 1, withscores=True))


async def _busiest(redis: Redis, tag: str) -> model.BusiestMinute | None:
    found = await _ranked(redis, keys.tally(tag, "minutes"), 1)
    if not found:
        return None
    minute, score = found[0]
    return model.BusiestMinute(start=iso(int(minute) * 60_000), posts=-int(score))


async def _volume(
    redis: Redis, tag: str, window: Window, bucket: model.Bucket
) -> list[model.VolumePoint]:
    """Every bucket of the window, empty ones included (as build.volume_series)."""
    size, ms = _SIZE[bucket]
    numbers = range(window.start_ms // ms, window.end_ms // ms + 1)
    counts = keys.tally(tag, "counts")
    people = cast(
        list[bytes | None], await redis.hmget(counts, [f"n{SEP}{size}{SEP}{n}" for n in numbers])
    )
    if size == "m":  # minutes by kind are the volume hash's own fields
        names, where = [f"{n}:{kind}" for n in numbers for kind in KINDS], keys.volume(tag)
    else:
        names = [f"v{SEP}{size}{SEP}{n}{SEP}{kind}" for n in numbers for kind in KINDS]
        where = counts
    by_kind = iter(cast(list[bytes | None], await redis.hmget(where, names)))
    points = []
    for n, persons in zip(numbers, people, strict=True):
        posts = {kind: int(next(by_kind) or 0) for kind in KINDS}
        points.append(model.VolumePoint(start=iso(n * ms), posts=sum(posts.values()),
                                        people=int(persons or 0), **posts))  # fmt: skip
    return points


async def _top_accounts(
    redis: Redis, tag: str, top: int
) -> list[tuple[model.TopAccount, str | None]]:
    """The most active accounts, each with the key of its newest post."""
    ranked = await _ranked(redis, keys.tally(tag, "accounts"), top)
    if not ranked:
        return []
    latest = await redis.hmget(keys.tally(tag, "counts"), [b"h\0" + acct for acct, _ in ranked])
    found = []
    for (acct, score), raw in zip(ranked, latest, strict=True):
        platform, _, author = text(acct).partition(SEP)
        post, handle = orjson.loads(raw)[1:3] if raw else (None, None)
        found.append((model.TopAccount(id=author, platform=platform, handle=handle,
                                       posts=-int(score)), post))  # fmt: skip
    return found


async def _top_posts(redis: Redis, tag: str, top: int) -> list[model.TopPost]:
    ranked = await _ranked(redis, keys.tally(tag, "talk"), top)
    if not ranked:
        return []
    refs = [text(ref) for ref, _ in ranked]
    own = await hashed.hmget(redis, keys.records(tag), refs)
    counts, pipe = keys.tally(tag, "counts"), redis.pipeline(transaction=False)
    for ref in refs:
        pipe.hmget(counts, [f"k{SEP}{ref}{SEP}{kind}" for kind in ("repost", "quote", "reply")])
        pipe.zrange(keys.tally(tag, "urls"), f"[{ref}{SEP}", f"[{ref}\1", bylex=True, offset=0,
                    num=1)  # fmt: skip
    answers = await pipe.execute()
    found = []
    for n, (ref, score) in enumerate(zip(refs, (s for _, s in ranked), strict=True)):
        kinds, given = answers[2 * n], answers[2 * n + 1]
        record = own[n]
        url = loads(ref, record).url if record else None
        platform, _, post_id = ref.partition(":")
        found.append(model.TopPost(
            id=post_id, platform=platform,
            url=url or (text(given[0]).partition(SEP)[2] if given else None),
            people_talking=-int(score),
            reposts=int(kinds[0] or 0), quotes=int(kinds[1] or 0), replies=int(kinds[2] or 0),
        ))  # fmt: skip
    return found
