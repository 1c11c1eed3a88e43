"""A watchlist's summary: one row per tag over one window shared by all of them.

The window is anchored at the newest post of any tag on the list (durations count back from it),
so the rows compare the same minutes; each row also gives the change against the window of the
same length just before.
"""

from redis.asyncio import Redis

from monitor import watchlist
from monitor.reports import model
from monitor.reports.build import GENERATED_BY, busiest_minute, display, span
from monitor.signals import people, volume
from monitor.timewindow import Window, iso, resolve


class EmptyList(LookupError):
    """The watchlist does not exist, or none of its tags has data."""


async def list_summary(
    redis: Redis, name: str, since: str | None = "24h", until: str | None = None
) -> model.ListSummary:
    tags = await watchlist.tags(redis, name)
    if not tags:
        known = ", ".join(await watchlist.names(redis)) or "none"
        raise EmptyList(f"no watchlist named {name!r} (lists: {known})")
    spans = [s for tag in tags if (s := await span(redis, tag))]
    if not spans:
        raise EmptyList(f"no posts yet for any tag on watchlist {name!r}")
    window = resolve(since, until, min(s[0] for s in spans), max(s[1] for s in spans))
    rows = [await _row(redis, tag, window) for tag in tags]
    rows.sort(key=lambda row: (-row.posts, row.tag))
    return model.ListSummary(
        watchlist=name, from_=iso(window.start_ms), to=iso(window.end_ms), rows=rows,
        generated_by=GENERATED_BY,
    )  # fmt: skip


async def _row(redis: Redis, tag: str, window: Window) -> model.SummaryRow:
    every = await volume.minutes(redis, tag)  # one read serves both windows
    minutes, before = volume.within(every, window), volume.within(every, window.previous())
    posts = sum(m.posts for m in minutes.values())
    previous = sum(m.posts for m in before.values())
    persons = people.distinct_people(await people.in_window(redis, tag, window))
    return model.SummaryRow(
        tag=tag,
        display=await display(redis, tag),
        posts=posts,
        people=persons,
        posts_per_person=round(posts / persons, 2) if persons else 0.0,
        previous_posts=previous,
        change=round((posts - previous) / previous, 4) if previous else None,
        busiest_minute=busiest_minute(minutes),
    )
