"""Builds reports from a tag's state: counters for volume, compact records for people and posts."""

import asyncio
from collections import Counter
from collections.abc import Sequence

from redis.asyncio import Redis

from monitor import __version__, keys, watchlist
from monitor.models import KINDS
from monitor.reports import coordination_section, model, said, tallied
from monitor.reports.activity import Activity, FromRecords, FromTallies
from monitor.signals import people, volume
from monitor.signals.records import Record
from monitor.spelling import display as display  # where the API and summaries took it
from monitor.timewindow import MINUTE_MS, Window, iso, resolve

GENERATED_BY = f"hashmon {__version__}"
_BUCKET_MS = {"minute": MINUTE_MS, "hour": 3_600_000, "day": 86_400_000}


class NoData(LookupError):
    """The tag is not watched, or has nothing retained; the message says which."""


async def span(redis: Redis, tag: str) -> tuple[int, int] | None:
    """Oldest and newest retained post times of a tag, or None when it has none."""
    oldest = await redis.zrange(keys.timeline(tag), 0, 0, withscores=True)
    newest = await redis.zrange(keys.timeline(tag), -1, -1, withscores=True)
    return (int(oldest[0][1]), int(newest[0][1])) if oldest and newest else None


async def tag_report(
    redis: Redis, tag: str, since: str | None = None, until: str | None = None, top: int = 10
) -> model.TagReport:
    limits = await span(redis, tag)
    if limits is None:
        watched = await watchlist.watched(redis)
        why = "has no posts yet" if tag in watched else "is not on any watchlist"
        raise NoData(f"#{tag} {why}")
    window = resolve(since, until, *limits)
    bucket = auto_bucket(window)
    everything = window.start_ms <= limits[0] and limits[1] <= window.end_ms
    activity: Activity
    if everything and await tallied.current(redis, tag):
        activity = FromTallies(redis, tag, *await tallied.counts(redis, tag))
        head, coordination = await asyncio.gather(  # the server reads while this parses
            tallied.head(redis, tag, window, bucket, top),
            coordination_section.section(redis, tag, window, limits[0], activity, top, everything),
        )
    else:
        minutes = await volume.minutes(redis, tag, window)
        records = await people.in_window(redis, tag, window)
        head = _head(tag, window, bucket, minutes, records, top)
        activity = FromRecords(records, minutes)
        coordination = await coordination_section.section(
            redis, tag, window, limits[0], activity, top, everything
        )
    head = await said.fill(redis, tag, head)
    total, persons = sum(head.kinds.values()), head.people
    return model.TagReport(
        tag=tag,
        display=await display(redis, tag),
        from_=iso(window.start_ms),
        to=iso(window.end_ms),
        bucket=bucket,
        posts=model.PostCounts(total=total, **{k: head.kinds[k] for k in KINDS}),
        people=persons,
        posts_per_person=round(total / persons, 2) if persons else 0.0,
        platforms=dict(sorted(head.platforms.items())),
        busiest_minute=head.busiest_minute,
        volume=head.volume,
        top_accounts=head.top_accounts,
        top_posts=head.top_posts,
        cohashtags=head.cohashtags,
        parameters=model.Parameters(since=since, until=until, top=top),
        generated_by=GENERATED_BY,
        coordination=coordination,
    )


def _head(
    tag: str,
    window: Window,
    bucket: model.Bucket,
    minutes: dict[int, volume.Minute],
    records: Sequence[Record],
    top: int,
) -> tallied.Head:
    """The figures above the coordination section, from the window's records."""
    kinds, platforms = Counter[str](), Counter[str]()
    for counts in minutes.values():
        kinds.update(counts.kinds)
        platforms.update(counts.platforms)
    newest = _newest(records)
    top_accounts = _top_accounts(records, newest, top)
    return tallied.Head(
        kinds=kinds,
        platforms=platforms,
        people=people.distinct_people(records),
        busiest_minute=busiest_minute(minutes),
        volume=volume_series(window, bucket, minutes, records),
        top_accounts=top_accounts,
        top_posts=_top_posts(records, top),
        cohashtags=_cohashtags(tag, records, top),
        newest_posts={(a.platform, a.id): newest[a.platform, a.id].key for a in top_accounts},
    )


def auto_bucket(window: Window) -> model.Bucket:
    """Minutes up to --since 6h, hours up to 14d; a window holds one minute more than asked."""
    if window.length_ms <= 6 * 3_600_000 + MINUTE_MS:
        return "minute"
    return "hour" if window.length_ms <= 14 * 86_400_000 + MINUTE_MS else "day"


def busiest_minute(minutes: dict[int, volume.Minute]) -> model.BusiestMinute | None:
    if not minutes:
        return None
    minute, counts = min(minutes.items(), key=lambda item: (-item[1].posts, item[0]))
    return model.BusiestMinute(start=iso(minute * MINUTE_MS), posts=counts.posts)


def volume_series(
    window: Window,
    bucket: model.Bucket,
    minutes: dict[int, volume.Minute],
    records: Sequence[Record],
) -> list[model.VolumePoint]:
    """Every bucket of the window, empty ones included, so a chart's gaps are real gaps."""
    size = _BUCKET_MS[bucket]
    first = window.start_ms - window.start_ms % size
    starts = range(first, window.end_ms + 1, size)
    kinds: dict[int, Counter[str]] = {start: Counter() for start in starts}
    for minute, counts in minutes.items():
        kinds[minute * MINUTE_MS - (minute * MINUTE_MS) % size].update(counts.kinds)
    persons: dict[int, set[tuple[str, str]]] = {start: set() for start in starts}
    for record in records:
        persons[record.t_ms - record.t_ms % size].add(people.account(record))
    return [
        model.VolumePoint(start=iso(s), posts=sum(kinds[s].values()), people=len(persons[s]),
                          **{kind: kinds[s][kind] for kind in KINDS})
        for s in starts
    ]  # fmt: skip


def _newest(records: Sequence[Record]) -> dict[tuple[str, str], Record]:
    """Each account's newest post (ties: the greatest key, as the tallies keep it)."""
    return {people.account(r): r for r in sorted(records, key=lambda r: (r.t_ms, r.key))}


def _top_accounts(
    records: Sequence[Record], newest: dict[tuple[str, str], Record], top: int
) -> list[model.TopAccount]:
    return [
        model.TopAccount(id=acct[1], platform=acct[0], handle=newest[acct].handle, posts=n)
        for acct, n in people.accounts_by_posts(records)[:top]
    ]


def _top_posts(records: Sequence[Record], top: int) -> list[model.TopPost]:
    return [
        model.TopPost(
            id=talk.key.split(":", 1)[1],
            platform=talk.key.split(":", 1)[0],
            url=talk.url,
            people_talking=len(talk.people),
            reposts=talk.kinds["repost"],
            quotes=talk.kinds["quote"],
            replies=talk.kinds["reply"],
        )
        for talk in people.talked_about(records)[:top]
    ]


def _cohashtags(tag: str, records: Sequence[Record], top: int) -> list[model.CoHashtag]:
    counts = Counter(other for r in records for other in r.tags if other != tag)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
    return [model.CoHashtag(tag=other, posts=n) for other, n in ranked]
