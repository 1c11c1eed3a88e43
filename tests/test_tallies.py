"""Tallies: a report over everything a tag retains, read from what the apply script keeps, equals
the same report built from the tag's records, however the posts arrive and leave."""

import asyncio
import contextlib
import itertools
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import cast

import orjson
import pytest
from redis.asyncio import Redis

from monitor import keys, watchlist
from monitor.importers.canonical import parse_line
from monitor.models import Post
from monitor.reports import build, model, tallied
from monitor.reports.activity import FromRecords, FromTallies
from monitor.settings import Settings
from monitor.signals import bursts, catchup, coordination, matching, pairlog, people, volume
from monitor.signals.apply import Limits, apply
from monitor.timewindow import Window
from tests import bench_coordination as bench
from tests import coindex
from tests.factories import arrivals
from tests.test_aggregator import aggregate
from workers.aggregator import Aggregator

SAMPLE = Path(__file__).parent.parent / "seeds" / "sample-campaign.jsonl"
TAGS = ["irgcoutofiraq", "iraq", "blacklistmois"]
RENAMED = "renamed_lately"
WINDOWS = [(None, None), ("30d", None), ("20d", None)]  # all retained; clipped to what is


def sample() -> list[Post]:
    """The sample campaign, where its most active account renamed itself for its newest post
    (so that the handle shown is the newest, whatever order posts arrive in), and #iraq has one
    post 20 days before the rest (so that what it retains is read in day buckets, the other
    tags' in hours)."""
    posts = [parse_line(line) for line in SAMPLE.read_bytes().splitlines()]
    busiest = Counter(p.author_id for p in posts if "irgcoutofiraq" in p.tags).most_common(1)[0][0]
    newest = max((p for p in posts if p.author_id == busiest), key=lambda p: p.created_at)
    renamed = newest.model_copy(update={"author_handle": RENAMED})
    oldest = min(posts, key=lambda p: p.created_at)
    at = oldest.created_at - timedelta(days=20)
    early = oldest.model_copy(update={"id": "early", "created_at": at, "hashtags": ["iraq"],
                                      "kind": "original", "text": "#iraq", "links": [],
                                      "referenced_id": None})  # fmt: skip
    return [renamed if p is newest else p for p in posts] + [early]


@contextlib.asynccontextmanager
async def records_only(redis: Redis, tag: str) -> AsyncIterator[None]:
    """Reports built in the block read every record, as for a tag without tallies."""
    counts = keys.tally(tag, "counts")
    level = await redis.hget(counts, "level")
    await redis.hdel(counts, "level")
    try:
        yield
    finally:
        if level is not None:
            await redis.hset(counts, "level", level)


async def from_records(redis: Redis, tag: str, since: str | None) -> model.TagReport:
    async with records_only(redis, tag):
        return await build.tag_report(redis, tag, since, top=25)


async def post_times(redis: Redis, tag: str) -> list[bytes]:
    """Every member of the tag's 'times' tally, from its shards; each in the shard of its
    account id."""
    found = []
    async for shard in redis.scan_iter(match=f"{keys.tally(tag, 'times')}:*", count=1_000):
        for member in cast(list[bytes], await redis.zrange(shard, 0, -1)):
            assert shard.decode() == keys.tally_times(tag, member.split(b"\0")[0].decode())
            found.append(member)
    return found


async def assert_tallies_agree(redis: Redis, buckets: set[str] | None = None) -> None:
    for tag in TAGS:
        assert await tallied.current(redis, tag), tag
        retained = await redis.zcard(keys.timeline(tag))
        assert not await redis.exists(keys.tally(tag, "times"))  # kept whole before level 5
        assert len(await post_times(redis, tag)) == retained  # each post once
        for since, _ in WINDOWS:
            report = await build.tag_report(redis, tag, since, top=25)
            assert report == await from_records(redis, tag, since), (tag, since)
            if buckets is not None:
                buckets.add(report.bucket)


async def test_tallies_agree_with_records_whatever_the_arrival_order(
    redis: Redis, settings: Settings
) -> None:
    await watchlist.add(redis, "default", TAGS)
    posts = sample()
    random.Random(7).shuffle(posts)
    await aggregate(redis, settings, posts[:2000], batch=97)
    await aggregate(redis, settings, posts[1000:], batch=250)  # a third of them again
    buckets: set[str] = set()
    await assert_tallies_agree(redis, buckets)
    assert buckets == {"hour", "day"}
    report = await build.tag_report(redis, "irgcoutofiraq")
    assert report.posts.total == await redis.zcard(keys.timeline("irgcoutofiraq"))
    assert report.top_posts[0].people_talking > 1 and report.cohashtags
    assert report.top_accounts[0].handle == RENAMED
    assert report.coordination is not None and report.coordination.bursts


async def test_tallies_follow_retention_as_posts_leave(redis: Redis, settings: Settings) -> None:
    settings = settings.model_copy(update={"retention_days": 0.2})  # under the 6 h of minutes
    await watchlist.add(redis, "default", TAGS)
    posts = sorted(sample(), key=lambda p: p.created_at)
    buckets: set[str] = set()
    for start in range(0, len(posts), 600):
        late = posts[start : start + 600]
        await aggregate(redis, settings, late[::-1], batch=53)
        await assert_tallies_agree(redis, buckets)
    assert "minute" in buckets
    report = await build.tag_report(redis, "irgcoutofiraq")
    assert 0 < report.posts.total < sum("irgcoutofiraq" in p.tags for p in posts)


async def tallies(tag: str, redis: Redis) -> dict[str, object]:
    """What each tally key holds."""
    found: dict[str, object] = {}
    for what in keys.TALLIES:
        key = keys.tally(tag, what)
        kind = await redis.type(key)
        if kind == b"hash":
            found[what] = await redis.hgetall(key)
        elif kind == b"string":
            found[what] = await redis.get(key)
        else:
            found[what] = await redis.zrange(key, 0, -1, withscores=True)
    return found


async def applied(redis: Redis, settings: Settings, posts: list[Post], batch: int) -> None:
    """Posts applied as an aggregator does, without its other work (it also catches up)."""
    for start in range(0, len(posts), batch):
        chunk = [(None, arrivals(posts[start : start + batch]))]
        await apply(redis, chunk, set(TAGS), Limits.of(settings))


@pytest.mark.parametrize("missing", ["level", "older level"])
async def test_a_tag_without_current_tallies_is_reported_from_records(
    redis: Redis, settings: Settings, missing: str
) -> None:
    """As a tag whose posts arrived before tallies (or before this level of them) is."""
    await watchlist.add(redis, "default", TAGS)
    posts = sorted(sample(), key=lambda p: p.created_at)
    await applied(redis, settings, posts[:1500], batch=100)
    counts = keys.tally("irgcoutofiraq", "counts")
    if missing == "level":
        await redis.hdel(counts, "level")
    else:
        await redis.hset(counts, "level", "0")
    before = await tallies("irgcoutofiraq", redis)
    await applied(redis, settings, posts[1500:], batch=100)
    assert not await tallied.current(redis, "irgcoutofiraq")
    assert await tallies("irgcoutofiraq", redis) == before  # left as they were: not counted on
    report = await build.tag_report(redis, "irgcoutofiraq")
    assert report.posts.total == await redis.zcard(keys.timeline("irgcoutofiraq")) > 1500 // 3
    await redis.hset(counts, "level", tallied.LEVEL)  # the stale tallies give other figures
    assert await build.tag_report(redis, "irgcoutofiraq") != report


@pytest.mark.parametrize("chunk", [37, 5])  # 5: fewer than the pairs sharing one score
async def test_tallies_catch_up_with_posts_from_before_them_while_posts_come_and_go(
    redis: Redis, settings: Settings, chunk: int
) -> None:
    settings = settings.model_copy(update={"retention_days": 1.5})
    await watchlist.add(redis, "default", TAGS)
    posts = sorted(sample(), key=lambda p: p.created_at)
    await applied(redis, settings, posts[:1500], batch=100)
    for tag in TAGS:  # as a tag whose posts came before tallies has none
        await redis.delete(*(keys.tally(tag, what) for what in keys.TALLIES))
    late = posts[1500:]
    random.Random(3).shuffle(late)  # older and newer than the catch-up's mark, some expiring
    steps, while_pairs_convert = 0, 0
    counts = keys.tally("irgcoutofiraq", "counts")
    while not all([await catchup.step(redis, tag, chunk=chunk) for tag in TAGS]):
        steps += 1
        arriving = late[steps * 12 : (steps + 1) * 12]
        while_pairs_convert += bool(arriving and await redis.hget(counts, "logs"))
        await applied(redis, settings, arriving, batch=5)
    assert steps > 5 and not await tallied.current(redis, "blacklistirgc")  # not watched
    assert while_pairs_convert > 3 or chunk == 5
    await applied(redis, settings, late[(steps + 1) * 12 :], batch=50)
    await assert_tallies_agree(redis)


async def test_aggregators_bring_tallies_up_to_date_by_themselves(
    redis: Redis, settings: Settings
) -> None:
    await watchlist.add(redis, "default", TAGS)
    await aggregate(redis, settings, sample()[:1000], batch=100)
    await redis.hset(keys.tally("iraq", "counts"), "level", "4")  # another level's tallies,
    await redis.zadd(keys.tally("iraq", "times"), {"a\0x\00000000000001\0x:1": 0})  # times whole
    await redis.delete(keys.tally("irgcoutofiraq", "counts"))  # or none
    assert not await tallied.current(redis, "iraq")
    later = Aggregator(redis, settings, name="later")
    running = asyncio.create_task(later.run())  # catches up a share of each second
    while not all([await tallied.current(redis, tag) for tag in TAGS]):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    later.stopping.set()
    await running
    await assert_tallies_agree(redis)


async def test_the_minute_series_follows_posts_from_months_apart(
    redis: Redis, settings: Settings
) -> None:
    """The series starts before the oldest minute counted, and moves when older posts arrive
    and when retention drops weeks of minutes."""
    settings = settings.model_copy(update={"retention_days": 40})
    tag = bench.TAG.casefold()
    await watchlist.add(redis, "default", [tag])
    batches = [
        list(bench.generate(1500, seed=seed, start=bench.START + timedelta(days=days),
                            first_id=seed * 10_000, cells=2))
        for seed, days in ((1, 0), (2, -25), (3, 30))
    ]  # fmt: skip
    for batch, retained in zip(batches, (1, 2, 2), strict=True):
        await aggregate(redis, settings, batch, batch=100)
        first = (await build.span(redis, tag) or (0, 0))[0] // 60_000
        window = Window(0, 2**42)
        kept = await FromTallies(redis, tag, 0, 0).series(first)
        async with records_only(redis, tag):
            minutes = await volume.minutes(redis, tag, window)
            records = await people.in_window(redis, tag, window)
        counted = await FromRecords(records, minutes).series(first)
        assert len(records) == retained * 1500
        assert kept.first == counted.first and len(kept.posts) == len(counted.posts) > 10_000
        assert (kept.posts == counted.posts).all() and (kept.people == counted.people).all()
        assert bursts.bursts(kept), "the planted cells burst"
        assert await build.tag_report(redis, tag, top=25) == await from_records(redis, tag, None)


async def assert_logs_agree(redis: Redis, tag: str) -> None:
    """The networks from the pair logs are those from the pairs sets, over all a tag retains
    and over its last six hours."""
    oldest, newest = await build.span(redis, tag) or (0, 0)
    for window in (Window(oldest, newest), Window(newest - 6 * 3_600_000, newest)):
        for listed in (1, 2**20):  # the first cluster's edges, then every edge
            from_logs = await pairlog.summaries(redis, tag, window, oldest, listed)
            from_sets = await coordination.summaries(redis, tag, window, listed)
            assert from_logs == from_sets, (tag, window, listed)


async def on_viral_keys(redis: Redis, tag: str, cap: int, window_ms: int) -> list[list[object]]:
    """Kept pairs whose key has more than ``cap`` posts in the bucket of either of their posts."""
    found = []
    for index in matching.INDEXES:
        namespace = matching.namespace(index)
        for member in cast(list[bytes], await redis.zrange(keys.copairs(tag, index), 0, -1)):
            row = orjson.loads(member)
            for t in (row[6], row[6] + row[4]):
                start = t // window_ms * window_ms
                low, high = (
                    f"[{namespace}\0{row[5]}\0{ms:013d}" for ms in (start, start + window_ms)
                )
                if await coindex.count(redis, tag, str(row[5]), low, high) > cap:
                    found.append(row)
    return found


async def test_pair_logs_follow_viral_keys_and_retention(redis: Redis, settings: Settings) -> None:
    """Pairs dropped as their key turns viral are logged as dropped; the logs are rewritten once
    dead records outnumber live ones, and never hold more than that. No pair stays on a key
    viral where either of its posts is (a co-similar pair moves to a calm token it shares)."""
    settings = settings.model_copy(update={"coordination_max_matches": 4, "retention_days": 1.0})
    window_ms = settings.coordination_max_window_s * 1000
    await watchlist.add(redis, "default", TAGS)
    posts = sorted(sample(), key=lambda p: p.created_at)
    held: list[int] = []
    for start in range(0, len(posts), 300):
        await aggregate(redis, settings, posts[start : start + 300][::-1], batch=41)
        logged = [keys.tally("irgcoutofiraq", f"log:{index}") for index in keys.LOGGED]
        held.append(sum([await redis.strlen(log) for log in logged]) // pairlog.RECORD.itemsize)
        live = sum([await redis.zcard(keys.copairs("irgcoutofiraq", i)) for i in keys.LOGGED])
        assert live <= held[-1] <= 2 * live + pairlog.RECORD.itemsize
        for tag in TAGS:
            await assert_logs_agree(redis, tag)
        assert await on_viral_keys(redis, "irgcoutofiraq", 4, window_ms) == []
    assert any(later < earlier for earlier, later in itertools.pairwise(held))  # rewritten
    assert await redis.zcard(keys.cosaturated("irgcoutofiraq"))  # keys turned viral
    await assert_tallies_agree(redis)


async def test_a_pair_exactly_the_window_apart_is_in_the_network(
    redis: Redis, settings: Settings
) -> None:
    tag = bench.TAG.casefold()
    await watchlist.add(redis, "default", [tag])
    posts = [
        bench._post(n, author, bench.START + timedelta(seconds=at), text)
        for n, (author, at, text) in enumerate([
            ("a", 0, "one"), ("b", 60, "one"), ("a", 600, "two"), ("b", 660, "two"),
            ("c", 0, "three"), ("d", 60.001, "three"), ("c", 600, "four"), ("d", 660.001, "four"),
        ])
    ]  # fmt: skip
    await aggregate(redis, settings, posts, batch=3)
    found, matched = await pairlog.summaries(redis, tag, Window(0, 2**42), 0, 10)
    assert (found[0].edges, found[0].ties, matched) == (2, [[("a", "b"), ("b", "a")]], 4)
    await assert_logs_agree(redis, tag)


async def test_a_clusters_edges_are_listed_by_ids_where_their_weights_tie(
    redis: Redis, settings: Settings
) -> None:
    """x's two posts meet each target's one post: x -> t weighs 2, t -> x and t -> t' weigh 1
    and are dropped, so the targets are in no kept edge's source, and still ordered by id."""
    tag = bench.TAG.casefold()
    await watchlist.add(redis, "default", [tag])
    targets = [f"t{n}" for n in range(1, 7)]
    posted = [("x", 0.0), ("x", 30.0), *((target, 10.0) for target in targets)]
    posts = [
        bench._post(n, author, bench.START + timedelta(seconds=at), "one")
        for n, (author, at) in enumerate(posted)
    ]
    await aggregate(redis, settings, posts, batch=3)
    found, _ = await pairlog.summaries(redis, tag, Window(0, 2**42), 0, 10)
    assert (found[0].edges, found[0].ties) == (6, [[("x", target) for target in targets]])
    await assert_logs_agree(redis, tag)


async def test_a_cluster_member_is_named_by_its_newest_post_on_any_platform(
    redis: Redis, settings: Settings
) -> None:
    """a and b post together on Bluesky; a's newest post is on X, under another handle. Its
    platforms are read from all its posts (X sorts after Bluesky in the tallies)."""
    tag = bench.TAG.casefold()
    await watchlist.add(redis, "default", [tag])
    posted = [("a", 0, "one"), ("b", 20, "one"), ("a", 600, "two"), ("b", 620, "two")]
    posts = [
        bench._post(n, author, bench.START + timedelta(seconds=at), text, platform="bluesky")
        for n, (author, at, text) in enumerate(posted)
    ]
    later = bench.START + timedelta(hours=1)
    posts.append(bench._post(9, "a", later, "elsewhere", author_handle="a-on-x"))
    await aggregate(redis, settings, posts, batch=2)
    report = await build.tag_report(redis, tag, top=25)
    assert report.coordination is not None
    [cluster] = report.coordination.networks[0].clusters
    assert [(m.id, m.handle) for m in cluster.members] == [("a", "a-on-x"), ("b", "ub")]
    assert report == await from_records(redis, tag, None)
