"""Mastodon's streaming API: every watched tag's hashtag stream over one WebSocket, for sources
with a token (instances require one since 4.2). Polling the tag timelines goes on beside it and
fills whatever the stream misses while it is down, so the stream keeps no cursor of its own.

Tags are subscribed with ``{"type": "subscribe", "stream": "hashtag", "tag": ...}`` and
unsubscribed when they leave the watchlists; each ``update`` frame carries a status as a JSON
string. A reply's parent is fetched as the poller does, so that the reply counts toward it.
"""

import asyncio
import contextlib
import logging
import time

import aiohttp
import orjson
from redis.asyncio import Redis

from monitor import cancelling, decoded, sources, watchlist
from monitor.models import Post
from monitor.settings import Settings
from monitor.signals.records import epoch_ms
from monitor.sources import Source
from workers.collectors.http import Client
from workers.collectors.jetstream import StreamPass
from workers.collectors.mastodon import MastodonPoller
from workers.collectors.sink import Sink
from workers.role import backoff

log = logging.getLogger(__name__)

_ENDED = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING,
          aiohttp.WSMsgType.ERROR)  # fmt: skip


class MastodonStreamReader:
    """Follows the hashtag streams of one instance until stopped."""

    def __init__(
        self, client: Client, source: Source, settings: Settings, sink: Sink, redis: Redis
    ) -> None:
        self.client, self.source, self.settings, self.sink = client, source, settings, sink
        self.redis = redis
        self.statuses = MastodonPoller(client, source, settings, sink)  # for reply parents
        self.result = StreamPass()

    async def run(self, once: bool = False) -> StreamPass:
        """Reconnect with backoff; ``once`` is not a streaming notion here: polling covers it."""
        failures = 0
        while not once and not self.client.stopping.is_set():
            cancelling.stop_if_asked()
            try:
                await self._connection()
                failures = 0
            except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
                failures += 1
                reason = f"stream: {type(exc).__name__}: {exc}".rstrip(": ")
                delay = backoff(failures, base=self.settings.http_backoff_s, cap=60.0)
                log.warning("%s: %s, reconnecting in %.1fs", self.source.name, reason, delay)
                await sources.record_error(self.redis, self.source.name, reason)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.client.stopping.wait(), timeout=delay)
        return self.result

    async def _connection(self) -> None:
        url = self.source.base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        headers = {"Authorization": f"Bearer {self.client.bearer}"} if self.client.bearer else {}
        subscribed: set[str] = set()
        last_check = 0.0
        async with self.client.session.ws_connect(
            f"{url}/api/v1/streaming", headers=headers, heartbeat=30.0
        ) as socket:
            while not self.client.stopping.is_set():
                cancelling.stop_if_asked()
                if time.monotonic() - last_check >= self.settings.stream_flush_s:
                    subscribed = await self._follow(socket, subscribed)
                    last_check = time.monotonic()
                try:
                    message = await socket.receive(timeout=self.settings.stream_flush_s)
                except TimeoutError:
                    continue
                if message.type in _ENDED:
                    raise ConnectionError(f"stream closed ({message.type.name.lower()})")
                if message.type == aiohttp.WSMsgType.TEXT:
                    await self._take(str(message.data))

    async def _follow(self, socket: aiohttp.ClientWebSocketResponse, now: set[str]) -> set[str]:
        """Subscribe to tags newly watched, unsubscribe from those no longer watched."""
        wanted = await watchlist.watched(self.redis)
        for kind, tags in (("subscribe", wanted - now), ("unsubscribe", now - wanted)):
            for tag in sorted(tags):
                await socket.send_str(orjson.dumps({"type": kind, "stream": "hashtag",
                                                    "tag": tag}).decode())  # fmt: skip
        return wanted

    async def _take(self, frame: str) -> None:
        try:
            event = orjson.loads(frame)
        except orjson.JSONDecodeError:
            await self.sink.reject("a stream frame that is not JSON", frame.encode())
            return
        if decoded.string(event, "error"):
            await self.sink.reject(
                f"stream error: {decoded.string(event, 'error')}", frame.encode()
            )
            return
        if decoded.string(event, "event") not in ("update", "status.update"):
            return  # deletes and the rest: the post as first seen stands
        try:
            status = orjson.loads(decoded.string(event, "payload") or "")
        except orjson.JSONDecodeError:
            await self.sink.reject("an update whose payload is not JSON", frame.encode())
            return
        posts = await self.statuses.posts_of([status] if isinstance(status, dict) else [])
        await self._publish(posts)

    async def _publish(self, posts: list[Post]) -> None:
        if not posts:
            return
        await self.sink.publish(posts)
        self.result.posts += len(posts)
        newest = max(epoch_ms(post.created_at) for post in posts)
        await sources.record_success(self.redis, self.source.name, len(posts), newest)
