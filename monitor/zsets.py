"""Lexical ranges of a sorted set under many prefixes in one server-side call, where a pipeline
pays a command's encoding and parsing per prefix. A prefix's members are those that start with
it and a NUL. A set may be split into shards named after each prefix's 3rd to 6th bytes
(``sharded``: '<key>:<bytes>'), as the coordination index is, or after the first three hex
digits of each prefix's SHA-1 (``hashed``: '<key>:<abc>'), as the tallies' post times are."""

from collections.abc import Sequence
from pathlib import Path
from typing import cast

from redis.asyncio import Redis

from monitor import connection

_SCRIPT = (Path(__file__).parent / "zsets.lua").read_text()


async def joined(
    redis: Redis, key: str, prefixes: Sequence[str], hashed: bool = False
) -> list[bytes]:
    """The members under each prefix, in lexical order, joined by NULs; none under it: b""."""
    layout = "hashed" if hashed else "whole"
    return cast(list[bytes], await _read(redis, key, "joined", layout, prefixes))


async def firsts(
    redis: Redis, key: str, prefixes: Sequence[str | bytes], sharded: bool = False
) -> list[bytes]:
    """The first member under each prefix; none under it: b""."""
    layout = "sharded" if sharded else "whole"
    return cast(list[bytes], await _read(redis, key, "first", layout, prefixes))


async def between(
    redis: Redis,
    key: str,
    prefixes: Sequence[str | bytes],
    low: str,
    high: str,
    sharded: bool = False,
) -> list[list[bytes]]:
    """The members under each prefix whose rest lies from ``low`` to ``high`` (inclusive, and
    any rest that starts with ``high``), in lexical order."""
    args = [low, high, *prefixes] if prefixes else []
    layout = "sharded" if sharded else "whole"
    return cast(list[list[bytes]], await _read(redis, key, "between", layout, args))


async def _read(
    redis: Redis, key: str, what: str, layout: str, args: Sequence[str | bytes]
) -> list[object]:
    if not args:
        return []
    read = connection.script(redis, _SCRIPT)
    return cast(list[object], await read(keys=[key], args=[what, layout, *args], client=redis))
