"""Tallies for a tag whose posts arrived before them (an upgrade): the aggregators count its
retained posts into them a chunk at a time, oldest first, while new posts keep arriving, then
convert its pairs into pair logs; the tag's reports read its records until they are complete
(see tally.lua, pairlog.lua and catchup.lua)."""

from pathlib import Path

from redis.asyncio import Redis

from monitor import connection, keys

CHUNK = 500  # posts a call: each holds the server for some 50 ms, as an apply call may
_HERE = Path(__file__).parent
_PARTS = ("hashed", "pairlog", "tally", "catchup")
_SCRIPT = "".join((_HERE / f"{name}.lua").read_text() for name in _PARTS)


async def step(redis: Redis, tag: str, chunk: int = CHUNK) -> bool:
    """Count the next chunk of the tag's posts (or pairs); True once its tallies are complete."""
    names = [keys.timeline(tag), keys.records(tag), *(keys.tally(tag, t) for t in keys.TALLIES)]
    names += [keys.copairs(tag, index) for index in keys.LOGGED]
    counted = connection.script(redis, _SCRIPT)
    return bool(await counted(keys=names, args=[tag, chunk], client=redis))
