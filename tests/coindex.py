"""The coordination index as tests read it: from its shards, and the whole index of earlier
versions; and split hashes (features, records) as earlier versions stored them."""

from typing import cast

import orjson
from redis.asyncio import Redis

from monitor import hashed, keys
from monitor.signals import matching


async def members(redis: Redis, tag: str) -> list[bytes]:
    """Every member, in lexical order."""
    found = cast(list[bytes], await redis.zrange(keys.coindex(tag), 0, -1))
    async for shard in redis.scan_iter(match=f"{keys.coindex(tag)}:*", count=1_000):
        found += cast(list[bytes], await redis.zrange(shard, 0, -1))
    return sorted(found)


async def count(redis: Redis, tag: str, digest: str, low: str, high: str) -> int:
    """Members under a key's digest between two lexical bounds."""
    sets = (keys.coindex_shard(tag, digest), keys.coindex(tag))
    return sum([await redis.zlexcount(name, low, high) for name in sets])


async def to_whole(redis: Redis, tag: str) -> None:
    """Moves every shard's members into the one sorted set earlier versions kept the index in."""
    async for shard in redis.scan_iter(match=f"{keys.coindex(tag)}:*", count=1_000):
        held = cast(list[bytes], await redis.zrange(shard, 0, -1))
        await redis.zadd(keys.coindex(tag), dict.fromkeys(held, 0))
        await redis.delete(shard)


async def to_shards(redis: Redis, tag: str) -> None:
    """Moves the whole index's members into their shards, as this version writes them."""
    for member in cast(list[bytes], await redis.zrange(keys.coindex(tag), 0, -1)):
        await redis.zadd(keys.coindex_shard(tag, member[2:6].decode()), {member: 0})
    await redis.delete(keys.coindex(tag))


async def features(redis: Redis, tag: str) -> dict[bytes, bytes]:
    """Every post's stored features, from their shards and the whole hash of earlier versions."""
    return {field: value async for field, value in hashed.items(redis, keys.cofeatures(tag))}


async def hash_to_whole(redis: Redis, key: str) -> dict[bytes, bytes]:
    """Moves every field of a split hash (monitor.hashed) into the one hash earlier versions kept
    whole; what it holds."""
    held = {field: value async for field, value in hashed.items(redis, key)}
    await redis.delete(*(f"{key}:{n:03x}" for n in range(hashed.SHARDS)))
    if held:
        await redis.hset(key, mapping={field: value for field, value in held.items()})
    return held


async def features_to_earlier(redis: Redis, tag: str) -> int:
    """Moves every post's features into the one hash earlier versions kept them in, as the JSON
    they wrote; how many."""
    held = await hash_to_whole(redis, keys.cofeatures(tag))
    if held:
        await redis.hset(keys.cofeatures(tag), mapping={
            post: orjson.dumps(matching.unpack(raw)) for post, raw in held.items()
        })  # fmt: skip
    return len(held)
