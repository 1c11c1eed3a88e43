"""Imports archive files: posts go through the ingest stream like live collection, and the
command returns only once aggregators have applied them (it runs one itself meanwhile)."""

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis

from monitor import keys, queue, watchlist
from monitor.connection import text
from monitor.importers.files import Archive
from monitor.models import Post
from monitor.settings import Settings
from workers.aggregator import Aggregator

Progress = Callable[[int], None]  # called with bytes read so far, across all files
_AHEAD = 10  # entries published beyond what aggregators have applied


@dataclass
class Summary:
    """One import run: posts read, what aggregation made of them, and the lines refused."""

    read: int = 0
    rejected: list[str] = field(default_factory=list)  # "file:line: reason"
    verdicts: Counter[str] = field(default_factory=Counter)  # new, duplicate, unwatched, too_old
    unwatched_tags: Counter[str] = field(default_factory=Counter)


async def import_archives(
    redis: Redis, settings: Settings, archives: Sequence[Archive], progress: Progress | None = None
) -> Summary:
    """Publish every post of the archives and wait until they are aggregated."""
    run = uuid.uuid4().hex
    summary = Summary()
    quick = settings.model_copy(update={"read_block_ms": min(settings.read_block_ms, 100)})
    aggregator = Aggregator(redis, quick, name=f"import-{run[:12]}")  # idle reads end quickly
    await aggregator.prepare()
    aggregating = asyncio.create_task(aggregator.run())
    try:
        watched = await watchlist.watched(redis)
        published = await _publish_all(redis, settings, archives, run, watched, summary, progress,
                                       aggregating)  # fmt: skip
        if published:
            await _until_applied(redis, published[-1], aggregating)
    finally:
        aggregator.stopping.set()
        await aggregating
        await aggregator.close()
    stats = await redis.hgetall(keys.run_stats(run))
    summary.verdicts.update({text(k): int(v) for k, v in stats.items()})
    await redis.delete(keys.run_stats(run))
    return summary


async def _publish_all(
    redis: Redis, settings: Settings, archives: Sequence[Archive], run: str, watched: set[str],
    summary: Summary, progress: Progress | None, aggregating: "asyncio.Task[None]",
) -> list[bytes]:  # fmt: skip
    published: list[bytes] = []
    pending: list[Post] = []
    done_bytes = 0
    for archive in archives:
        for line, offset in archive.lines():
            if line.error:
                summary.rejected.append(f"{archive.path}:{line.error}")
            for post in line.posts:
                summary.read += 1
                tags = post.tags
                if not watched.intersection(tags):
                    summary.unwatched_tags.update(tags.keys())
                pending.append(post)
            if len(pending) >= settings.publish_batch:
                published += await queue.publish(
                    redis, pending, batch=settings.publish_batch, run=run
                )
                pending.clear()
                if len(published) > _AHEAD:
                    await _until_applied(redis, published[-_AHEAD - 1], aggregating)
            if progress:
                progress(done_bytes + offset)
        done_bytes += archive.size
    if pending:
        published += await queue.publish(redis, pending, batch=settings.publish_batch, run=run)
    return published


async def _until_applied(redis: Redis, entry_id: bytes, aggregating: "asyncio.Task[None]") -> None:
    """Wait for the aggregators (ours, or a daemon's) to apply everything up to entry_id."""
    while not await queue.applied(redis, entry_id):
        if aggregating.done():
            aggregating.result()  # a crash surfaces here with its traceback
            raise RuntimeError("the import's aggregator stopped early")
        await asyncio.sleep(0.02)
