"""A loop on Redis commands that checks monitor.cancelling at each turn ends whenever it is
cancelled, including when the cancel lands during a command and redis-py swallows it."""

import asyncio
import random

from redis.asyncio import Redis

from monitor import cancelling


async def test_a_loop_on_redis_ends_at_every_cancel(redis: Redis) -> None:
    async def looping() -> None:
        for _ in range(100_000):
            cancelling.stop_if_asked()
            await redis.incr("turns")
            await redis.hget("absent", "field")

    rng = random.Random(5)
    for _ in range(60):
        task = asyncio.create_task(looping())
        await asyncio.sleep(rng.uniform(0.0005, 0.005))
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=10)
        assert task in done and task.cancelled()
    assert int(await redis.get("turns") or 0) > 60  # the loops did reach Redis
