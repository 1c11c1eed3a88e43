"""Many collectors and aggregators on one Redis: collection leases (one collector per cursor at
a time, taken over when its holder dies, fenced cursor writes), and hashmon status showing every
live worker with its work, its lag and its last error."""

import asyncio
import json
import random
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import redis as sync_redis
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from monitor import keys, leases, queue, sources, watchlist
from monitor.connection import connect
from monitor.leases import Held, LeaseLost
from monitor.settings import Settings
from tests.factories import post
from tests.fakes import jetstream, mastodon
from tests.test_cli import hashmon
from workers.aggregator import Aggregator
from workers.collectors.collector import Collector, SourcePass

TAGS = ["IRGCOutOfIraq", "BlackListMOIS", "IraqProtests"]


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"http_backoff_s": 0.01, "backfill_pages": 100, "collection_lease_s": 0.5,
                "stream_flush_s": 0.05, "stream_idle_s": 0.3}
    )  # fmt: skip


@pytest.fixture
async def instance() -> AsyncIterator[tuple[mastodon.Instance, str]]:
    state = mastodon.Instance(delay_s=0.02)  # slow enough for two collectors to overlap
    for tag in TAGS:
        for status in mastodon.campaign(80, tag, replies=False):
            state.add(status)
    async with TestServer(state.app(), host="127.0.0.1") as server:
        yield state, str(server.make_url("")).rstrip("/")


async def two_collectors_once(redis: Redis, settings: Settings) -> list[list[SourcePass]]:
    """One pass each of two collectors started together, as two machines would."""
    one, two = Collector(redis, settings, name="c1"), Collector(redis, settings, name="c2")
    try:
        return list(await asyncio.gather(one.collect_once(), two.collect_once()))
    finally:
        await one.close()
        await two.close()


def first_pages(state: mastodon.Instance) -> Counter[str]:
    """Timeline requests without a cursor, per tag: each starts a backfill from scratch."""
    return Counter(
        r.split("/timelines/tag/")[1].split("?")[0].lower()
        for r in state.requests
        if "/timelines/tag/" in r and "max_id=" not in r and "min_id=" not in r
    )


async def test_two_collectors_split_the_tags_and_poll_each_cursor_once(
    redis: Redis, fast: Settings, instance: tuple[mastodon.Instance, str]
) -> None:
    state, url = instance
    await watchlist.add(redis, "default", [t.lower() for t in TAGS])
    await sources.add(redis, sources.make("mastodon", url, name="home"))
    passes = await two_collectors_once(redis, fast)
    assert first_pages(state) == {t.lower(): 1 for t in TAGS}  # no cursor polled twice
    assert sum(p.posts for [p] in passes) == 3 * 80  # every status published once
    assert all(p.posts and p.skipped for [p] in passes)  # both worked, each skipped a held tag
    assert await redis.keys(keys.lease_pattern()) == []  # all given back


async def test_a_dead_collectors_lease_blocks_its_cursor_until_it_expires(
    redis: Redis, fast: Settings, instance: tuple[mastodon.Instance, str]
) -> None:
    state, url = instance
    await watchlist.add(redis, "default", ["irgcoutofiraq"])
    await sources.add(redis, sources.make("mastodon", url, name="home"))
    assert await leases.acquire(redis, "home", "irgcoutofiraq", "dead-collector", 300)
    collector = Collector(redis, fast, name="alive")
    try:
        [held] = await collector.collect_once()
        assert (held.posts, held.skipped, len(state.requests)) == (0, 1, 0)
        await asyncio.sleep(0.35)
        [taken] = await collector.collect_once()
        assert (taken.posts, taken.skipped) == (80, 0)
    finally:
        await collector.close()


async def test_a_collector_that_lost_its_lease_cannot_write_the_cursor(redis: Redis) -> None:
    late = Held("home", "irgcoutofiraq", "stalled")
    assert await leases.acquire(redis, late.source, late.tag, late.owner, 50)
    await leases.save_cursor(redis, late, '{"newest": "1"}')
    await asyncio.sleep(0.1)  # it stalled past its lease; another collector took over
    now = Held("home", "irgcoutofiraq", "taker")
    assert await leases.acquire(redis, now.source, now.tag, now.owner, 10_000)
    await leases.save_cursor(redis, now, '{"newest": "9"}')
    with pytest.raises(LeaseLost):
        await leases.save_cursor(redis, late, '{"newest": "2"}')
    assert await sources.cursor(redis, "home", "irgcoutofiraq") == '{"newest": "9"}'
    assert late.lost.is_set() and not await leases.renew(redis, late, 10_000)


@pytest.mark.parametrize("taken_over", [False, True])
async def test_a_lease_that_lapsed_mid_pass_is_taken_again_unless_another_took_it(
    redis: Redis, fast: Settings, taken_over: bool
) -> None:
    state = mastodon.Instance(delay_s=0.02)
    for status in mastodon.campaign(400, "IRGCOutOfIraq", replies=False):
        state.add(status)  # ten pages of 40
    server = TestServer(state.app(), host="127.0.0.1")
    await server.start_server()
    await watchlist.add(redis, "default", ["irgcoutofiraq"])
    await sources.add(redis, sources.make("mastodon", str(server.make_url("")), name="home"))
    collector, lease = Collector(redis, fast, name="stalled"), keys.lease("home", "irgcoutofiraq")
    try:
        collecting = asyncio.create_task(collector.collect_once())
        while len(state.requests) < 3:  # noqa: ASYNC110  # the fake only records its requests
            await asyncio.sleep(0.005)
        await redis.delete(lease)  # as if it expired while the collector stalled
        if taken_over:
            assert await leases.acquire(redis, "home", "irgcoutofiraq", "other", 60_000)
        await collecting
    finally:
        await collector.close()
        await server.close()
    await Aggregator(redis, fast, name="agg").run_until_idle()
    collected = await redis.zcard(keys.timeline("irgcoutofiraq"))
    if taken_over:  # the other collector's cursor stands; this one stopped at its lost lease
        assert collected < 400 and await redis.get(lease) == b"other"
    else:  # nobody else: taken again from the saved cursor, and the pass went on to the end
        assert (collected, await redis.exists(lease)) == (400, 0)


async def test_only_one_collector_reads_a_stream(redis: Redis, fast: Settings) -> None:
    state = jetstream.Jetstream()
    state.add(jetstream.post("did:plc:a", "p1", "#IRGCOutOfIraq", 1_764_000_000_000_000))
    async with TestServer(state.app(), host="127.0.0.1") as server:
        await watchlist.add(redis, "default", ["irgcoutofiraq"])
        await sources.add(redis, sources.make("bluesky-jetstream", f"ws://127.0.0.1:{server.port}"))
        passes = await two_collectors_once(redis, fast)
    assert len(state.connections) == 1
    assert sorted(p.posts for [p] in passes) == [0, 1]


async def _two_workers(settings: Settings) -> None:
    """An aggregator holding two of three entries, a collector with a lease and an error."""
    redis = connect(str(settings.redis_url))
    try:
        await watchlist.add(redis, "default", ["irgcoutofiraq"])
        await queue.ensure_group(redis)
        posts = [post(str(i), "a", ["IRGCOutOfIraq"]) for i in range(3)]
        await queue.publish(redis, posts, batch=1)
        await queue.read(redis, "agg-1", count=2, block_ms=10)
        await Aggregator(redis, settings, name="agg-1").beat(force=True)
        collector = Collector(redis, settings, name="col-1")
        collector.note_error("home: #irgcoutofiraq: HTTP 503 from mastodon.example")
        await collector.beat(force=True)
        assert await leases.acquire(redis, "home", "irgcoutofiraq", "col-1", 10_000)
    finally:
        await redis.aclose()


def test_status_shows_each_worker_its_work_lag_and_last_error(
    settings: Settings, cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    asyncio.run(_two_workers(settings))
    code, out = hashmon(cli_env, "status", "--format", "json")
    found = json.loads(out)
    assert code == 0
    agg, col = found["roles"]
    assert (agg["role"], agg["name"], agg["pending"]) == ("aggregator", "agg-1", 2)
    assert (col["role"], col["working_on"]) == ("collector", ["home irgcoutofiraq"])
    assert col["last_error"] == "home: #irgcoutofiraq: HTTP 503 from mastodon.example"
    assert 0 <= col["seconds_since_error"] < 60
    assert found["pending"] == 2 and 0 <= found["oldest_waiting_s"] < 60
    code, text = hashmon(cli_env | {"COLUMNS": "250"}, "status")
    assert "2 pending" in text and "HTTP 503" in text and "home irgcoutofiraq" in text


async def test_a_lease_is_given_back_whenever_its_block_ends(redis: Redis) -> None:
    """Its keeper stops with the block, even when the block ends while a renewal is in flight:
    redis-py's asyncio client can swallow a cancellation that arrives during a command, and a
    keeper that went on renewing would hold the block (and the cursor) for ever."""
    moments = random.Random(7)

    async def block() -> None:
        async with leases.holding(redis, "home", "irgcoutofiraq", "me", 30) as lease:
            assert lease is not None
            await asyncio.sleep(moments.random() * 0.02)  # a renewal every 10 ms

    for n in range(300):
        ending = asyncio.create_task(block())
        done, _ = await asyncio.wait({ending}, timeout=5)
        assert ending in done, f"block {n} is still waiting for its lease's keeper"
    assert await redis.keys(keys.lease_pattern()) == []
