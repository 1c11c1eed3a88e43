"""An aggregator beside a one-shot command (import, collect --once), so that the command can
return once its posts are in reports even when no daemon runs; a daemon's aggregators may share
the work."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from monitor import queue
from monitor.connection import transient
from monitor.settings import Settings
from workers.aggregator import Aggregator


@contextlib.asynccontextmanager
async def aggregating(
    redis: Redis, settings: Settings, name: str
) -> AsyncIterator["asyncio.Task[None]"]:
    """Run an aggregator for the block's duration, yielding its task (to notice a crash)."""
    quick = settings.model_copy(update={"read_block_ms": min(settings.read_block_ms, 100)})
    # idle reads end quickly, so that stopping it at the end costs little
    aggregator = Aggregator(redis, quick, name=name)
    await aggregator.prepare()
    running = asyncio.create_task(aggregator.run())
    try:
        yield running
    finally:
        aggregator.stopping.set()
        await running
        await aggregator.close()


async def until_applied(
    redis: Redis, marks: Iterable[queue.Mark], aggregating: "asyncio.Task[None]"
) -> None:
    """Wait for the aggregators (ours, or a daemon's) to apply everything up to these entries."""
    marks = list(marks)
    while not await _applied(redis, marks):
        if aggregating.done():
            aggregating.result()  # a crash surfaces here with its traceback
            raise RuntimeError("the command's aggregator stopped early")
        await asyncio.sleep(0.02)


async def _applied(redis: Redis, marks: list[queue.Mark]) -> bool:
    """False, not an error, while Redis refuses for a moment (BUSY with a long script, LOADING)."""
    try:
        return await queue.applied(redis, marks)
    except ResponseError as exc:
        if not transient(exc):
            raise
        return False
