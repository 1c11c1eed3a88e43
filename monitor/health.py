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
    """Roles whose heartbeat has not expired; registered in one sorted set, so no key scans."""
    now = time.time()
    await redis.zremrangebyscore(keys.ROLES, "-inf", now)  # dead ones that never said goodbye
    found = []
    members = cast(list[bytes], await redis.zrangebyscore(keys.ROLES, now, "+inf"))  # no scores
    for member in members:
        kind, _, name = text(member).partition(":")
        beat = cast(dict[bytes, bytes], await redis.hgetall(keys.heartbeat(kind, name)))
        if kind == role and beat:
            age = max(0.0, now - float(beat[b"at"]))
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
        roles=await roles(redis, "aggregator") + await roles(redis, "collector"),
        stream_length=length,
        pending=pending,
        dead_letters=await deadletter.count(redis),
        watched_tags=len(await watchlist.watched(redis)),
    )
