"""Per-post state split into small hashes: read back in the order asked, from the shards and the
whole hash of earlier versions, over as many round trips as the fields take."""

from redis.asyncio import Redis

from monitor import hashed

KEY = "hashmon:{t}:records"


async def test_many_fields_come_back_in_order_from_shards_and_the_whole_hash(
    redis: Redis,
) -> None:
    fields = [f"x:{n}" for n in range(50_000)]  # more than two round trips' worth
    async with redis.pipeline(transaction=False) as pipe:
        for n, field in enumerate(fields):
            if n % 4 == 0:
                pipe.hset(KEY, field, f"whole {n}")  # as earlier versions kept it
            elif n % 4 != 3:  # the fourth quarter: never stored
                pipe.hset(hashed.shard(KEY, field), field, f"split {n}")
        await pipe.execute()
    wanted = [*reversed(fields), "x:7", "x:8"]  # any order, and twice
    found = await hashed.hmget(redis, KEY, wanted)
    expected = {0: "whole", 1: "split", 2: "split", 3: None}
    for field, value in zip(wanted, found, strict=True):
        n = int(field[2:])
        kind = expected[n % 4]
        assert value == (kind and f"{kind} {n}".encode()), field
    stored = {field async for field, _ in hashed.items(redis, KEY)}
    assert stored == {field.encode() for n, field in enumerate(fields) if n % 4 != 3}
    assert await redis.exists(*(f"{KEY}:{n:03x}" for n in range(hashed.SHARDS))) > 4_000  # spread
