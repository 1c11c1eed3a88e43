"""The settings the coordination index's compact shards rely on: raised by the aggregators where
they are lower, and a warning naming them where the server refuses."""

import logging
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import ConnectionPool, Redis

from monitor import encodings, keys, queue
from monitor.settings import Settings
from tests.factories import post
from tests.test_coordination import TAG, aggregate, matching, weights
from workers.aggregator import Aggregator

# Three accounts posting one text: index members of some 100 bytes, more than Redis's default 64.
POSTS = [matching("co-post", "extended", n, f"account-{n:020d}", n) for n in range(3)]
LOW = {  # Redis's defaults (7.x keeps hashes of 128 fields compact, 6.2 of 512)
    "zset-max-ziplist-value": 64,
    "hash-max-ziplist-value": 64,
    "hash-max-ziplist-entries": 128,
}


async def settings_of(redis: Redis) -> dict[str, int]:
    found = {}
    for name in encodings.WANTED:
        found[name] = int(next(iter((await redis.config_get(name)).values())) or 0)
    return found


async def set_all(redis: Redis, values: dict[str, int]) -> None:
    for name, value in values.items():
        await redis.config_set(name, value)


@pytest.fixture
async def without_config(redis: Redis) -> AsyncIterator[Redis]:
    """A client whose user may run anything but CONFIG, as on many managed servers."""
    await redis.acl_setuser(
        "noconfig", enabled=True, passwords=["+secret"], keys=["*"], categories=["+@all"],
        commands=["-config"], reset=True,
    )  # fmt: skip
    pool = redis.connection_pool
    kwargs = {**pool.connection_kwargs, "username": "noconfig", "password": "secret"}
    limited = ConnectionPool(pool.connection_class, **kwargs)
    client = Redis(connection_pool=limited)
    yield client
    await client.aclose()
    await limited.aclose()  # a client given a pool leaves it open
    await redis.acl_deluser("noconfig")


async def test_an_aggregator_raises_the_settings_and_per_post_state_stays_compact(
    redis: Redis, settings: Settings
) -> None:
    """Three posts of long index members and features, and 200 of 200 accounts, 10 minutes
    apart: more than Redis's default 128 in one hash were they kept whole."""
    await set_all(redis, LOW)
    more = [post(f"c{n}", f"c{n}", [TAG], text=f"said {n} #{TAG}", at=600 * n) for n in range(200)]
    await aggregate(redis, settings, POSTS + more, batch=100)
    assert await settings_of(redis) == encodings.WANTED
    index = [key async for key in redis.scan_iter(match=f"{keys.coindex(TAG)}:*")]
    split = [keys.cofeatures(TAG), keys.records(TAG), keys.tally(TAG, "times")]
    shards = index + [key for name in split async for key in redis.scan_iter(match=f"{name}:*")]
    assert len(shards) > len(index) + 100
    assert {await redis.object("encoding", key) for key in shards} <= {b"ziplist", b"listpack"}
    assert len(await weights(redis, "co-post", "extended")) == 6


async def test_a_server_refusing_config_gets_a_warning_and_the_posts_still_apply(
    redis: Redis, without_config: Redis, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    await aggregate(redis, settings, [])  # the tag on the watchlist, the group in place
    await set_all(redis, LOW)
    warning = await encodings.ensure(without_config)
    wanted = ", ".join(f"{name} {limit}" for name, limit in encodings.WANTED.items())
    assert warning and warning.startswith(f"could not set {wanted} (")
    assert "\n" not in warning
    with caplog.at_level(logging.WARNING, logger="workers.aggregator"):
        await queue.publish(without_config, POSTS, batch=2)
        await Aggregator(without_config, settings, name="limited").run_until_idle()
    assert warning in caplog.text and await settings_of(redis) == LOW
    assert len(await weights(redis, "co-post", "extended")) == 6
    await set_all(redis, encodings.WANTED)  # as the suite's server has it
