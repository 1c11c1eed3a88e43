"""What is running and how far behind it is: heartbeats, the queue, dead letters."""

import time
from typing import cast

from pydantic import BaseModel
from redis.asyncio import Redis

from monitor import deadletter, keys, watchlist
from monitor.connection import text


class Role(BaseModel):
    role: str
    name: str
    done: int  # posts (or bad entries) handled since it started
    seconds_since_beat: float


class Status(BaseModel):
    roles: list[Role]
    stream_length: int  # entries held, acknowledged ones included until trimmed
    pending: int  # delivered to an aggregator, not yet applied
    dead_letters: int
    watched_tags: int


async def roles(redis: Redis, role: str) -> list[Role]:
    """Roles whose heartbeat has not expired (a stopped or dead one lets it expire)."""
    found = []
    async for raw_key in redis.scan_iter(match=keys.heartbeat_pattern(role)):
        beat = cast(dict[bytes, bytes], await redis.hgetall(raw_key))
        if beat:
            name = text(raw_key).rsplit(":", 1)[-1]
            age = max(0.0, time.time() - float(beat[b"at"]))
            found.append(
                Role(role=role, name=name, done=int(beat[b"done"]), seconds_since_beat=age)
            )
    return sorted(found, key=lambda r: r.name)


async def status(redis: Redis) -> Status:
    length = int(await redis.xlen(keys.INGEST))
    pending = 0
    if length or await redis.exists(keys.INGEST):
        groups = await redis.xinfo_groups(keys.INGEST)
        pending = sum(int(g["pending"]) for g in groups)
    return Status(
        roles=await roles(redis, "aggregator"),
        stream_length=length,
        pending=pending,
        dead_letters=await deadletter.count(redis),
        watched_tags=len(await watchlist.watched(redis)),
    )
