"""Sorted-set reads in one server-side call each: many prefixes at once, where a pipeline pays
a command's encoding and parsing per prefix, and scores as the server writes them, where
redis-py converts each one in Python. A prefix's members are those that start with it and a
NUL."""

from pathlib import Path
from typing import cast

from redis.asyncio import Redis

from monitor import connection

_SCRIPT = (Path(__file__).parent / "zsets.lua").read_text()


async def scored(
    redis: Redis, key: str, low: float | str, high: float | str
) -> list[tuple[bytes, int]]:
    """Members scored from ``low`` to ``high``, with their (integer) scores, lowest first."""
    flat = cast(list[bytes], await _read(redis, key, "scored", [str(low), str(high)]))
    return [(flat[j], int(flat[j + 1])) for j in range(0, len(flat), 2)]


async def members(redis: Redis, key: str, prefixes: list[str]) -> list[list[bytes]]:
    """The members under each prefix, in lexical order."""
    return cast(list[list[bytes]], await _read(redis, key, "members", prefixes))


async def ends(redis: Redis, key: str, prefixes: list[str]) -> list[list[bytes]]:
    """The first and last member under each prefix; none under it: b"" and b""."""
    return cast(list[list[bytes]], await _read(redis, key, "ends", prefixes))


async def _read(redis: Redis, key: str, what: str, args: list[str]) -> list[object]:
    if not args:
        return []
    read = connection.script(redis, _SCRIPT)
    return cast(list[object], await read(keys=[key], args=[what, *args], client=redis))
