"""The ingest stream: batched publish, group reads, ack after apply, claims, safe trimming.

One stream entry carries a batch of posts as digests (field ``posts``: a JSON array of the rows of
``records.Arrival``, all that aggregation needs, computed once by the publisher) and, for an
import, the run id its statistics are counted under. Entries are trimmed only below what every
consumer group has acknowledged, so nothing accepted is lost.
"""

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import orjson
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from monitor import keys
from monitor.connection import transient
from monitor.models import Post
from monitor.signals.records import Arrival, arrival

log = logging.getLogger(__name__)

_Rows = list[tuple[bytes, dict[bytes, bytes]]]
_MAX_WAIT_S = 5.0  # between checks while held back


@dataclass(frozen=True)
class Entry:
    """One stream entry; ``error`` says why it could not be decoded (then ``posts`` is empty)."""

    id: bytes
    posts: list[Arrival]
    run: str | None
    raw: bytes
    error: str | None = None


async def ensure_group(redis: Redis, group: str = keys.AGGREGATORS) -> None:
    """Create the stream and its group, reading from the start; a no-op when they exist."""
    try:
        await redis.xgroup_create(keys.INGEST, group, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


async def publish(
    redis: Redis,
    posts: Sequence[Post],
    *,
    batch: int,
    run: str | None = None,
    max_backlog: int | None = None,
) -> list[bytes]:
    """Add posts in entries of up to ``batch`` posts, in one round trip; returns the entry ids
    in stream order.

    Backpressure: while the stream holds ``max_backlog`` entries or more (aggregators are behind
    or absent), or while Redis refuses writes at its memory limit, this waits and tries again,
    so that what a collector or an import has read is held back, never dropped.
    """
    entries: list[dict[str, bytes | str]] = []
    for start in range(0, len(posts), batch):
        rows = [arrival(post).row() for post in posts[start : start + batch]]
        entries.append({"posts": orjson.dumps(rows)} | ({"run": run} if run else {}))
    added: list[bytes | None] = [None] * len(entries)
    held_since, wait = None, 0.05
    while True:
        backlog = await redis.xlen(keys.INGEST) if max_backlog is not None else 0
        if max_backlog is None or backlog < max_backlog:
            if await _add(redis, entries, added):
                if held_since is not None:
                    log.info(
                        "backpressure: publishing again after %.1f s", time.monotonic() - held_since
                    )
                ids = [entry_id for entry_id in added if entry_id is not None]
                return sorted(ids, key=_as_tuple)  # stream order: an entry tried again is later
            why = "Redis is at its memory limit (maxmemory)"
        else:
            why = f"the ingest stream holds {backlog:,} entries (max {max_backlog:,})"
        if held_since is None:
            held_since = time.monotonic()
            log.warning("backpressure: holding posts back: %s", why)
        await asyncio.sleep(wait)
        wait = min(2 * wait, _MAX_WAIT_S)


async def _add(
    redis: Redis, entries: list[dict[str, bytes | str]], added: list[bytes | None]
) -> bool:
    """XADD the entries not added yet; True when all are in. Memory refusals leave theirs out."""
    todo = [n for n, entry_id in enumerate(added) if entry_id is None]
    pipe = redis.pipeline(transaction=False)
    for n in todo:
        pipe.xadd(keys.INGEST, entries[n])  # type: ignore[arg-type]  # redis-py's FieldT is invariant
    for n, result in zip(todo, await pipe.execute(raise_on_error=False), strict=True):
        if isinstance(result, Exception):
            if not (isinstance(result, ResponseError) and transient(result)):
                raise result
        else:
            added[n] = result
    return all(entry_id is not None for entry_id in added)


def _decode(entry_id: bytes, fields: dict[bytes, bytes]) -> Entry:
    raw = fields.get(b"posts", b"")
    run = fields[b"run"].decode() if b"run" in fields else None
    try:
        return Entry(entry_id, [Arrival.from_row(row) for row in orjson.loads(raw)], run, raw)
    except (ValueError, TypeError) as exc:  # orjson's JSONDecodeError is a ValueError
        return Entry(entry_id, [], run, raw, f"bad entry: {type(exc).__name__}: {exc}")


async def read(
    redis: Redis, consumer: str, *, count: int, block_ms: int, group: str = keys.AGGREGATORS
) -> list[Entry]:
    """New entries for this consumer; blocks at most ``block_ms`` when there are none."""
    reply = await redis.xreadgroup(group, consumer, {keys.INGEST: ">"}, count=count, block=block_ms)
    if not reply:
        return []
    rows = cast(_Rows, reply[0][1])  # type: ignore[index]  # RESP2 reply: [[stream, rows]]
    return [_decode(entry_id, fields) for entry_id, fields in rows]


async def claim_stale(
    redis: Redis, consumer: str, *, idle_ms: int, count: int, group: str = keys.AGGREGATORS
) -> list[Entry]:
    """Take over entries another consumer left pending for ``idle_ms`` (it died or hangs)."""
    claimed: list[Entry] = []
    cursor: bytes | str = "0-0"
    while len(claimed) < count:
        reply = await redis.xautoclaim(
            keys.INGEST, group, consumer, idle_ms, start_id=cursor, count=count - len(claimed)
        )
        cursor, rows = cast(tuple[bytes, _Rows], (reply[0], reply[1]))  # RESP2 reply shape
        claimed += [_decode(entry_id, fields) for entry_id, fields in rows if fields]
        if cursor in (b"0-0", "0-0"):
            break
    return claimed


async def pending_for(redis: Redis, consumer: str, group: str = keys.AGGREGATORS) -> int:
    """How many entries this consumer holds unacknowledged (at most one is looked at)."""
    held = await redis.xpending_range(
        keys.INGEST, group, min="-", max="+", count=1, consumername=consumer
    )
    return len(held)


async def leave(redis: Redis, consumer: str, group: str = keys.AGGREGATORS) -> None:
    """Remove a consumer with nothing pending, so the group lists only live ones."""
    await redis.xgroup_delconsumer(keys.INGEST, group, consumer)


async def ack(redis: Redis, ids: Sequence[bytes], group: str = keys.AGGREGATORS) -> None:
    if ids:
        await redis.xack(keys.INGEST, group, *ids)


async def _safe_floor(redis: Redis) -> bytes | None:
    """The lowest entry id some group still needs: its oldest pending, else its last delivered."""
    groups = await redis.xinfo_groups(keys.INGEST)
    floors = []
    for group in groups:
        pending = await redis.xpending(keys.INGEST, group["name"])
        floor = pending["min"] if pending["pending"] else group["last-delivered-id"]
        floors.append(_as_tuple(floor))
    if not floors:
        return None
    low = min(floors)
    return f"{low[0]}-{low[1]}".encode()


def _as_tuple(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


async def trim(redis: Redis) -> int:
    """Drop entries every group has acknowledged; returns how many went."""
    floor = await _safe_floor(redis)
    if floor is None or floor == b"0-0":
        return 0
    return int(await redis.xtrim(keys.INGEST, minid=floor, approximate=False))


async def applied(redis: Redis, last_id: bytes, group: str = keys.AGGREGATORS) -> bool:
    """Whether every entry up to ``last_id`` has been delivered to the group and acknowledged."""
    info = {g["name"]: g for g in await redis.xinfo_groups(keys.INGEST)}
    name = group.encode()
    if name not in info or _as_tuple(info[name]["last-delivered-id"]) < _as_tuple(last_id):
        return False
    pending = await redis.xpending_range(keys.INGEST, group, min="-", max=last_id, count=1)
    return not pending
