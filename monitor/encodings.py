"""The server setting the coordination index's compact layout relies on.

The index lives in 65,536 small sorted sets (monitor/signals/coordinate.lua). Redis keeps a small
set compact (one listpack, no dictionary entry or skip-list node per member) only while every
member is at most ``zset-max-ziplist-value`` bytes: 64 by default, fewer than most index members
hold. The embedded server and deploy/redis.conf set 128; on any other server the aggregators
raise it where it is lower, and say so where the server refuses (CONFIG is often disabled on
managed Redis): the index then takes two to three times the bytes (303 against 111 a member on
50,000 posts of `make bench-engine`'s campaign).
"""

from typing import cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError

SETTING, WANTED = "zset-max-ziplist-value", 128


async def ensure(redis: Redis) -> str | None:
    """Raise the server's setting to WANTED where it is lower; a one-line warning when it
    cannot be read or raised, else None."""
    try:
        found = cast(dict[bytes | str, bytes | str], await redis.config_get(SETTING))
        value = next(iter(found.values()), b"0")
        if int(value) >= WANTED:
            return None
        await redis.config_set(SETTING, WANTED)
    except (ResponseError, ValueError) as error:
        return (
            f"could not set {SETTING} {WANTED} ({error}): set it in redis.conf, or the "
            "coordination index takes two to three times the bytes"
        )
    return None
