"""The ingest stream split into shards: entries are dealt over all of them, aggregators read
every one (also shards added while they run), and the figures equal those of one stream."""

import asyncio

from redis.asyncio import Redis

from monitor import health, keys, queue, watchlist
from monitor.reports.build import tag_report
from monitor.settings import Settings
from tests.factories import post
from workers.aggregator import Aggregator
from workers.oneshot import until_applied

POSTS = [post(str(i), f"u{i % 7}", ["t"], at=i) for i in range(60)]


async def test_the_shard_count_only_grows(redis: Redis) -> None:
    assert await queue.shard_count(redis) == 1
    assert await queue.shard_count(redis, 3) == 3
    assert await queue.shard_count(redis, 2) == 3  # a process asking for fewer reads them all
    marks = await queue.publish(redis, POSTS[:6], batch=1, shards=2)
    assert sorted(shard for shard, _ in marks) == [0, 0, 1, 1, 2, 2]


async def test_a_consumer_reads_claims_and_acks_on_every_shard(redis: Redis) -> None:
    await queue.ensure_group(redis, 3)
    marks = await queue.publish(redis, POSTS[:6], batch=2, shards=3)
    assert sorted(shard for shard, _ in marks) == [0, 1, 2]
    taken = await queue.read(redis, "dead", count=10, block_ms=10, shards=3)
    assert sorted(e.mark for e in taken) == sorted(marks)
    assert not await queue.applied(redis, marks)
    claimed = await queue.claim_stale(redis, "live", idle_ms=0, count=10, shards=3)
    assert sorted(e.mark for e in claimed) == sorted(marks)
    assert await queue.pending_for(redis, "live", 3) == 3
    await queue.ack(redis, [e.mark for e in claimed])
    assert await queue.applied(redis, marks)
    assert await queue.pending_for(redis, "live", 3) == 0


async def _report(redis: Redis, settings: Settings, shards: int, aggregators: int) -> str:
    await redis.flushdb()
    await watchlist.add(redis, "default", ["t"])
    marks = await queue.publish(redis, POSTS, batch=4, shards=shards)
    status = await health.status(redis)
    assert status.shard_lengths == [15 // shards] * shards
    workers = [Aggregator(redis, settings, name=f"a{n}") for n in range(aggregators)]
    await asyncio.gather(*(worker.run_until_idle() for worker in workers))
    for worker in workers:
        await worker.close()
    assert await queue.applied(redis, marks)
    assert sum(worker.done for worker in workers) == len(POSTS)
    return (await tag_report(redis, "t", top=20)).model_dump_json()


async def test_two_aggregators_on_three_shards_give_the_one_stream_report(
    redis: Redis, settings: Settings
) -> None:
    single = await _report(redis, settings, shards=1, aggregators=1)
    assert await _report(redis, settings, shards=3, aggregators=2) == single  # settings say 1
    assert (await health.status(redis)).pending == 0


async def test_an_aggregator_follows_shards_added_while_it_runs(
    redis: Redis, settings: Settings
) -> None:
    await watchlist.add(redis, "default", ["t"])
    aggregator = Aggregator(redis, settings, name="a")
    await aggregator.prepare()
    assert aggregator.shards == 1
    running = asyncio.create_task(aggregator.run())
    marks = await queue.publish(redis, POSTS, batch=4, shards=4)
    await asyncio.wait_for(until_applied(redis, marks, running), timeout=30)
    aggregator.stopping.set()
    await running
    await aggregator.close()
    assert aggregator.shards == 4
    assert await redis.zcard(keys.timeline("t")) == len(POSTS)
