"""Report windows and the watchlist summary, on data whose figures are known by hand."""

import pytest
from redis.asyncio import Redis

from monitor import queue, watchlist
from monitor.models import Post
from monitor.reports.build import NoData, tag_report
from monitor.reports.summary import EmptyList, list_summary
from monitor.settings import Settings
from monitor.timewindow import InvalidWindow
from tests.factories import post
from workers.aggregator import Aggregator

HOUR = 3_600


async def load(redis: Redis, settings: Settings, posts: list[Post]) -> None:
    await queue.ensure_group(redis)
    await queue.publish(redis, posts, batch=100)
    await Aggregator(redis, settings, name="agg").run_until_idle()


def two_days() -> list[Post]:
    """Tag a: 2 posts a day earlier, then 6 in the last hour by 3 people; tag b: 1 post."""
    early = [post("e1", "p1", ["a"], at=0), post("e2", "p2", ["a"], at=60)]
    late = [
        post(f"l{i}", f"q{i % 3}", ["a"], at=25 * HOUR + i * 60 + (30 if i == 5 else 0))
        for i in range(6)
    ]
    return [*early, *late, post("b1", "p1", ["b"], at=25 * HOUR)]


async def test_since_counts_back_from_the_newest_post(redis: Redis, settings: Settings) -> None:
    await watchlist.add(redis, "inv", ["a", "b"])
    await load(redis, settings, two_days())
    whole = await tag_report(redis, "a")
    assert (whole.posts.total, whole.people, whole.bucket) == (8, 5, "hour")
    recent = await tag_report(redis, "a", since="1h")
    assert (recent.posts.total, recent.people, recent.bucket) == (6, 3, "minute")
    assert recent.parameters.model_dump() == {"since": "1h", "until": None, "top": 10}
    assert recent.from_ == "2019-11-28T12:05:00Z"  # the minute of newest - 1h
    assert recent.to == "2019-11-28T13:05:59.999Z"
    assert sum(p.posts for p in recent.volume) == 6
    assert len(recent.volume) == 61  # every minute, empty ones included
    assert recent.busiest_minute is not None and recent.busiest_minute.posts == 1
    absolute = await tag_report(redis, "a", since="2019-11-27T12:00:00", until="2019-11-27T13:00Z")
    assert (absolute.posts.total, absolute.people) == (2, 2)


async def test_volume_buckets_hold_people_as_well_as_posts(
    redis: Redis, settings: Settings
) -> None:
    await watchlist.add(redis, "inv", ["a"])
    posts = [post(str(i), "same", ["a"], at=i) for i in range(5)]
    posts += [post("x", "other", ["a"], at=61)]
    await load(redis, settings, posts)
    report = await tag_report(redis, "a")
    assert [(p.posts, p.people) for p in report.volume] == [(5, 1), (1, 1)]


async def test_list_summary_compares_with_the_window_before(
    redis: Redis, settings: Settings
) -> None:
    await watchlist.add(redis, "inv", ["a", "b"])
    await load(redis, settings, two_days())
    summary = await list_summary(redis, "inv", since="25h")
    rows = {row.tag: row for row in summary.rows}
    assert (rows["a"].posts, rows["a"].people, rows["a"].previous_posts) == (6, 3, 2)
    assert rows["a"].change == 2.0  # from 2 to 6
    assert (rows["b"].posts, rows["b"].change) == (1, None)
    assert [row.tag for row in summary.rows] == ["a", "b"]


async def test_missing_data_and_bad_windows_are_named(redis: Redis, settings: Settings) -> None:
    with pytest.raises(NoData, match="#nope is not on any watchlist"):
        await tag_report(redis, "nope")
    await watchlist.add(redis, "inv", ["quiet"])
    with pytest.raises(NoData, match="#quiet has no posts yet"):
        await tag_report(redis, "quiet")
    with pytest.raises(EmptyList, match="no watchlist named 'other'"):
        await list_summary(redis, "other")
    await load(redis, settings, [post("1", "u", ["quiet"]), post("2", "u", ["quiet"], at=3600)])
    with pytest.raises(InvalidWindow, match="invalid time 'yesterday'"):
        await tag_report(redis, "quiet", since="yesterday")
    with pytest.raises(InvalidWindow, match="empty window"):
        await tag_report(redis, "quiet", since="2019-11-27T12:30Z", until="2019-11-27T12:10Z")
    with pytest.raises(InvalidWindow, match="--since 2020-01-02 is after the newest post, 2019-"):
        await tag_report(redis, "quiet", since="2020-01-02")
    with pytest.raises(InvalidWindow, match="--until 2019-01-01 is before the oldest post"):
        await tag_report(redis, "quiet", until="2019-01-01")
