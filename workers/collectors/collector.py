"""The collector role: passes over every source x watched tag, publishing into the ingest stream.

Each pass reads the sources and the watchlists afresh, so a tag or source added while it runs is
collected from the next pass on. Sources are collected concurrently, a source's tags one after
another (they share its rate limit). A failing source is recorded in its health and retried on
the next pass; it never stops the others. Any number of collectors share the work: each
(source, tag) cursor, and each streamed source, is worked under a lease (monitor.leases), so two
collectors never poll the same cursor at once.
"""

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from pydantic import ValidationError

from monitor import __version__, deadletter, leases, queue, sources, watchlist
from monitor.leases import Held, LeaseLost
from monitor.models import Post
from monitor.settings import Settings
from monitor.signals.records import epoch_ms
from monitor.sources import Source
from workers.collectors.bluesky_search import BlueskySearchPoller
from workers.collectors.feeds import FeedPoller
from workers.collectors.http import Client, FetchError, Malformed, Stopped, Unreachable
from workers.collectors.jetstream import JetstreamReader, StreamPass
from workers.collectors.mastodon import MastodonPoller
from workers.collectors.mastodon_stream import MastodonStreamReader
from workers.collectors.reddit import RedditPoller
from workers.collectors.sink import Sink, into_redis
from workers.collectors.x import XPoller
from workers.role import Role

log = logging.getLogger(__name__)

STREAM = "*"  # the lease of a streamed source (and Jetstream's one cursor)
# A lease that lapsed while its collector stalled (a long script, a paused process) is taken
# again from the saved cursor when no other collector took it; at most this many times a pass.
LEASE_RETAKES = 3
USER_AGENT = f"hashmon/{__version__} (hashtag campaign monitor)"
NAMES_SHOWN = 8  # sources or tags named in the line that says what a collector runs


class _After(enum.Enum):
    """What a pass does after collecting one tag."""

    NEXT = "go on to the next tag"
    STOP = "stop the source for this pass"
    LOST = "the lease lapsed: take it again"


class Poller(Protocol):
    """Collects one tag from one polled source, from its cursor on; returns what it published.

    A source that is not searched by tag (a feed) is collected once a pass, as tag '*'.
    """

    per_tag: bool

    def __init__(self, client: Client, source: Source, settings: Settings, sink: Sink) -> None: ...

    async def collect(self, tag: str) -> list[Post]: ...


POLLERS: dict[str, type[Poller]] = {
    "mastodon": MastodonPoller,
    "x": XPoller,
    "rss": FeedPoller,
    "reddit": RedditPoller,
    "bluesky-search": BlueskySearchPoller,
}


@dataclass
class SourcePass:
    """What one pass did for one source."""

    source: str
    posts: int = 0
    errors: int = 0
    skipped: int = 0  # tags another collector held


class Collector(Role):
    """``step`` is one pass over the polled sources, keeping a reader running for each streamed
    one, then the poll interval; ``collect_once`` is one pass over both kinds."""

    role = "collector"
    session: aiohttp.ClientSession | None = None
    last_entries: dict[int, bytes]  # per shard, the newest stream entry this collector published
    clients: dict[str, Client]
    streams: dict[Source, "asyncio.Task[StreamPass]"]
    held: dict[tuple[str, str], Held]  # (source, tag) -> the lease its cursor is written under
    announced: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # what it last said it runs

    async def prepare(self) -> None:
        if self.session is None:
            timeout = aiohttp.ClientTimeout(total=self.settings.http_timeout_s)
            headers = {"User-Agent": USER_AGENT}
            self.session = aiohttp.ClientSession(timeout=timeout, headers=headers)
            self.clients, self.streams, self.held, self.last_entries = {}, {}, {}, {}

    @property
    def _lease_ms(self) -> int:
        return round(self.settings.collection_lease_s * 1000)

    async def step(self) -> int:
        await self.prepare()
        found = await sources.all_sources(self.redis)
        unread = await self._keep_streams([s for s in found if _streams(s)])
        tags = sorted(await watchlist.watched(self.redis))
        self._announce(found, tags)
        polled = [s for s in found if not sources.KINDS[s.platform].streaming]
        passes = await asyncio.gather(*(self._poll(s, tags) for s in polled))
        self.done += sum(p.posts for p in passes)
        wait = self.settings.poll_interval_s
        if unread or any(p.skipped for p in passes):  # held elsewhere, maybe by a dead collector
            wait = min(wait, self.settings.collection_lease_s)
        await self._idle(wait)
        return 0  # counted above, so that the heartbeats during the wait carry it

    async def _idle(self, seconds: float) -> None:
        """Wait for the next pass, beating meanwhile: a collector between passes is alive."""
        deadline = time.monotonic() + seconds
        while not self.stopping.is_set() and (left := deadline - time.monotonic()) > 0:
            await self.beat(force=True)
            await self._sleep(min(left, self.settings.heartbeat_s))

    async def collect_once(self) -> list[SourcePass]:
        """Polled sources for every watched tag; streams until they have caught up."""
        await self.prepare()
        tags = sorted(await watchlist.watched(self.redis))
        found = await sources.all_sources(self.redis)
        self._announce(found, tags)
        return list(await asyncio.gather(*(self._once(s, tags) for s in found)))

    def _announce(self, found: list[Source], tags: list[str]) -> None:
        """Say which sources and tags it runs: at start, and again whenever they change."""
        now = (tuple(source.name for source in found), tuple(tags))
        if now == self.announced:
            return
        self.announced = now
        named = _named([_shown(source) for source in found], "source")
        if not found:
            log.warning(
                "collector: no sources, nothing is collected; add one with 'hashmon sources add' "
                "or 'hashmon sources load seeds/sources.toml'"
            )
        elif not tags:
            log.warning("collector: %s, no watched tags: nothing is collected", named)
        else:
            log.info("collector: %s, %s", named, _named([f"#{tag}" for tag in tags], "tag"))

    async def close(self) -> None:
        self.stopping.set()
        if self.session is not None:
            if self.streams:
                await asyncio.wait(self.streams.values())
            await self.session.close()
        await super().close()

    async def _once(self, source: Source, tags: list[str]) -> SourcePass:
        if not sources.KINDS[source.platform].streaming:
            return await self._poll(source, tags)
        async with self._leased(source, STREAM) as lease:
            if lease is None:
                log.info("%s: another collector is reading the stream", source.name)
                return SourcePass(source.name)
            try:
                streamed = await self._reader(source).run(once=True)
            except ConnectionError as exc:
                await self._failed(source, "*", str(exc), None)
                return SourcePass(source.name, errors=1)
        await self._streamed(source, streamed)
        return SourcePass(source.name, streamed.posts)

    async def _keep_streams(self, streamed: list[Source]) -> int:
        """A reader per streamed source whose lease this collector holds; one whose source was
        removed or edited, or whose lease was lost, is stopped. Returns how many streamed
        sources another collector reads."""
        for source, task in list(self.streams.items()):
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error("%s: stream failed, restarting: %r", source.name, task.exception())
            if source not in streamed or task.done():
                task.cancel()
                del self.streams[source]
        for source in streamed:
            if source not in self.streams and (
                await leases.acquire(self.redis, source.name, STREAM, self.name, self._lease_ms)
            ):
                lease = Held(source.name, STREAM, self.name)
                self.streams[source] = asyncio.create_task(self._stream(source, lease))
        return sum(source not in self.streams for source in streamed)

    async def _stream(self, source: Source, lease: Held) -> StreamPass:
        """Read the stream while the lease lasts; give the lease back when the reader ends."""
        self.held[source.name, STREAM] = lease
        keeper = asyncio.create_task(leases.keep(self.redis, lease, self._lease_ms))
        reader = asyncio.create_task(self._reader(source).run())
        try:
            await asyncio.wait({reader, keeper}, return_when=asyncio.FIRST_COMPLETED)
            if not reader.done():
                raise LeaseLost(f"{source.name}: the stream's lease was lost")
            return reader.result()
        finally:
            for task in (reader, keeper):
                task.cancel()
            await asyncio.gather(reader, keeper, return_exceptions=True)
            if self.held.get((source.name, STREAM)) is lease:
                del self.held[source.name, STREAM]
            await leases.release(self.redis, lease)

    @contextlib.asynccontextmanager
    async def _leased(self, source: Source, tag: str) -> AsyncIterator[Held | None]:
        """The lease on one cursor, known to the sink (which fences the cursor's writes)."""
        async with leases.holding(self.redis, source.name, tag, self.name, self._lease_ms) as lease:
            if lease is None:
                yield None
                return
            self.held[source.name, tag] = lease
            try:
                yield lease
            finally:
                del self.held[source.name, tag]

    def _reader(self, source: Source) -> JetstreamReader | MastodonStreamReader:
        assert self.session is not None  # prepare() made it
        sink = self._sink(source)
        if source.platform == "mastodon":
            return MastodonStreamReader(self._client(source), source, self.settings, sink,
                                        self.redis)  # fmt: skip
        return JetstreamReader(self.redis, self.session, source, self.settings, sink, self.stopping)

    async def _streamed(self, source: Source, streamed: StreamPass) -> None:
        if streamed.unattributed:
            log.info("%s: %d reposts of posts never seen were left out", source.name,
                     streamed.unattributed)  # fmt: skip

    async def _poll(self, source: Source, tags: list[str]) -> SourcePass:
        result = SourcePass(source.name)
        poller = POLLERS[source.platform](
            self._client(source), source, self.settings, self._sink(source)
        )
        for tag in tags if poller.per_tag else ["*"]:
            after = await self._poll_leased(poller, source, tag, result)
            for _ in range(LEASE_RETAKES):
                if after is not _After.LOST:
                    break
                after = await self._poll_leased(poller, source, tag, result)
            if after is _After.STOP:
                break
        if result.posts:
            log.info("%s: %d posts collected", source.name, result.posts)
        return result

    async def _poll_leased(
        self, poller: Poller, source: Source, tag: str, result: SourcePass
    ) -> _After:
        """Collect one tag under its lease; skipped while another collector holds it."""
        async with self._leased(source, tag) as lease:
            if lease is None:
                log.debug("%s: %s is with another collector", source.name, _label(tag))
                result.skipped += 1
                return _After.NEXT
            return await self._poll_tag(poller, source, tag, result)

    async def _poll_tag(
        self, poller: Poller, source: Source, tag: str, result: SourcePass
    ) -> _After:
        """Collect one tag into the pass's result."""
        try:
            posts = await poller.collect(tag)
        except Stopped:
            return _After.STOP
        except LeaseLost as exc:  # it lapsed: taken again if no other collector took it
            log.warning("%s", exc)
            return _After.LOST
        except Unreachable as exc:
            result.errors += 1
            await self._failed(source, "*", f"{exc}; its tags wait for the next pass", None)
            return _After.STOP
        except Malformed as exc:
            result.errors += 1
            await self._failed(source, tag, f"malformed response: {exc}", exc.raw)
            return _After.NEXT
        except FetchError as exc:
            result.errors += 1
            await self._failed(source, tag, str(exc), None)
            return _After.NEXT
        except ValidationError as exc:  # a stored cursor this version cannot read
            result.errors += 1
            reason = f"unreadable cursor ({exc.error_count()} errors); remove and re-add it"
            await self._failed(source, tag, reason, None)
            return _After.NEXT
        result.posts += len(posts)
        newest = max((epoch_ms(post.created_at) for post in posts), default=None)
        await sources.record_success(self.redis, source.name, len(posts), newest)
        log.debug("%s: %d posts for %s", source.name, len(posts), _label(tag))
        return _After.NEXT

    async def _failed(self, source: Source, tag: str, reason: str, raw: bytes | None) -> None:
        """Recorded in the source's health (per tag where it has tags) and, with the raw
        response when there is one, in the dead letters."""
        where = f"{_label(tag)}: " if tag != "*" else ""
        log.warning("%s: %s%s", source.name, where, reason)
        self.note_error(f"{source.name}: {where}{reason}")
        await sources.record_error(self.redis, source.name, f"{where}{reason}")
        if raw is not None:
            await deadletter.add(self.redis, source.name if tag == "*" else f"{source.name}:{tag}",
                                 reason, raw)  # fmt: skip

    def _client(self, source: Source) -> Client:
        """One client per source, kept across passes so its throttle remembers; renewed on edit."""
        client = self.clients.get(source.name)
        if client is None or client.source != source:
            assert self.session is not None  # prepare() made it
            client = Client(self.session, source, self.settings, self.stopping)
            self.clients[source.name] = client
        return client

    def _sink(self, source: Source) -> Sink:
        def published(marks: list[queue.Mark]) -> None:
            self.last_entries = queue.latest([*self.last_entries.items(), *marks])

        def lease(tag: str) -> Held | None:
            return self.held.get((source.name, tag))

        return into_redis(self.redis, source.name, self.settings, published, lease)


def _streams(source: Source) -> bool:
    """Jetstream only streams; a Mastodon instance streams too when it has a token (4.2+
    requires one), while its timelines are still polled for what the stream misses."""
    return sources.KINDS[source.platform].streaming or (
        source.platform == "mastodon" and source.token_env is not None
    )


def _shown(source: Source) -> str:
    """'mastodon mastodon.social'; a source named after its platform is named once."""
    return source.name if source.name == source.platform else f"{source.platform} {source.name}"


def _named(names: list[str], noun: str) -> str:
    """'2 sources (a, b)', the first few named."""
    more = len(names) - NAMES_SHOWN
    listed = ", ".join(names[:NAMES_SHOWN]) + (f", and {more} more" if more > 0 else "")
    return f"{len(names)} {noun}{'' if len(names) == 1 else 's'} ({listed})"


def _label(tag: str) -> str:
    return "the feed" if tag == "*" else f"#{tag}"
