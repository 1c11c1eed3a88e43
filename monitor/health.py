"""What is running and how far behind it is: every live role with its last error, each
aggregator's pending entries, what each collector is working on, the queue, dead letters."""

import time
from typing import Any, cast

from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from monitor import deadletter, keys, leases, queue, watchlist
from monitor.connection import text

NEAR_LIMIT = 0.9  # share of maxmemory from which status warns
_COUNTED = 100_000  # entries counted one by one at most, where Redis cannot tell the lag
ROLE_ORDER = ("aggregator", "collector", "api", "reporter", "digester", "alerter")


class Role(BaseModel):
    role: str
    name: str  # role-host-pid: where it runs
    done: int  # posts (or bad entries) handled since it started
    seconds_since_beat: float
    last_error: str | None = None
    seconds_since_error: float | None = None
    pending: int | None = None  # an aggregator's entries delivered to it, not yet applied
    working_on: list[str] = []  # a collector's leases: 'source tag' ('*': the whole source)


class Status(BaseModel):
    roles: list[Role]
    stream_length: int  # entries held, acknowledged ones included until trimmed
    shard_lengths: list[int]  # the same, per shard of the stream
    pending: int  # delivered to an aggregator, not yet applied
    waiting: int = 0  # not yet applied: pending, plus entries not delivered yet (the backlog)
    oldest_waiting_s: float | None  # age of the oldest entry not yet applied (the queue's lag)
    dead_letters: int
    watched_tags: int
    conditions: list[str] = []  # what holds collection back now (backpressure, memory)


async def roles(redis: Redis, shards: int = 1) -> list[Role]:
    """Roles whose heartbeat has not expired; registered in one sorted set, so no key scans."""
    now = time.time()
    await redis.zremrangebyscore(keys.ROLES, "-inf", now)  # dead ones that never said goodbye
    members = cast(list[bytes], await redis.zrangebyscore(keys.ROLES, now, "+inf"))  # no scores
    pending = await _pending_by_consumer(redis, shards)
    holding = await leases.holders(redis)
    found = []
    for member in members:
        kind, _, name = text(member).partition(":")
        beat = {
            text(k): text(v) for k, v in (await redis.hgetall(keys.heartbeat(kind, name))).items()
        }
        if not beat:
            continue
        error_at = float(beat["error_at"]) if "error_at" in beat else None
        found.append(Role(
            role=kind, name=name, done=int(beat["done"]),
            seconds_since_beat=max(0.0, now - float(beat["at"])),
            last_error=beat.get("error"),
            seconds_since_error=None if error_at is None else max(0.0, now - error_at),
            pending=pending.get(name, 0) if kind == "aggregator" else None,
            working_on=holding.get(name, []) if kind == "collector" else [],
        ))  # fmt: skip
    order = {kind: n for n, kind in enumerate(ROLE_ORDER)}
    return sorted(found, key=lambda r: (order.get(r.role, len(order)), r.name))


async def _pending_by_consumer(redis: Redis, shards: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for stream in map(keys.ingest, range(shards)):
        if not await redis.exists(stream):
            continue
        try:
            consumers: list[dict[str, Any]] = await redis.xinfo_consumers(stream, keys.AGGREGATORS)
        except ResponseError:  # published to before any aggregator made the group
            continue
        for consumer in consumers:
            name = text(consumer["name"])
            found[name] = found.get(name, 0) + int(consumer["pending"])
    return found


async def _waiting(redis: Redis, stream: str, length: int) -> int:
    """Entries the aggregators have not acknowledged: their group's pending entries and lag
    (XINFO GROUPS, Redis 7), or those after its last delivered entry (counted, on Redis 6.2);
    before the group exists, every entry."""
    ours = [g for g in await redis.xinfo_groups(stream) if text(g["name"]) == keys.AGGREGATORS]
    if not ours:
        return length
    group = ours[0]
    lag = group.get("lag")
    if lag is None:  # Redis 6.2, or a stream whose deletions hide the lag
        after = f"({text(group['last-delivered-id'])}"
        lag = len(cast(list[object], await redis.xrange(stream, after, "+", count=_COUNTED)))
    return int(group["pending"]) + int(lag)


async def _oldest_waiting_ms(redis: Redis, stream: str) -> int | None:
    """The stream time of the oldest entry delivered but not applied, or not yet delivered."""
    groups = await redis.xinfo_groups(stream)
    ours = [g for g in groups if text(g["name"]) == keys.AGGREGATORS]
    if not ours:
        first = await redis.xrange(stream, count=1)
        return _ms(first[0][0]) if first else None
    times = []
    summary = await redis.xpending(stream, keys.AGGREGATORS)
    if summary["pending"] and summary["min"] is not None:
        times.append(_ms(summary["min"]))
    after = f"({text(ours[0]['last-delivered-id'])}"
    if undelivered := await redis.xrange(stream, after, count=1):
        times.append(_ms(undelivered[0][0]))
    return min(times, default=None)


def _ms(entry_id: object) -> int:
    """The time part of a stream entry id, in ms."""
    return int(text(cast(bytes, entry_id)).split("-")[0])


async def conditions(redis: Redis, stream_length: int, max_backlog: int | None) -> list[str]:
    """Why publishers are waiting, if they are: the backlog limit, or Redis's memory limit."""
    found = []
    if max_backlog is not None and stream_length >= max_backlog:
        found.append(
            f"backpressure: the ingest stream holds {stream_length:,} entries (max "
            f"{max_backlog:,}); collection and imports wait for the aggregators"
        )
    memory = await redis.info("memory")
    limit, used = int(memory.get("maxmemory", 0)), int(memory["used_memory"])
    if limit and used >= NEAR_LIMIT * limit:  # a write is refused once it would pass the limit
        found.append(
            f"Redis is at {used / limit:.0%} of its memory limit ({used:,} of {limit:,} bytes): "
            "writes are refused or soon will be, and collection, imports and aggregation wait "
            "for room; raise maxmemory or free memory"
        )
    return found


async def status(redis: Redis, max_backlog: int | None = None) -> Status:
    shards = await queue.shard_count(redis)
    lengths, pending, waiting, oldest = [], 0, 0, []
    for stream in map(keys.ingest, range(shards)):
        lengths.append(int(await redis.xlen(stream)))
        if lengths[-1] or await redis.exists(stream):
            pending += sum(int(g["pending"]) for g in await redis.xinfo_groups(stream))
            waiting += await _waiting(redis, stream, lengths[-1])
            oldest.append(await _oldest_waiting_ms(redis, stream))
    first = min((ms for ms in oldest if ms is not None), default=None)
    return Status(
        roles=await roles(redis, shards),
        stream_length=sum(lengths),
        shard_lengths=lengths,
        pending=pending,
        waiting=waiting,
        oldest_waiting_s=None if first is None else max(0.0, time.time() - first / 1000),
        dead_letters=await deadletter.count(redis),
        watched_tags=len(await watchlist.watched(redis)),
        conditions=await conditions(redis, sum(lengths), max_backlog),
    )
