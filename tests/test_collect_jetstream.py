"""The Jetstream collector against a fake Jetstream speaking its real framing, through the
ingest stream and the aggregator into reports."""

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import redis as sync_redis
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from monitor import deadletter, keys, sources, watchlist
from monitor.reports.build import tag_report
from monitor.settings import Settings
from tests.fakes import jetstream as fake
from tests.fakes.threaded import serving
from tests.test_cli import hashmon
from workers.collectors.collector import Collector
from workers.collectors.once import collect_once
from workers.oneshot import aggregating

NIKA, IRAQI, WATCH, BOT = (f"did:plc:{name}" for name in ("nika", "iraqi", "watch", "bot"))
T0 = 1_764_000_000_000_000  # microseconds, late 2025
SECOND = 1_000_000


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"http_backoff_s": 0.01, "stream_flush_s": 0.05, "stream_idle_s": 0.3}
    )


@pytest.fixture
async def stream() -> AsyncIterator[tuple[fake.Jetstream, str]]:
    state = fake.Jetstream()
    async with TestServer(state.app(), host="127.0.0.1") as server:
        yield state, f"ws://127.0.0.1:{server.port}"


def campaign(stream: fake.Jetstream) -> None:
    """Three watched posts (a facet tag, a record.tags tag, a tag only in the text), one
    unwatched post, reposts of a watched post, of an unwatched one and of one never seen,
    events that are not posts, a malformed frame and a replayed duplicate."""
    persian = "سپاه باید از عراق بیرون برود #IRGCOutOfIraq #Iran"
    events = [
        fake.account(NIKA, T0),
        fake.identity(IRAQI, "iraqivoice.bsky.social", T0 + 1),
        fake.post(NIKA, "p1", persian, T0 + SECOND, facet_tags=["IRGCOutOfIraq", "Iran"],
                  langs=["fa"]),
        fake.post(IRAQI, "p2", "الحرس الثوري يجب أن يخرج", T0 + 2 * SECOND,
                  extra_tags=["irgcoutofiraq"], langs=["ar"]),
        fake.post(WATCH, "p3", "Day 9, still #IRGCOutOfIraq", T0 + 3 * SECOND),
        fake.post(BOT, "p4", "nothing to see #cats", T0 + 4 * SECOND, facet_tags=["cats"]),
        fake.repost(IRAQI, "r1", fake.at_uri(NIKA, "p1"), T0 + 5 * SECOND),
        fake.repost(WATCH, "r2", fake.at_uri(NIKA, "p1"), T0 + 6 * SECOND),
        fake.repost(NIKA, "r3", fake.at_uri(BOT, "p4"), T0 + 7 * SECOND),
        fake.repost(NIKA, "r4", fake.at_uri(BOT, "never-seen"), T0 + 8 * SECOND),
        fake.post(WATCH, "p5", "replying #IRGCOutOfIraq", T0 + 9 * SECOND,
                  reply_to=fake.at_uri(NIKA, "p1")),
        fake.delete(BOT, "p4", T0 + 10 * SECOND),
    ]  # fmt: skip
    for event in events:
        stream.add(event)
    stream.add(b'{"did":"did:plc:bot","time_us":', T0 + 10 * SECOND)  # a truncated frame
    stream.add(events[2])  # replayed


async def test_stream_is_filtered_to_watched_tags_and_reposts_are_attributed(
    redis: Redis, fast: Settings, stream: tuple[fake.Jetstream, str]
) -> None:
    state, url = stream
    campaign(state)
    await watchlist.add(redis, "default", ["irgcoutofiraq"])
    await sources.add(redis, sources.make("bluesky-jetstream", url, name="jet"))

    [result] = await collect_once(redis, fast)

    assert (result.posts, result.errors) == (7, 0)  # p1 twice (replay), p2, p3, r1, r2, p5
    report = await tag_report(redis, "irgcoutofiraq")
    posts = report.posts
    assert (posts.total, posts.original, posts.repost, posts.reply) == (6, 3, 2, 1)
    assert report.people == 3 and report.platforms == {"bluesky": 6}
    talking = {p.id: p.people_talking for p in report.top_posts}
    assert talking[fake.at_uri(NIKA, "p1")] == 2  # iraqi's repost, watch's repost and reply
    [letter] = await deadletter.recent(redis)
    assert (letter.source, letter.reason) == ("jet", "an event that is not JSON (truncated frame?)")
    assert state.connections[0]["wantedCollections"] == [fake.POST, fake.REPOST]
    cursor = await sources.cursor(redis, "jet", "*")
    assert cursor == str(T0 + 10 * SECOND)


async def test_a_later_run_resumes_before_its_cursor_and_counts_nothing_twice(
    redis: Redis, fast: Settings, stream: tuple[fake.Jetstream, str]
) -> None:
    state, url = stream
    campaign(state)
    await watchlist.add(redis, "default", ["irgcoutofiraq"])
    await sources.add(redis, sources.make("bluesky-jetstream", url, name="jet"))
    await collect_once(redis, fast)

    state.add(fake.repost(BOT, "r5", fake.at_uri(IRAQI, "p2"), T0 + 20 * SECOND))
    state.add(fake.post(BOT, "p6", "later #IRGCOutOfIraq", T0 + 21 * SECOND))
    [again] = await collect_once(redis, fast)

    assert state.connections[1]["cursor"] == [str(T0 + 10 * SECOND - 5 * SECOND)]
    assert again.posts == 5  # r1, r2 and p5 replayed from the rewind; r5 (via the index), p6
    report = await tag_report(redis, "irgcoutofiraq")
    assert (report.posts.total, report.people) == (8, 4)


async def test_a_refused_then_dropped_connection_is_resumed_from_the_cursor(
    redis: Redis, fast: Settings, stream: tuple[fake.Jetstream, str]
) -> None:
    state, url = stream
    for n in range(600):  # more than one batch, so a cursor is saved before the drop
        state.add(fake.post(NIKA, f"n{n}", f"#BlackListMOIS {n}", T0 + n * SECOND))
    state.refuse, state.drop_after = 2, 550  # two 502s from the proxy, then a drop mid-way
    await watchlist.add(redis, "default", ["blacklistmois"])
    await sources.add(redis, sources.make("bluesky-jetstream", url, name="jet"))

    [result] = await collect_once(redis, fast)

    assert result.errors == 0 and len(state.connections) == 2
    assert "cursor" in state.connections[1]
    assert (await tag_report(redis, "blacklistmois")).posts.total == 600


async def test_a_tag_added_while_streaming_is_followed(
    redis: Redis, fast: Settings, stream: tuple[fake.Jetstream, str]
) -> None:
    state, url = stream
    await watchlist.add(redis, "default", ["irgcoutofiraq"])
    await sources.add(redis, sources.make("bluesky-jetstream", url, name="jet"))
    collector = Collector(
        redis, fast.model_copy(update={"poll_interval_s": 0.05, "http_timeout_s": 0.2}), name="live"
    )
    async with aggregating(redis, fast, "live-aggregator"):
        running = asyncio.create_task(collector.run())
        for _ in range(100):
            if state.connections:
                break
            await asyncio.sleep(0.02)
        state.add(fake.post(IRAQI, "x0", "#BlackListMOIS before", T0))
        await asyncio.sleep(0.3)  # streamed while the tag was not watched: left out
        await watchlist.add(redis, "default", ["blacklistmois"])
        await asyncio.sleep(0.3)  # a flush or two: the reader reads the watchlist again
        state.add(fake.post(IRAQI, "x1", "#BlackListMOIS now", T0 + SECOND))
        for _ in range(200):
            if await redis.zcard(keys.timeline("blacklistmois")):
                break
            await asyncio.sleep(0.05)
        collector.stopping.set()
        await running
        await collector.close()
    assert (await tag_report(redis, "blacklistmois")).posts.total == 1
    assert len(state.connections) == 1  # followed on the same connection


def test_collect_once_from_the_cli(cli_env: dict[str, str], sync_client: sync_redis.Redis) -> None:
    state = fake.Jetstream()
    campaign(state)
    env = {**cli_env, "HASHMON_STREAM_IDLE_S": "0.3", "HASHMON_STREAM_FLUSH_S": "0.05"}
    with serving(state.app()) as url:
        hashmon(env, "watch", "add", "#IRGCOutOfIraq")
        code, out = hashmon(
            env, "sources", "add", "bluesky-jetstream", "--url", url.replace("http", "ws")
        )
        assert code == 0
        code, out = hashmon(env, "collect", "--once")
    assert (code, out.strip()) == (0, "127.0.0.1: 7 posts, 0 errors")
    code, out = hashmon(env, "report", "#IRGCOutOfIraq", "--format", "json")
    assert json.loads(out)["posts"]["total"] == 6


async def test_once_ends_as_soon_as_the_stream_reaches_the_present(
    redis: Redis, fast: Settings, stream: tuple[fake.Jetstream, str]
) -> None:
    """Even when the newest event closes a full batch: the run does not wait to go quiet."""
    state, url = stream
    for n in range(499):
        state.add(fake.post(NIKA, f"b{n}", f"#BlackListMOIS {n}", T0 + n * SECOND))
    state.add(fake.account(NIKA, 4_102_444_800_000_000))  # 2100: the 500th event, in the future
    await watchlist.add(redis, "default", ["blacklistmois"])
    await sources.add(redis, sources.make("bluesky-jetstream", url, name="jet"))
    patient = fast.model_copy(update={"stream_idle_s": 3_600.0})

    [result] = await asyncio.wait_for(collect_once(redis, patient), timeout=30)

    assert result.posts == 499
