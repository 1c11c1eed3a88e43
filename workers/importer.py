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
from monitor.importers.files import Archive, Line
from monitor.models import Post
from monitor.settings import Settings
from workers.oneshot import aggregating, until_applied

Progress = Callable[[int], None]  # called with bytes read so far, across all files
_AHEAD = 10  # entries published beyond what aggregators have applied


class Interrupted(Exception):
    """The import was asked to stop; what it had published stays queued for aggregation."""


@dataclass
class Summary:
    """One import run: posts read, what aggregation made of them, and the lines refused."""

    read: int = 0
    rejected: list[str] = field(default_factory=list)  # "file:line: reason"
    verdicts: Counter[str] = field(default_factory=Counter)  # new, duplicate, unwatched, too_old
    unwatched_tags: Counter[str] = field(default_factory=Counter)


async def import_archives(
    redis: Redis,
    settings: Settings,
    archives: Sequence[Archive],
    progress: Progress | None = None,
    stopping: asyncio.Event | None = None,
) -> Summary:
    """Publish every post of the archives and wait until they are aggregated.

    When ``stopping`` is set, publishing stops at the next batch and Interrupted is raised.
    """
    run = uuid.uuid4().hex
    async with aggregating(redis, settings, f"import-{run[:12]}") as aggregator:
        publisher = _Publisher(redis, settings, run, await watchlist.watched(redis), aggregator)
        publisher.stopping = stopping or asyncio.Event()
        await publisher.publish_all(archives, progress)
    stats = await redis.hgetall(keys.run_stats(run))
    publisher.summary.verdicts.update({text(k): int(v) for k, v in stats.items()})
    await redis.delete(keys.run_stats(run))
    return publisher.summary


@dataclass
class _Publisher:
    """Reads archives into stream entries, staying at most _AHEAD entries ahead of aggregation."""

    redis: Redis
    settings: Settings
    run: str
    watched: set[str]
    aggregating: "asyncio.Task[None]"
    summary: Summary = field(default_factory=Summary)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    published: list[queue.Mark] = field(default_factory=list)
    pending: list[Post] = field(default_factory=list)

    async def publish_all(self, archives: Sequence[Archive], progress: Progress | None) -> None:
        done_bytes = 0
        for archive in archives:
            for line, offset in archive.lines():
                self._take(archive, line)
                if len(self.pending) >= self.settings.publish_batch:
                    await self._flush()
                    if progress:
                        progress(done_bytes + offset)
            done_bytes += archive.size
            if progress:
                progress(done_bytes)
        await self._flush()
        if self.published:
            await until_applied(self.redis, self.published, self.aggregating)

    def _take(self, archive: Archive, line: Line) -> None:
        if line.error:
            self.summary.rejected.append(f"{archive.path}:{line.error}")
        for post in line.posts:
            self.summary.read += 1
            if not self.watched.intersection(post.tags):
                self.summary.unwatched_tags.update(post.tags.keys())
            self.pending.append(post)

    async def _flush(self) -> None:
        if self.stopping.is_set():
            published = self.summary.read - len(self.pending)
            raise Interrupted(f"interrupted after {published:,} posts were published")
        if not self.pending:
            return
        batch = self.settings.publish_batch
        self.published += await queue.publish(
            self.redis,
            self.pending,
            batch=batch,
            run=self.run,
            max_backlog=self.settings.max_stream_backlog,
            shards=self.settings.ingest_shards,
        )
        self.pending.clear()
        if len(self.published) > _AHEAD:
            await until_applied(self.redis, self.published[:-_AHEAD], self.aggregating)
