"""Per-post state split into 4,096 small keys by the first three hex digits of the SHA-1 of the
field (a post key, an account id): '<key>:<abc>'.

Redis keeps a small hash or sorted set as one compact listpack, without the dictionary entry (and
skip-list node) a large one spends on every field: some 75 bytes a field, as much as a post's
record. 4,096 keeps them small (up to 512 fields: monitor.encodings) to two million posts a tag,
and few enough that even a small tag fills them. The server's scripts name them the same way
(``redis.sha1hex``). Hashes written whole by earlier versions are read beside them.
"""

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from typing import cast

from redis.asyncio import Redis


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
    async with redis.pipeline(transaction=False) as pipe:
        for name, positions in by_shard.items():
            pipe.hmget(name, [fields[position] for position in positions])
        for positions, values in zip(by_shard.values(), await pipe.execute(), strict=True):
            for position, value in zip(positions, values, strict=True):
                found[position] = value
    missing = [position for position, value in enumerate(found) if value is None]
    if missing:
        older = await redis.hmget(key, [fields[position] for position in missing])
        for position, value in zip(missing, cast(list[bytes | None], older), strict=True):
            found[position] = value
    return found
