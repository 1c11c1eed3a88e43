"""Where a collector's results go: posts to the ingest stream, bad payloads to dead letters,
and its cursors beside its source, saved only after the posts they cover are published."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from monitor import bluesky_tags, deadletter, leases, queue, sources
from monitor.leases import Held, LeaseLost
from monitor.models import Post
from monitor.platforms import bluesky
from monitor.settings import Settings


@dataclass(frozen=True)
class Sink:
    publish: Callable[[list[Post]], Awaitable[None]]
    reject: Callable[[str, bytes], Awaitable[None]]
    load_cursor: Callable[[str], Awaitable[str | None]]
    save_cursor: Callable[[str, str], Awaitable[None]]


def into_redis(
    redis: Redis,
    source: str,
    settings: Settings,
    published: Callable[[list[queue.Mark]], None] = lambda _: None,
    lease: Callable[[str], Held | None] | None = None,
) -> Sink:
    """The sink every collector uses; ``published`` hears where each batch's entries went.

    Bluesky posts are remembered with their tags first, for the reposts of them to come. With
    ``lease`` (a tag's lease, as the collector holds it), a cursor is written only under it.
    """

    async def publish(posts: list[Post]) -> None:
        if not posts:
            return
        tagged = [p for p in posts if p.platform == bluesky.PLATFORM and p.kind != "repost"]
        await bluesky_tags.remember(redis, tagged, settings.retention_days)
        published(await queue.publish(
            redis, posts, batch=settings.publish_batch, max_backlog=settings.max_stream_backlog,
            shards=settings.ingest_shards,
        ))  # fmt: skip

    async def reject(reason: str, raw: bytes) -> None:
        await deadletter.add(redis, source, reason, raw)
        await sources.record_error(redis, source, reason)

    async def load_cursor(tag: str) -> str | None:
        return await sources.cursor(redis, source, tag)

    async def save_cursor(tag: str, cursor: str) -> None:
        if lease is None:
            await sources.save_cursor(redis, source, tag, cursor)
        elif (held := lease(tag)) is None:
            raise LeaseLost(f"{source}: no lease on {tag!r}; cursor not saved")
        else:
            await leases.save_cursor(redis, held, cursor)

    return Sink(publish, reject, load_cursor, save_cursor)
