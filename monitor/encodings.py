"""The server settings the compact layout of per-post state relies on.

The coordination index lives in 65,536 small sorted sets (monitor/signals/coordinate.lua), a
tag's post times, features and records in 4,096 small sorted sets and hashes each
(monitor.hashed). Redis keeps a small set or hash compact (one listpack, no dictionary entry or
skip-list node per member) only while it has at most ``*-max-ziplist-entries`` members (128 for
sorted sets by default, which stays: at 512 the sets of a campaign's common words stay compact
too, 93 bytes a post fewer at 200,000 posts, but Redis spends a fifth more CPU a post) of at most
``*-max-ziplist-value`` bytes (64 by default, fewer than most index members, features and
records hold). The embedded server and deploy/redis.conf set these; on any other server the
aggregators raise them where they are lower, and say so where the server refuses (CONFIG is
often disabled on managed Redis): per-post state then takes up to three times the bytes (303
against 111 an index member on 50,000 posts of `make bench-engine`'s campaign, at a value of 64).
"""

from typing import cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError

WANTED = {
    "zset-max-ziplist-value": 128,
    "hash-max-ziplist-value": 1024,
    "hash-max-ziplist-entries": 512,
}


async def ensure(redis: Redis) -> str | None:
    """Raise each of the server's settings to WANTED where it is lower; a one-line warning
    naming those that cannot be read or raised, else None."""
    refused, errors = [], []
    for setting, wanted in WANTED.items():
        try:
            found = cast(dict[bytes | str, bytes | str], await redis.config_get(setting))
            if int(next(iter(found.values()), b"0")) < wanted:
                await redis.config_set(setting, wanted)
        except (ResponseError, ValueError) as error:
            refused.append(f"{setting} {wanted}")
            errors.append(str(error))
    if not refused:
        return None
    return (
        f"could not set {', '.join(refused)} ({'; '.join(dict.fromkeys(errors))}): set them in "
        "redis.conf, or per-post state takes up to three times the bytes"
    )
