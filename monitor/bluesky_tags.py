"""Which tags each Bluesky post with a watched tag carries, so that a repost seen later (a
repost names only its subject) can be counted for them. Jetstream and search both add to it; it
keeps the retention period, counted back from its newest post."""

from collections.abc import Sequence
from typing import cast

import orjson
from redis.asyncio import Redis

from monitor import keys
from monitor.models import Post
from monitor.signals.records import epoch_ms


async def remember(redis: Redis, posts: Sequence[Post], retention_days: float) -> None:
    if not posts:
        return
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hset(keys.BLUESKY_TAGS, mapping={p.id: orjson.dumps(p.hashtags) for p in posts})
        pipe.zadd(keys.BLUESKY_TAG_TIMES, {p.id: epoch_ms(p.created_at) for p in posts})
        pipe.zrevrange(keys.BLUESKY_TAG_TIMES, 0, 0, withscores=True)
        newest = (await pipe.execute())[-1][0][1]
    horizon = newest - retention_days * 86_400_000
    expired = await redis.zrangebyscore(keys.BLUESKY_TAG_TIMES, "-inf", f"({horizon}")
    if expired:
        await redis.hdel(keys.BLUESKY_TAGS, *expired)
        await redis.zrem(keys.BLUESKY_TAG_TIMES, *expired)


async def recall(redis: Redis, uris: Sequence[str]) -> list[list[str] | None]:
    """The tags of each post, as written, or None for a post never seen (or expired)."""
    if not uris:
        return []
    stored = cast(list[bytes | None], await redis.hmget(keys.BLUESKY_TAGS, list(uris)))
    return [orjson.loads(found) if found else None for found in stored]
