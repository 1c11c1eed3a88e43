"""Bluesky's Jetstream: every new post and repost on the network, filtered to watched tags.

Jetstream has no tag filter, so each post's tags (facets, record.tags, text) are matched here.
A repost carries no tags of its own: it is attributed through an index of the posts with a
watched tag seen so far (kept for the retention period); a repost of a post never seen is
counted as unattributed and dropped. Posts are published in batches at least every
``stream_flush_s``; the cursor (the last event's ``time_us``) is saved after its batch is in the
stream. A reconnection resumes a few seconds before the cursor: the replayed events are
duplicates, which aggregation ignores.
"""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
import orjson
from redis.asyncio import Redis

from monitor import bluesky_tags, cancelling, decoded, hashtags, sources, watchlist
from monitor.decoded import Json
from monitor.models import Post
from monitor.platforms import bluesky
from monitor.settings import Settings
from monitor.signals.records import epoch_ms
from monitor.sources import Source
from workers.collectors.sink import Sink
from workers.role import backoff

log = logging.getLogger(__name__)

CURSOR = "*"  # one cursor for the whole stream, whatever the tags
REWIND_US = 5_000_000
BATCH = 500  # events per publish at most
_ENDED = (
    aiohttp.WSMsgType.CLOSE,
    aiohttp.WSMsgType.CLOSED,
    aiohttp.WSMsgType.CLOSING,
    aiohttp.WSMsgType.ERROR,
)


@dataclass
class StreamPass:
    """What a stream did: events read, posts published, reposts of posts never seen."""

    events: int = 0
    posts: int = 0
    unattributed: int = 0
    rejected: int = 0


@dataclass
class _Batch:
    posts: list[Post] = field(default_factory=list)
    reposts: list[tuple[str, str, Json, datetime]] = field(default_factory=list)
    last_us: int | None = None  # the latest event time in the batch (replays come earlier)
    size: int = 0


class JetstreamReader:
    """Reads one Jetstream source until stopped (or, once, until it has caught up)."""

    def __init__(
        self,
        redis: Redis,
        session: aiohttp.ClientSession,
        source: Source,
        settings: Settings,
        sink: Sink,
        stopping: asyncio.Event,
    ) -> None:
        self.redis, self.session, self.source = redis, session, source
        self.settings, self.sink, self.stopping = settings, sink, stopping
        self.watched: set[str] = set()
        self.result = StreamPass()
        self.high_us = 0  # the cursor: the latest event time published

    async def run(self, once: bool = False) -> StreamPass:
        """Reconnect with backoff after errors; ``once`` returns when caught up or quiet."""
        failures = 0
        started_us = time.time_ns() // 1000
        while not self.stopping.is_set():
            cancelling.stop_if_asked()
            try:
                if await self._connection(once, started_us):
                    return self.result
                failures = 0
            except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
                failures += 1
                reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
                if once and failures >= self.settings.http_attempts:
                    raise ConnectionError(f"{reason} (gave up after {failures} attempts)") from None
                delay = backoff(failures, base=self.settings.http_backoff_s, cap=60.0)
                log.warning("%s: %s, reconnecting in %.1fs", self.source.name, reason, delay)
                await sources.record_error(self.redis, self.source.name, reason)
                await self._sleep(delay)
        return self.result

    async def _connection(self, once: bool, started_us: int) -> bool:
        """One connection; True when done (caught up, quiet or stopping), False to reconnect."""
        params = [("wantedCollections", bluesky.POST), ("wantedCollections", bluesky.REPOST)]
        cursor = await self.sink.load_cursor(CURSOR)
        if cursor is not None and not cursor.isdigit():
            log.warning("%s: unreadable cursor %r, reading live", self.source.name, cursor[:40])
            cursor = None
        if cursor:
            self.high_us = max(self.high_us, int(cursor))
            params.append(("cursor", str(max(0, int(cursor) - REWIND_US))))
        url = f"{self.source.base_url}/subscribe"
        self.watched = await watchlist.watched(self.redis)
        batch, quiet_since = _Batch(), time.monotonic()
        flushed_at = quiet_since  # under steady traffic too, posts wait at most stream_flush_s
        async with self.session.ws_connect(url, params=params, heartbeat=30.0) as socket:
            while not self.stopping.is_set():
                cancelling.stop_if_asked()
                try:
                    message = await socket.receive(timeout=self.settings.stream_flush_s)
                except TimeoutError:
                    batch, flushed_at = await self._flush(batch), time.monotonic()
                    if once and time.monotonic() - quiet_since >= self.settings.stream_idle_s:
                        return True
                    continue
                if message.type in _ENDED:
                    await self._flush(batch)
                    raise ConnectionError(f"stream closed ({message.type.name.lower()})")
                quiet_since = time.monotonic()
                raw = (
                    message.data if isinstance(message.data, bytes) else str(message.data).encode()
                )
                await self._take(batch, raw)
                caught_up = once and (batch.last_us or 0) >= started_us
                due = time.monotonic() - flushed_at >= self.settings.stream_flush_s
                if caught_up or due or batch.size >= BATCH:
                    batch, flushed_at = await self._flush(batch), time.monotonic()
                if caught_up:
                    return True
        await self._flush(batch)
        return True

    async def _take(self, batch: _Batch, raw: bytes) -> None:
        """Keep the event if it is a post with a watched tag, or a repost; skip the rest."""
        self.result.events += 1
        batch.size += 1
        try:
            event = orjson.loads(raw)
        except orjson.JSONDecodeError:
            await self._reject("an event that is not JSON (truncated frame?)", raw)
            return
        when = decoded.integer(event, "time_us")
        did = decoded.string(event, "did")
        if when is None or did is None:
            await self._reject("an event without did or time_us", raw)
            return
        batch.last_us = max(batch.last_us or 0, when)
        commit = decoded.obj(event, "commit")
        if (
            decoded.string(event, "kind") != "commit"
            or decoded.string(commit, "operation") != "create"
        ):
            return  # identity, account, updates and deletes: the post as first seen stands
        record, rkey = decoded.obj(commit, "record"), decoded.string(commit, "rkey") or ""
        indexed = datetime.fromtimestamp(when / 1_000_000, UTC)
        collection = decoded.string(commit, "collection")
        if collection == bluesky.REPOST:
            batch.reposts.append((did, rkey, record, indexed))
        elif collection == bluesky.POST and self._watched(record):
            try:
                batch.posts.append(bluesky.post_from_record(did, rkey, record, indexed))
            except ValueError as exc:
                await self._reject(str(exc), raw)

    def _watched(self, record: Json) -> bool:
        return not self.watched.isdisjoint(hashtags.carried(bluesky.tags_of(record)))

    async def _flush(self, batch: _Batch) -> _Batch:
        """Publish (the sink remembers the posts' tags), then save the cursor: a crash in between
        only replays the batch."""
        if batch.last_us is None:
            self.watched = await watchlist.watched(self.redis)
            return _Batch()
        posts = batch.posts + await self._reposts(batch)
        await self.sink.publish(posts)
        self.high_us = max(self.high_us, batch.last_us)  # a replayed batch never moves it back
        await self.sink.save_cursor(CURSOR, str(self.high_us))
        newest = max((epoch_ms(post.created_at) for post in posts), default=None)
        await sources.record_success(self.redis, self.source.name, len(posts), newest)
        self.result.posts += len(posts)
        self.watched = await watchlist.watched(self.redis)  # a tag added meanwhile counts next
        return _Batch()

    async def _reposts(self, batch: _Batch) -> list[Post]:
        if not batch.reposts:
            return []
        here = {post.id: post.hashtags for post in batch.posts}
        subjects = [_subject(record) for _, _, record, _ in batch.reposts]
        stored = await bluesky_tags.recall(self.redis, subjects)
        reposts = []
        for repost, subject, found in zip(batch.reposts, subjects, stored, strict=True):
            did, rkey, record, indexed = repost
            tags = here.get(subject) or found
            if not tags:
                self.result.unattributed += 1
                continue
            try:
                reposts.append(bluesky.repost_from_record(did, rkey, record, indexed, tags))
            except ValueError as exc:
                await self._reject(str(exc), orjson.dumps(record))
        return reposts

    async def _reject(self, reason: str, raw: bytes) -> None:
        """A bad event goes to dead letters; the stream goes on."""
        self.result.rejected += 1
        await self.sink.reject(reason, raw)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)


def _subject(record: Json) -> str:
    return decoded.string(decoded.obj(record, "subject"), "uri") or ""
