"""Reports kept ready: served only while they equal a fresh build, rebuilt by the reporter role."""

import asyncio

from redis.asyncio import Redis

from monitor import keys, watchlist
from monitor.reports import build, ready
from monitor.reports.ready import Params
from monitor.settings import Settings
from tests.factories import post
from tests.test_aggregator import aggregate, campaign
from workers.reporter import Reporter

TAG = "irgcoutofiraq"


async def test_a_kept_report_is_served_until_the_tag_changes(
    redis: Redis, settings: Settings
) -> None:
    await watchlist.add(redis, "default", [TAG])
    await aggregate(redis, settings, campaign()[:3])
    first = await ready.tag_report(redis, TAG)
    assert first == await build.tag_report(redis, TAG)
    assert await ready.kept(redis, TAG, Params()) == first
    assert await redis.hget(keys.reports(TAG), "revision") == await redis.get(keys.revision(TAG))

    await aggregate(redis, settings, campaign())  # three seen before, post 4 new
    assert await ready.kept(redis, TAG, Params()) is None
    second = await ready.tag_report(redis, TAG)
    assert (first.posts.total, second.posts.total) == (3, 4)
    assert second == await build.tag_report(redis, TAG)

    await aggregate(redis, settings, campaign())  # nothing new: the kept report stands
    assert await ready.kept(redis, TAG, Params()) == second


async def test_expiry_makes_kept_reports_stale(redis: Redis, settings: Settings) -> None:
    settings = settings.model_copy(update={"retention_days": 1.0})
    await watchlist.add(redis, "default", [TAG])
    await aggregate(redis, settings, campaign())
    assert (await ready.tag_report(redis, TAG)).posts.total == 4
    await aggregate(redis, settings, [post("late", "d", ["IRGCOutOfIraq"], at=2 * 86_400)])
    assert await ready.kept(redis, TAG, Params()) is None
    assert (await ready.tag_report(redis, TAG)).posts.total == 1


async def test_each_window_is_kept_apart_and_their_number_is_bounded(
    redis: Redis, settings: Settings
) -> None:
    await watchlist.add(redis, "default", [TAG])
    await aggregate(redis, settings, campaign())
    for minutes in range(1, ready.MAX_KEPT + 10):
        since = f"{minutes}m"
        assert await ready.tag_report(redis, TAG, since) == await build.tag_report(
            redis, TAG, since
        )
    assert await redis.hlen(keys.reports(TAG)) == ready.MAX_KEPT + 1  # and the revision
    first_minute = await ready.tag_report(redis, TAG, until="2019-11-27T12:00:30Z", top=1)
    assert (first_minute.posts.total, len(first_minute.top_accounts)) == (2, 1)
    assert (await ready.tag_report(redis, TAG)).posts.total == 4


async def test_the_reporter_rebuilds_standing_reports_once_per_change(
    redis: Redis, settings: Settings
) -> None:
    settings = settings.model_copy(update={"report_refresh_s": 0.01})
    await watchlist.add(redis, "default", [TAG, "iraq"])
    await aggregate(redis, settings, campaign())
    one, two = Reporter(redis, settings, name="r1"), Reporter(redis, settings, name="r2")
    try:
        await asyncio.gather(one.prepare(), two.prepare())
        built = await asyncio.gather(one.step(), two.step())
        assert sum(built) == 4  # each tag's two standing reports, built by one of the two
        for tag in (TAG, "iraq"):
            for params in ready.STANDING:
                kept = await ready.kept(redis, tag, params)
                assert kept == await build.tag_report(redis, tag, params.since, top=params.top)
        assert await one.step() == 0

        await aggregate(redis, settings, [post("6", "d", ["Iraq"], at=90)])
        assert await two.step() == len(ready.STANDING)
        assert (await ready.kept(redis, "iraq", Params())).posts.total == 3  # type: ignore[union-attr]
    finally:
        await one.close()
        await two.close()
