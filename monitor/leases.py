"""Collection leases: at most one collector works a (source, tag) cursor at a time.

A collector takes a tag's lease before polling it (or a streamed source's before reading it),
keeps it alive while it works, and gives it back after. A collector that dies loses its leases
when they expire, and another takes over from the saved cursor. Cursor writes are fenced: a
collector whose lease has gone cannot overwrite the cursor of the one that took over.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from monitor import cancelling, keys
from monitor.connection import text, transient

log = logging.getLogger(__name__)

_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_SAVE_CURSOR = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
"""


class LeaseLost(Exception):
    """The lease expired and another collector may hold it: stop working this cursor."""


@dataclass
class Held:
    """A lease this collector holds; ``lost`` is set when a renewal found it gone."""

    source: str
    tag: str
    owner: str
    lost: asyncio.Event = field(default_factory=asyncio.Event)


async def acquire(redis: Redis, source: str, tag: str, owner: str, ttl_ms: int) -> bool:
    """Take the lease, or take it again: a collector whose Redis came back from its AOF finds
    its own leases there, and must not wait for them to expire. While Redis refuses writes
    (memory limit, failover) this waits, as publishing does."""
    return bool(await _waiting(redis, _ACQUIRE, [keys.lease(source, tag)], [owner, ttl_ms]))


async def renew(redis: Redis, lease: Held, ttl_ms: int) -> bool:
    key = keys.lease(lease.source, lease.tag)
    return bool(await redis.eval(_RENEW, 1, key, lease.owner, ttl_ms))


async def release(redis: Redis, lease: Held) -> None:
    key = keys.lease(lease.source, lease.tag)
    await redis.eval(_RELEASE, 1, key, lease.owner)


async def save_cursor(redis: Redis, lease: Held, cursor: str) -> None:
    """Write the tag's cursor only while the lease is ours; raise LeaseLost otherwise."""
    where = [keys.lease(lease.source, lease.tag), keys.cursors(lease.source)]
    if not await _waiting(redis, _SAVE_CURSOR, where, [lease.owner, lease.tag, cursor]):
        lease.lost.set()
        raise LeaseLost(f"{lease.source}: the lease on {lease.tag!r} was lost; cursor not saved")


async def _waiting(redis: Redis, script: str, names: list[str], args: list[str | int]) -> object:
    """Run a script that writes, waiting while Redis refuses writes (memory limit, failover)."""
    wait = 0.05
    while True:
        try:
            return await redis.eval(script, len(names), *names, *args)
        except ResponseError as exc:
            if not transient(exc):
                raise
            log.warning("lease: Redis refuses writes for now: %s", exc)
        await asyncio.sleep(wait)
        wait = min(2 * wait, 5.0)


@contextlib.asynccontextmanager
async def holding(
    redis: Redis, source: str, tag: str, owner: str, ttl_ms: int
) -> AsyncIterator[Held | None]:
    """The lease for the block (None when another collector holds it), renewed every third of
    its time to live while the block runs, and given back after."""
    if not await acquire(redis, source, tag, owner, ttl_ms):
        yield None
        return
    lease = Held(source, tag, owner)
    keeper = asyncio.create_task(keep(redis, lease, ttl_ms))
    try:
        yield lease
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        await release(redis, lease)


async def keep(redis: Redis, lease: Held, ttl_ms: int) -> None:
    """Renew every third of the time to live until cancelled; return (setting ``lost``) once
    it is gone. A cancel that lands during a renewal ends it at its next turn (cancelling)."""
    while True:
        cancelling.stop_if_asked()
        await asyncio.sleep(ttl_ms / 3000)
        if not await renew(redis, lease, ttl_ms):
            log.warning("%s: lease on %r lost", lease.source, lease.tag)
            lease.lost.set()
            return


async def holders(redis: Redis) -> dict[str, list[str]]:
    """Collector name -> the 'source tag' leases it holds now."""
    found: dict[str, list[str]] = {}
    async for key in redis.scan_iter(match=keys.lease_pattern(), count=1_000):
        owner = await redis.get(key)
        if owner is not None:
            source, tag = keys.lease_parts(text(cast(bytes, key)))
            found.setdefault(text(owner), []).append(f"{source} {tag}")
    return {name: sorted(held) for name, held in found.items()}
