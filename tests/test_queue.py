"""The ingest stream against a real Redis: nothing accepted is lost, trimming keeps the unacked."""

import orjson
from redis.asyncio import Redis

from monitor import deadletter, keys, queue, watchlist
from monitor.reports import tallied
from monitor.settings import Settings
from tests.factories import post
from workers.aggregator import Aggregator


async def test_publish_batches_posts_into_entries(redis: Redis) -> None:
    await queue.ensure_group(redis)
    posts = [post(str(i), "a", ["t"]) for i in range(7)]
    ids = await queue.publish(redis, posts, batch=3, run="r1")
    assert len(ids) == 3
    entries = await queue.read(redis, "c1", count=10, block_ms=10)
    assert [len(e.posts) for e in entries] == [3, 3, 1]
    assert [a.key for e in entries for a in e.posts] == [f"x:{i}" for i in range(7)]
    assert {e.run for e in entries} == {"r1"}


async def test_unacked_entries_are_claimed_by_a_live_consumer(redis: Redis) -> None:
    await queue.ensure_group(redis)
    await queue.publish(redis, [post(str(i), "a", ["t"]) for i in range(4)], batch=1)
    taken = await queue.read(redis, "dead", count=2, block_ms=10)
    assert len(taken) == 2
    assert await queue.claim_stale(redis, "live", idle_ms=60_000, count=10) == []  # not idle yet
    claimed = await queue.claim_stale(redis, "live", idle_ms=0, count=10)
    assert [e.id for e in claimed] == [e.id for e in taken]
    assert await queue.pending_for(redis, "live") == 1
    assert await queue.pending_for(redis, "dead") == 0


async def test_trim_drops_only_what_every_group_acked(redis: Redis) -> None:
    await queue.ensure_group(redis)
    await queue.ensure_group(redis, group="other")
    ids = await queue.publish(redis, [post(str(i), "a", ["t"]) for i in range(5)], batch=1)
    read = await queue.read(redis, "c", count=5, block_ms=10)
    await queue.ack(redis, [e.mark for e in read[:3]])
    assert await queue.trim(redis) == 0  # "other" has read nothing yet
    other = await queue.read(redis, "o", count=5, block_ms=10, group="other")
    await queue.ack(redis, [e.mark for e in other], group="other")
    assert await queue.trim(redis) == 3  # the first still pending entry is entry 4
    remaining = await redis.xrange(keys.INGEST)
    assert [(0, entry_id) for entry_id, _ in remaining or []] == ids[3:]


async def test_applied_waits_for_delivery_and_ack(redis: Redis) -> None:
    await queue.ensure_group(redis)
    ids = await queue.publish(redis, [post(str(i), "a", ["t"]) for i in range(2)], batch=1)
    assert not await queue.applied(redis, ids)
    read = await queue.read(redis, "c", count=5, block_ms=10)
    assert not await queue.applied(redis, ids)
    await queue.ack(redis, [read[0].mark])
    assert await queue.applied(redis, ids[:1])
    assert not await queue.applied(redis, ids)
    await queue.ack(redis, [read[1].mark])
    assert await queue.applied(redis, ids)


async def test_bad_entry_goes_to_dead_letters_and_the_rest_applies(
    redis: Redis, settings: Settings
) -> None:
    await watchlist.add(redis, "default", ["t"])
    await queue.ensure_group(redis)
    await redis.xadd(keys.INGEST, {"posts": b'[{"platform": "x", "id": "1"}]'})  # not a digest
    await redis.xadd(keys.INGEST, {"posts": b"not json"})
    await queue.publish(redis, [post("2", "a", ["t"])], batch=10)
    await Aggregator(redis, settings, name="a").run_until_idle()
    letters = await deadletter.recent(redis)
    assert len(letters) == 2
    assert {letter.raw for letter in letters} == {b'[{"platform": "x", "id": "1"}]', b"not json"}
    assert sorted(letter.reason for letter in letters) == [
        "bad entry: JSONDecodeError: invalid literal, expected 'null': line 1 column 1 (char 0)",
        "bad entry: ValueError: a digest row is not a list of 6 to 8",
    ]
    assert await redis.zcard(keys.timeline("t")) == 1
    assert (await redis.xpending(keys.INGEST, keys.AGGREGATORS))["pending"] == 0


def _with_features(features: object) -> bytes:
    """A digest row that is right but for its coordination features."""
    record = orjson.dumps([5, "repost", "x", 1]).decode()
    return orjson.dumps([["x:2", 5, "repost", "x", {"t": "t"}, record, features]])


async def test_entry_with_malformed_digests_is_set_aside(redis: Redis, settings: Settings) -> None:
    await watchlist.add(redis, "default", ["t"])
    await queue.ensure_group(redis)
    await queue.publish(redis, [post("1", "a", ["t"])], batch=10)
    rows = {
        "wrong type": b'[["x:2", "not a time", "repost", "x", {"t": "t"}, "[1]"]]',
        "disagrees with its record": b'[["x:2", 5, "repost", "x", {"t": "t"}, "[6, 1]"]]',
        "not a list of 6 to 8": b'[["x:2", 5]]',
        "without an author": _with_features({"e": []}),
        "malformed entry": _with_features({"a": "u", "e": [["co-post:toolkit", "../../etc"]]}),
        "malformed tokens": _with_features({"a": "u", "e": [], "s": {"toolkit": [1]}}),
    }
    for row in rows.values():
        await redis.xadd(keys.INGEST, {"posts": row})
    await queue.publish(redis, [post("3", "a", ["t"])], batch=10)
    await Aggregator(redis, settings, name="a").run_until_idle()
    letters = await deadletter.recent(redis)
    assert len(letters) == len(rows)
    for letter, problem in zip(letters, reversed(rows), strict=True):
        assert letter.reason.startswith("bad entry: ValueError") and problem in letter.reason
    assert await redis.zrange(keys.timeline("t"), 0, -1) == [b"x:1", b"x:3"]
    assert (await redis.xpending(keys.INGEST, keys.AGGREGATORS))["pending"] == 0


async def test_entry_whose_script_fails_is_set_aside_and_the_rest_applies(
    redis: Redis, settings: Settings
) -> None:
    await watchlist.add(redis, "default", ["broken", "fine"])
    await queue.ensure_group(redis)
    await redis.set(keys.timeline("broken"), "not a sorted set")  # state damaged by hand
    await queue.publish(redis, [post("1", "a", ["broken"])], batch=10)
    await queue.publish(redis, [post("2", "a", ["fine"])], batch=10)
    await Aggregator(
        redis, settings.model_copy(update={"read_count": 5}), name="a"
    ).run_until_idle()
    letters = await deadletter.recent(redis)
    assert len(letters) == 1
    assert (
        letters[0].reason.startswith("refused by the apply script")
        and "WRONGTYPE" in letters[0].reason
    )
    assert await redis.zrange(keys.timeline("fine"), 0, -1) == [b"x:2"]
    assert (await redis.xpending(keys.INGEST, keys.AGGREGATORS))["pending"] == 0
    levels = [await redis.hget(keys.tally(tag, "counts"), "level") for tag in ("fine", "broken")]
    assert levels[0] == tallied.LEVEL != levels[1]  # caught up, unlike the damaged tag


async def test_aggregator_leaves_the_stream_trimmed(redis: Redis, settings: Settings) -> None:
    await watchlist.add(redis, "default", ["t"])
    await queue.ensure_group(redis)
    await queue.publish(redis, [post(str(i), "a", ["t"]) for i in range(50)], batch=5)
    assert await redis.xlen(keys.INGEST) == 10
    aggregator = Aggregator(redis, settings, name="a")
    await aggregator.run_until_idle()
    await aggregator.close()
    assert await redis.xlen(keys.INGEST) == 1  # the last acked entry marks where the group is
    assert await redis.zcard(keys.timeline("t")) == 50
