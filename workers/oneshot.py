"""An aggregator beside a one-shot command (import, collect --once), so that the command can
return once its posts are in reports even when no daemon runs; a daemon's aggregators may share
the work."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from monitor import queue
from monitor.connection import transient
from monitor.settings import Settings
from workers.aggregator import Aggregator

# Aggregators a command runs: while one waits on Redis, the other matches its batch's pairs.
AGGREGATORS = 2


@contextlib.asynccontextmanager
async def aggregating(
    redis: Redis, settings: Settings, name: str
) -> AsyncIterator["asyncio.Future[list[None]]"]:
    """Run aggregators for the block's duration, yielding their future (to notice a crash)."""
    quick = settings.model_copy(update={"read_block_ms": min(settings.read_block_ms, 100)})
    # idle reads end quickly, so that stopping them at the end costs little
    aggregators = [Aggregator(redis, quick, name=f"{name}.{n}") for n in range(1, AGGREGATORS + 1)]
    for aggregator in aggregators:
        await aggregator.prepare()
    running = asyncio.gather(*(aggregator.run() for aggregator in aggregators))
    try:
        yield running
    finally:
        for aggregator in aggregators:
            aggregator.stopping.set()
        await running
        for aggregator in aggregators:
            await aggregator.close()


async def until_applied(
    redis: Redis, marks: Iterable[queue.Mark], aggregating: "asyncio.Future[Any]"
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
