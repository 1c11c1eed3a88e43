"""The ingest stream: batched publish, group reads, ack after apply, claims, safe trimming.

The stream is split into shards (separate stream keys, each with its own consumer group), so
that on a Redis Cluster the queue spreads over the nodes. Publishers deal entries out over the
shards in turn; aggregators read every shard. Any post may go to any shard, because applying is
idempotent and per tag, whatever the order. The shard count only grows: the most any process
asked for, so that no shard is ever left unread.

One stream entry carries a batch of posts as digests (field ``posts``: a JSON array of the rows of
``records.Arrival``, all that aggregation needs, computed once by the publisher) and, for an
import, the run id its statistics are counted under. Entries are trimmed only below what every
consumer group has acknowledged, so nothing accepted is lost.
"""

import asyncio
import itertools
import logging
import random
import time
from collections.abc import Iterable, Sequence
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
_SHARDED_BLOCK_MS = 100  # an idle aggregator waits on one shard at a time, so not for long
_turn = itertools.count(random.randrange(1 << 16))  # deals this process's entries over shards

Mark = tuple[int, bytes]  # (shard, entry id): where one published entry went

_GROW = """
local n = tonumber(redis.call('GET', KEYS[1]) or '1')
if tonumber(ARGV[1]) > n then redis.call('SET', KEYS[1], ARGV[1]); n = tonumber(ARGV[1]) end
return n
"""


@dataclass(frozen=True)
class Entry:
    """One stream entry; ``error`` says why it could not be decoded (then ``posts`` is empty)."""

    id: bytes
    posts: list[Arrival]
    run: str | None
    raw: bytes
    error: str | None = None
    shard: int = 0

    @property
    def mark(self) -> Mark:
        return self.shard, self.id


async def shard_count(redis: Redis, wanted: int = 1) -> int:
    """How many shards the stream has, raised to ``wanted`` first when that is more (a plain
    read otherwise, so that it works while Redis refuses writes)."""
    found = int(await redis.get(keys.INGEST_SHARDS) or 1)
    if wanted > found:
        found = int(await redis.eval(_GROW, 1, keys.INGEST_SHARDS, wanted))
    return found


async def ensure_group(redis: Redis, shards: int = 1, group: str = keys.AGGREGATORS) -> None:
    """Create each shard and its group, reading from the start; a no-op where they exist."""
    for shard in range(shards):
        try:
            await redis.xgroup_create(keys.ingest(shard), group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


async def length(redis: Redis, shards: int) -> int:
    """Entries in the stream, every shard together."""
    return sum(await asyncio.gather(*(redis.xlen(keys.ingest(s)) for s in range(shards))))


async def publish(
    redis: Redis,
    posts: Sequence[Post],
    *,
    batch: int,
    run: str | None = None,
    max_backlog: int | None = None,
    shards: int = 1,
) -> list[Mark]:
    """Add posts in entries of up to ``batch`` posts, dealt over the shards, in one round trip;
    returns where each entry went, in stream order.

    Backpressure: while the stream holds ``max_backlog`` entries or more (aggregators are behind
    or absent), or while Redis refuses writes at its memory limit, this waits and tries again,
    so that what a collector or an import has read is held back, never dropped.
    """
    entries: list[dict[str, bytes | str]] = []
    for start in range(0, len(posts), batch):
        rows = [arrival(post).row() for post in posts[start : start + batch]]
        entries.append({"posts": orjson.dumps(rows)} | ({"run": run} if run else {}))
    count = await shard_count(redis, shards)
    targets = [next(_turn) % count for _ in entries]
    added: list[bytes | None] = [None] * len(entries)
    held_since, wait = None, 0.05
    while True:
        backlog = await length(redis, count) if max_backlog is not None else 0
        if max_backlog is None or backlog < max_backlog:
            if await _add(redis, entries, targets, added):
                if held_since is not None:
                    log.info(
                        "backpressure: publishing again after %.1f s", time.monotonic() - held_since
                    )
                marks = [(shard, i) for shard, i in zip(targets, added, strict=True) if i]
                return sorted(marks, key=lambda mark: _as_tuple(mark[1]))  # retried ones last
            why = "Redis is at its memory limit (maxmemory)"
        else:
            why = f"the ingest stream holds {backlog:,} entries (max {max_backlog:,})"
        if held_since is None:
            held_since = time.monotonic()
            log.warning("backpressure: holding posts back: %s", why)
        await asyncio.sleep(wait)
        wait = min(2 * wait, _MAX_WAIT_S)


async def _add(
    redis: Redis,
    entries: list[dict[str, bytes | str]],
    targets: list[int],
    added: list[bytes | None],
) -> bool:
    """XADD the entries not added yet; True when all are in. Memory refusals leave theirs out."""
    todo = [n for n, entry_id in enumerate(added) if entry_id is None]
    pipe = redis.pipeline(transaction=False)
    for n in todo:
        pipe.xadd(keys.ingest(targets[n]), entries[n])  # type: ignore[arg-type]  # redis-py's FieldT is invariant
    for n, result in zip(todo, await pipe.execute(raise_on_error=False), strict=True):
        if isinstance(result, Exception):
            if not (isinstance(result, ResponseError) and transient(result)):
                raise result
        else:
            added[n] = result
    return all(entry_id is not None for entry_id in added)


def _decode(shard: int, entry_id: bytes, fields: dict[bytes, bytes]) -> Entry:
    raw = fields.get(b"posts", b"")
    run = fields[b"run"].decode() if b"run" in fields else None
    try:
        posts = [Arrival.from_row(row) for row in orjson.loads(raw)]
        return Entry(entry_id, posts, run, raw, shard=shard)
    except (ValueError, TypeError) as exc:  # orjson's JSONDecodeError is a ValueError
        return Entry(entry_id, [], run, raw, f"bad entry: {type(exc).__name__}: {exc}", shard)


async def read(
    redis: Redis,
    consumer: str,
    *,
    count: int,
    block_ms: int,
    shards: int = 1,
    turn: int = 0,
    group: str = keys.AGGREGATORS,
) -> list[Entry]:
    """New entries for this consumer from every shard. When all are empty, this waits on one
    shard (``turn`` says which, so an idle aggregator watches each in its turn), at most
    ``block_ms``, and briefly when there are several shards."""
    if shards > 1:
        found = await asyncio.gather(
            *(_read_shard(redis, consumer, s, count, None, group) for s in range(shards))
        )
        if entries := [entry for part in found for entry in part]:
            return entries
        block_ms = min(block_ms, _SHARDED_BLOCK_MS)
    return await _read_shard(redis, consumer, turn % shards, count, block_ms, group)


async def _read_shard(
    redis: Redis, consumer: str, shard: int, count: int, block_ms: int | None, group: str
) -> list[Entry]:
    streams = {keys.ingest(shard): ">"}
    reply = await redis.xreadgroup(group, consumer, streams, count=count, block=block_ms)  # type: ignore[arg-type]  # redis-py's StreamIdT is invariant
    if not reply:
        return []
    rows = cast(_Rows, reply[0][1])  # type: ignore[index]  # RESP2 reply: [[stream, rows]]
    return [_decode(shard, entry_id, fields) for entry_id, fields in rows]


async def claim_stale(
    redis: Redis,
    consumer: str,
    *,
    idle_ms: int,
    count: int,
    shards: int = 1,
    group: str = keys.AGGREGATORS,
) -> list[Entry]:
    """Take over entries another consumer left pending for ``idle_ms`` (it died or hangs)."""
    found = await asyncio.gather(
        *(_claim_shard(redis, consumer, s, idle_ms, count, group) for s in range(shards))
    )
    return [entry for part in found for entry in part]


async def _claim_shard(
    redis: Redis, consumer: str, shard: int, idle_ms: int, count: int, group: str
) -> list[Entry]:
    claimed: list[Entry] = []
    cursor: bytes | str = "0-0"
    while len(claimed) < count:
        stream, wanted = keys.ingest(shard), count - len(claimed)
        reply = await redis.xautoclaim(
            stream, group, consumer, idle_ms, start_id=cursor, count=wanted
        )
        cursor, rows = cast(tuple[bytes, _Rows], (reply[0], reply[1]))  # RESP2 reply shape
        claimed += [_decode(shard, entry_id, fields) for entry_id, fields in rows if fields]
        if cursor in (b"0-0", "0-0"):
            break
    return claimed


async def pending_for(
    redis: Redis, consumer: str, shards: int = 1, group: str = keys.AGGREGATORS
) -> int:
    """On how many shards this consumer holds entries unacknowledged (one entry looked at each)."""
    held = await asyncio.gather(*(
        redis.xpending_range(keys.ingest(s), group, min="-", max="+", count=1,
                             consumername=consumer)
        for s in range(shards)
    ))  # fmt: skip
    return sum(len(part) for part in held)


async def leave(
    redis: Redis, consumer: str, shards: int = 1, group: str = keys.AGGREGATORS
) -> None:
    """Remove a consumer with nothing pending, so the groups list only live ones."""
    for shard in range(shards):
        await redis.xgroup_delconsumer(keys.ingest(shard), group, consumer)


def latest(marks: Iterable[Mark]) -> dict[int, bytes]:
    """The last entry id per shard among these marks."""
    found: dict[int, bytes] = {}
    for shard, entry_id in marks:
        if shard not in found or _as_tuple(entry_id) > _as_tuple(found[shard]):
            found[shard] = entry_id
    return found


async def ack(redis: Redis, marks: Sequence[Mark], group: str = keys.AGGREGATORS) -> None:
    by_shard: dict[int, list[bytes]] = {}
    for shard, entry_id in marks:
        by_shard.setdefault(shard, []).append(entry_id)
    await asyncio.gather(*(redis.xack(keys.ingest(s), group, *ids) for s, ids in by_shard.items()))


async def _safe_floor(redis: Redis, stream: str) -> bytes | None:
    """The lowest entry id some group still needs: its oldest pending, else its last delivered."""
    groups = await redis.xinfo_groups(stream)
    floors = []
    for group in groups:
        pending = await redis.xpending(stream, group["name"])
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


async def trim(redis: Redis, shards: int = 1) -> int:
    """Drop entries every group has acknowledged; returns how many went."""
    dropped = 0
    for stream in map(keys.ingest, range(shards)):
        floor = await _safe_floor(redis, stream)
        if floor is not None and floor != b"0-0":
            dropped += int(await redis.xtrim(stream, minid=floor, approximate=False))
    return dropped


async def applied(redis: Redis, marks: Iterable[Mark], group: str = keys.AGGREGATORS) -> bool:
    """Whether every entry up to these marks, on each of their shards, has been delivered to
    the group and acknowledged."""
    for shard, last_id in latest(marks).items():
        stream = keys.ingest(shard)
        info = {g["name"]: g for g in await redis.xinfo_groups(stream)}
        name = group.encode()
        if name not in info or _as_tuple(info[name]["last-delivered-id"]) < _as_tuple(last_id):
            return False
        if await redis.xpending_range(stream, group, min="-", max=last_id, count=1):
            return False
    return True
