"""Where input that cannot be processed goes, with its reason and raw bytes, instead of crashing."""

from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from monitor import keys

MAX_LETTERS = 100_000  # approximate cap: the oldest letters go first


@dataclass(frozen=True)
class Letter:
    id: str
    source: str
    reason: str
    raw: bytes


async def add(redis: Redis, source: str, reason: str, raw: bytes) -> None:
    await redis.xadd(
        keys.DEADLETTER,
        {"source": source, "reason": reason, "raw": raw},
        maxlen=MAX_LETTERS,
        approximate=True,
    )


async def count(redis: Redis) -> int:
    return int(await redis.xlen(keys.DEADLETTER))


async def recent(redis: Redis, limit: int = 20) -> list[Letter]:
    """The newest letters first."""
    rows = cast(
        list[tuple[bytes, dict[bytes, bytes]]], await redis.xrevrange(keys.DEADLETTER, count=limit)
    )  # RESP2 reply shape
    return [
        Letter(i.decode(), f[b"source"].decode(), f[b"reason"].decode(), f[b"raw"]) for i, f in rows
    ]
