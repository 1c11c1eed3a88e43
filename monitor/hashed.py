"""Per-post state split into 4,096 small keys by the first three hex digits of the SHA-1 of the
field (a post key, an account id): '<key>:<abc>'.

Redis keeps a small hash or sorted set as one compact listpack, without the dictionary entry (and
skip-list node) a large one spends on every field: some 75 bytes a field, as much as a post's
record. 4,096 keeps them small (up to 512 fields: monitor.encodings) to two million posts a tag,
and few enough that even a small tag fills them. The server's scripts name them the same way
(monitor/signals/hashed.lua). Hashes written whole by earlier versions are read beside them.
"""

import hashlib
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import cast

from redis.asyncio import Redis

SHARDS = 4096
_FIELDS_A_TRIP = 20_000  # fields read in one round trip: the reply stays a few megabytes
_SHARDS_A_TRIP = 256


def shard(key: str, field: str) -> str:
    """The key holding ``field`` of the split ``key``."""
    return f"{key}:{hashlib.sha1(field.encode(), usedforsecurity=False).hexdigest()[:3]}"


async def hmget(redis: Redis, key: str, fields: Sequence[str]) -> list[bytes | None]:
    """The fields' values from their shards (one HMGET a shard), or from the whole hash where
    earlier versions kept them; None where neither holds one."""
    by_shard: dict[str, list[int]] = defaultdict(list)
    for position, field in enumerate(fields):
        by_shard[shard(key, field)].append(position)
    found: list[bytes | None] = [None] * len(fields)
    groups = list(by_shard.items())
    while groups:
        trip: list[tuple[str, list[int]]] = []
        size = 0
        while groups and (not trip or size + len(groups[-1][1]) <= _FIELDS_A_TRIP):
            trip.append(groups.pop())
            size += len(trip[-1][1])
        async with redis.pipeline(transaction=False) as pipe:
            for name, positions in trip:
                pipe.hmget(name, [fields[position] for position in positions])
            for (_, positions), values in zip(trip, await pipe.execute(), strict=True):
                for position, value in zip(positions, values, strict=True):
                    found[position] = value
    missing = [position for position, value in enumerate(found) if value is None]
    if missing:
        older = await redis.hmget(key, [fields[position] for position in missing])
        for position, value in zip(missing, cast(list[bytes | None], older), strict=True):
            found[position] = value
    return found


async def items(redis: Redis, key: str) -> AsyncIterator[tuple[bytes, bytes]]:
    """Every field and value of the split hash: the whole hash of earlier versions, then each
    shard."""
    async for field, value in redis.hscan_iter(key, count=1_000):
        yield field, value
    names = [f"{key}:{n:03x}" for n in range(SHARDS)]
    for start in range(0, SHARDS, _SHARDS_A_TRIP):
        async with redis.pipeline(transaction=False) as pipe:
            for name in names[start : start + _SHARDS_A_TRIP]:
                pipe.hgetall(name)
            for held in cast(list[dict[bytes, bytes]], await pipe.execute()):
                for field, value in held.items():
                    yield field, value
