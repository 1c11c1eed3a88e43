"""Aggregation against a real Redis: exactly-once effect, retention, and counters that agree."""

from collections import Counter

from redis.asyncio import Redis

from monitor import hashed, keys, queue, watchlist
from monitor.models import Post
from monitor.reports import tallied
from monitor.reports.build import tag_report
from monitor.settings import Settings
from monitor.signals import catchup, people, volume
from monitor.signals.apply import Limits, apply
from monitor.timewindow import Window
from tests import coindex
from tests.factories import arrivals, post
from workers.aggregator import Aggregator

DAY_MS = 86_400_000


def campaign() -> list[Post]:
    """Three accounts, one original reposted and replied to, tags in two spellings."""
    return [
        post("1", "a", ["IRGCOutOfIraq", "Iraq"], at=0),
        post("2", "b", ["IRGCOutOfIraq"], kind="repost", ref="1", ref_author="a", at=30),
        post("3", "c", ["irgcoutofiraq"], kind="reply", ref="1", ref_author="a", at=65),
        post("4", "a", ["IRGCOutOfIraq"], kind="reply", ref="1", ref_author="a", at=70),
        post("5", "c", ["Iraq"], at=80),
    ]


async def aggregate(redis: Redis, settings: Settings, posts: list[Post], batch: int = 2) -> None:
    await queue.ensure_group(redis)
    await queue.publish(redis, posts, batch=batch)
    await Aggregator(redis, settings, name="agg").run_until_idle()


async def test_counts_are_exact_and_split_by_kind(redis: Redis, settings: Settings) -> None:
    await watchlist.add(redis, "default", ["irgcoutofiraq"])
    await aggregate(redis, settings, campaign())
    report = await tag_report(redis, "irgcoutofiraq")
    assert report.posts.model_dump() == {
        "total": 4, "original": 1, "repost": 1, "quote": 0, "reply": 2,
    }  # fmt: skip
    assert report.people == 3
    assert report.display == "#IRGCOutOfIraq"  # 3 of 4 posts spell it so
    assert report.platforms == {"x": 4}
    talk = report.top_posts[0]
    assert (talk.id, talk.people_talking, talk.reposts, talk.replies) == ("1", 2, 1, 2)
    assert [(a.id, a.posts) for a in report.top_accounts] == [("a", 2), ("b", 1), ("c", 1)]
    assert [(c.tag, c.posts) for c in report.cohashtags] == [("iraq", 1)]
    assert await redis.zcard(keys.timeline("iraq")) == 0  # not watched: no state kept


async def test_same_posts_again_change_nothing(redis: Redis, settings: Settings) -> None:
    await watchlist.add(redis, "default", ["irgcoutofiraq", "iraq"])
    await aggregate(redis, settings, campaign())
    first = await tag_report(redis, "irgcoutofiraq")
    await aggregate(redis, settings, campaign() + campaign(), batch=3)
    assert await tag_report(redis, "irgcoutofiraq") == first
    assert (await tag_report(redis, "iraq")).posts.total == 2


async def test_redelivery_after_a_half_applied_batch_applies_only_the_rest(
    redis: Redis, settings: Settings
) -> None:
    posts = campaign()
    await apply(
        redis, [(None, arrivals(posts[:2]))], {"irgcoutofiraq"}, Limits(30 * DAY_MS)
    )  # crash
    outcome = await apply(redis, [("run", arrivals(posts))], {"irgcoutofiraq"}, Limits(30 * DAY_MS))
    assert outcome.by_run["run"] == Counter(new=2, duplicate=2, unwatched=1)
    minutes = await volume.minutes(redis, "irgcoutofiraq")
    assert sum(m.posts for m in minutes.values()) == 4


async def test_retention_counts_back_from_the_newest_post(redis: Redis, settings: Settings) -> None:
    settings = settings.model_copy(update={"retention_days": 1.0})
    await watchlist.add(redis, "default", ["t"])
    old = [post(str(i), f"u{i}", ["t"], at=i) for i in range(3)]  # years ago, still kept
    await aggregate(redis, settings, old)
    assert (await tag_report(redis, "t")).posts.total == 3
    newer = [post("10", "u10", ["t"], at=86_400 + 1.5), post("11", "u11", ["t"], at=86_400 + 2)]
    await aggregate(redis, settings, newer)
    report = await tag_report(redis, "t")
    assert report.posts.total == 3  # posts at 0 s and 1 s fell out: 1 day back from 1 d 2 s
    assert report.people == 3
    assert len([field async for field, _ in hashed.items(redis, keys.records("t"))]) == 3
    late = [post("0b", "x", ["t"], at=0.1)]  # arrives after retention moved past it
    await aggregate(redis, settings, late)
    assert (await tag_report(redis, "t")).posts.total == 3


async def test_records_kept_whole_by_earlier_versions_are_read_until_retention_empties_it(
    redis: Redis, settings: Settings
) -> None:
    """Reports from records, the tallies' catch-up and retention read the one hash earlier
    versions kept a tag's records in, beside the shards this one writes."""
    settings = settings.model_copy(update={"retention_days": 1.0})
    await watchlist.add(redis, "default", ["t"])
    await aggregate(redis, settings, [post(str(i), f"u{i}", ["t"], at=i) for i in range(3)])
    assert len(await coindex.hash_to_whole(redis, keys.records("t"))) == 3
    await redis.hset(keys.tally("t", "counts"), "level", "4")  # counted in again, from records
    await aggregate(redis, settings, [post("3", "u3", ["t"], at=3)])
    while not await catchup.step(redis, "t"):
        pass
    assert await tallied.current(redis, "t")
    assert (await tag_report(redis, "t")).people == 4  # from the tallies
    in_window = await people.in_window(redis, "t", Window(0, 10**13))  # from the records
    assert [record.key for record in in_window] == [f"x:{i}" for i in range(4)]
    await aggregate(redis, settings, [post("9", "u9", ["t"], at=86_400 + 5)])
    assert not await redis.exists(keys.records("t"))
    assert [field async for field, _ in hashed.items(redis, keys.records("t"))] == [b"x:9"]
    assert (await tag_report(redis, "t")).people == 1


async def test_volume_counters_agree_with_records(redis: Redis, settings: Settings) -> None:
    await watchlist.add(redis, "default", ["t"])
    posts = [
        post(str(i), f"u{i % 7}", ["t"], kind=("original", "repost")[i % 2], at=i * 17,
             ref="r" if i % 2 else None, platform=("x", "mastodon")[i % 3 == 0])
        for i in range(200)
    ]  # fmt: skip
    await aggregate(redis, settings, posts, batch=33)
    whole = Window(0, 2**62)
    minutes = await volume.minutes(redis, "t", whole)
    records = await people.in_window(redis, "t", whole)
    by_minute = Counter(r.minute for r in records)
    assert {m: c.posts for m, c in minutes.items()} == dict(by_minute)
    platforms = Counter(r.platform for r in records)
    assert sum((c.platforms for c in minutes.values()), Counter()) == platforms


async def test_tag_added_later_is_followed_without_restart(
    redis: Redis, settings: Settings
) -> None:
    await queue.ensure_group(redis)
    aggregator = Aggregator(redis, settings, name="long-lived")
    await queue.publish(redis, [post("1", "a", ["late"])], batch=10)
    await aggregator.run_until_idle()
    await watchlist.add(redis, "default", ["late"])
    await queue.publish(redis, [post("2", "a", ["late"])], batch=10)
    await aggregator.run_until_idle()
    assert await redis.zrange(keys.timeline("late"), 0, -1) == [b"x:2"]
