"""What a post says (its text, its author's display name, its language, links and all else the
per-tag records that count it do not keep), stored once whatever number of tags carry it.

A body is written by the aggregator once a tag has taken the post, with the post's time (for a
body that posts referring to it gave, the latest of theirs) and the tags that hold it. A tag lets
go of a post when its retention passes the post's time (the apply script's own rule: older than
the tag's newest post minus retention), so the sweep, a thousand bodies at a time, drops a body
once every tag that held it has let go: no per-post bookkeeping runs inside the tag's script,
and a crash between the two leaves nothing wrong, only a body the next sweep drops. Bodies are
spread over POST_SHARDS slots by a CRC of the post key, so that a cluster holds them on every
node, and over POST_SUBSHARDS hashes in each, small enough that Redis keeps them compact
(monitor.encodings): some 150 bytes a post fewer than one large hash a slot, as earlier versions
kept. A post held again moves out of such a hash; the sweep drops the rest as they expire.
"""

import binascii
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

import orjson
from redis.asyncio import Redis

from monitor import connection, keys
from monitor.models import Post

MAX_TEXT = 10_000  # characters; a longer text is cut, and says so

# KEYS: a shard's bodies and holders as earlier versions kept them, whole; the hashes a row goes
# to are their names and ':<sub, 2 hex digits>'. ARGV: JSON [[post key, time ms, [tags], body,
# derived, sub], ...]. A post's own body replaces one a post referring to it gave (derived); the
# holders ('<time>\0<tag>...') grow. A post the whole hashes hold moves into its own ones.
_HOLD = """
local rows = cjson.decode(ARGV[1])
for _, row in ipairs(rows) do
  local key, t, tags, body = row[1], row[2], row[3], row[4]
  local bodies, holders = KEYS[1] .. ':' .. row[6], KEYS[2] .. ':' .. row[6]
  local held = redis.call('HGET', holders, key)
  if not held then
    held = redis.call('HGET', KEYS[2], key)
    if held then
      local kept = redis.call('HGET', KEYS[1], key)
      if kept then redis.call('HSET', bodies, key, kept) end
      redis.call('HDEL', KEYS[1], key)
      redis.call('HDEL', KEYS[2], key)
    end
  end
  if row[5] then
    redis.call('HSETNX', bodies, key, body)
  else
    redis.call('HSET', bodies, key, body)
  end
  local since, holding = string.match(held or '', '^(%d+)(.*)$')
  since, holding = math.max(tonumber(since) or 0, t), holding or ''
  for _, tag in ipairs(tags) do
    if not string.find(holding .. '\\0', '\\0' .. tag .. '\\0', 1, true) then
      holding = holding .. '\\0' .. tag
    end
  end
  redis.call('HSET', holders, key, string.format('%d', since) .. holding)
end
return #rows
"""

# KEYS: bodies, holders. ARGV: pairs of post key and the holders value the sweep read: the body
# goes only if no tag took the post meanwhile.
_DROP = """
local dropped = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    dropped = dropped + 1
  end
end
return dropped
"""


@dataclass(frozen=True, slots=True)
class Body:
    """All of a post its tags' records do not keep, so that record and body give the post back
    (a hashmon JSONL export imports as the same posts)."""

    text: str
    name: str | None
    lang: str | None
    links: tuple[str, ...]
    short_links: dict[str, str] = field(default_factory=dict)
    mentions: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()  # as written
    followers: int | None = None
    media: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Held:
    """A body to store: the post's, or (``derived``) one a post gives the post it refers to,
    kept until that post's own arrives."""

    key: str
    t_ms: int
    tags: Sequence[str]
    body: str
    derived: bool = False


def shard(key: str) -> int:
    return binascii.crc32(key.encode()) % keys.POST_SHARDS


def sub(key: str) -> int:
    """Which of its shard's hashes holds a post."""
    return binascii.crc32(key.encode()) // keys.POST_SHARDS % keys.POST_SUBSHARDS


def cut(text: str) -> str:
    """At most MAX_TEXT characters, with a mark saying how many were left out."""
    if len(text) <= MAX_TEXT:
        return text
    return f"{text[:MAX_TEXT]} […{len(text) - MAX_TEXT:,} more characters cut]"


def body(post: Post) -> str:
    """What the stream carries: the post's body (its text exactly as posted, cut past MAX_TEXT,
    and the rest of Body) and, where the platform gave that post's text beside it, the body of
    the post it refers to, else null."""
    own = [cut(post.text), post.author_name, post.lang, post.links, post.short_links,
           post.mentions, post.hashtags, post.author_followers, post.media]  # fmt: skip
    referred = post.referenced_text if post.referenced_id else None
    ref: list[object] | None = (
        None if referred is None else [cut(referred), post.referenced_author_name, None, []]
    )
    return orjson.dumps([own, ref]).decode()


def loads(raw: bytes | str) -> Body:
    """A stored body; one a post gave the post it refers to has its first four fields only."""
    text, name, lang, links, *rest = orjson.loads(raw)
    if not rest:
        return Body(text, name, lang, tuple(links))
    short_links, mentions, hashtags, followers, media = rest
    return Body(text, name, lang, tuple(links), short_links, tuple(mentions), tuple(hashtags),
                followers, tuple(media))  # fmt: skip


async def hold(redis: Redis, held: Iterable[Held]) -> None:
    """Store bodies with the tags that hold them: idempotent, one call per shard."""
    by_shard: dict[int, list[list[object]]] = defaultdict(list)
    for row in held:
        by_shard[shard(row.key)].append(
            [row.key, row.t_ms, list(row.tags), row.body, row.derived, f"{sub(row.key):02x}"]
        )
    if not by_shard:
        return
    script = connection.script(redis, _HOLD)
    calls = [([keys.posts(n, "bodies"), keys.posts(n, "holders")], [orjson.dumps(rows)])
             for n, rows in by_shard.items()]  # fmt: skip
    await connection.run_scripts(redis, script, calls)


async def read(redis: Redis, wanted: Sequence[str]) -> dict[str, Body]:
    """The bodies stored of these post keys (those never stored, or dropped, are left out), from
    their hashes or the whole ones of earlier versions."""
    by_hash: dict[str, list[str]] = defaultdict(list)
    for key in dict.fromkeys(wanted):
        by_hash[keys.posts(shard(key), "bodies", sub(key))].append(key)
    raw = await _hmget(redis, by_hash)
    older: dict[str, list[str]] = defaultdict(list)
    for key in (key for key, found in raw.items() if found is None):
        older[keys.posts(shard(key), "bodies")].append(key)
    raw |= await _hmget(redis, older)
    return {key: loads(found) for key, found in raw.items() if found}


async def _hmget(redis: Redis, by_hash: dict[str, list[str]]) -> dict[str, bytes | None]:
    async with redis.pipeline(transaction=False) as pipe:
        for name, fields in by_hash.items():
            pipe.hmget(name, fields)
        answers = await pipe.execute()
    return {field: found for fields, raws in zip(by_hash.values(), answers, strict=True)
            for field, found in zip(fields, raws, strict=True)}  # fmt: skip


SWEEP_COUNT = 1_000  # holders looked at per sweep step
# The hashes the sweep goes through in turn: every shard's own, then the whole ones of earlier
# versions; a step looks at up to HASHES_A_STEP of them, so that a full pass takes STEPS_A_PASS
# steps at most.
_HASHES: list[tuple[int, int | None]] = [
    (n, s) for s in range(keys.POST_SUBSHARDS) for n in range(keys.POST_SHARDS)
]
_HASHES += [(n, None) for n in range(keys.POST_SHARDS)]
HASHES_A_STEP = 64
STEPS_A_PASS = -(-len(_HASHES) // HASHES_A_STEP)


async def sweep(redis: Redis, retention_ms: int, count: int = SWEEP_COUNT) -> int:
    """One step of the sweep over the hashes, in turn, until it has looked at ``count`` holders:
    drop the bodies that no tag holds any longer. Returns how many were dropped. Any number of
    aggregators may sweep at once."""
    state = await redis.hmget(keys.POSTS_SWEEP, ["shard", "cursor"])
    position, cursor = int(state[0] or 0) % len(_HASHES), int(state[1] or 0)
    looked = dropped = 0
    for _ in range(HASHES_A_STEP):
        number, sub = _HASHES[position]
        holders = keys.posts(number, "holders", sub)
        cursor, answer = await redis.hscan(holders, cursor, count=count - looked)
        found = cast(dict[bytes, bytes], answer)
        looked += len(found)
        dropped += await _drop(redis, number, sub, found, retention_ms)
        if cursor == 0:
            position = (position + 1) % len(_HASHES)
        if looked >= count:
            break
    await redis.hset(keys.POSTS_SWEEP, mapping={"shard": position, "cursor": cursor})
    return dropped


async def _drop(
    redis: Redis, number: int, sub: int | None, found: dict[bytes, bytes], retention_ms: int
) -> int:
    """Drop the bodies of these holders that every tag holding them has let go of."""
    horizons = await _horizons(redis, {tag for raw in found.values() for tag in _tags(raw)},
                               retention_ms)  # fmt: skip
    gone = []
    for key, raw in found.items():
        since = int(raw.split(b"\0", 1)[0])
        if all(since < horizons[tag] for tag in _tags(raw)):
            gone += [key, raw]
    if not gone:
        return 0
    names = [keys.posts(number, "bodies", sub), keys.posts(number, "holders", sub)]
    return int(await connection.script(redis, _DROP)(keys=names, args=gone, client=redis))


def _tags(raw: bytes) -> list[str]:
    return [tag.decode() for tag in raw.split(b"\0")[1:]]


async def _horizons(redis: Redis, tags: set[str], retention_ms: int) -> dict[str, float]:
    """Per tag, the time before which it holds no post: its newest post's less retention (the
    apply script's cutoff); a tag with no post holds none."""
    ordered = sorted(tags)
    async with redis.pipeline(transaction=False) as pipe:
        for tag in ordered:
            pipe.zrange(keys.timeline(tag), -1, -1, withscores=True)
        newest = await pipe.execute()
    return {tag: (found[0][1] - retention_ms if found else float("inf"))
            for tag, found in zip(ordered, newest, strict=True)}  # fmt: skip


async def usage(redis: Redis) -> tuple[int, int]:
    """Bodies stored, and the bytes the store takes (exact: every field is counted)."""
    async with redis.pipeline(transaction=False) as pipe:
        for number, sub in _HASHES:
            pipe.hlen(keys.posts(number, "bodies", sub))
            for what in ("bodies", "holders"):
                pipe.memory_usage(keys.posts(number, what, sub), samples=0)
        found = await pipe.execute()
    return sum(found[0::3]), sum(n or 0 for n in found[1::3] + found[2::3])
