"""The form of a tag shown to users, apart from the report builder so that listing a watchlist
loads no report code."""

from redis.asyncio import Redis

from monitor import keys
from monitor.connection import text


async def display(redis: Redis, tag: str) -> str:
    """The most common spelling seen, with '#'; ties go to the alphabetically first."""
    counts = await redis.hgetall(keys.spellings(tag))
    if not counts:
        return f"#{tag}"
    best = min(counts.items(), key=lambda item: (-int(item[1]), item[0]))
    return f"#{text(best[0])}"
