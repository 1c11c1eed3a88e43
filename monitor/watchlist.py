"""Named watchlists (an investigation each). A tag may sit on several; aggregators follow the union.

All watchlist keys share the {watch} hash slot, so each change is one transaction.
"""

import re
from collections.abc import Iterable

from redis.asyncio import Redis

from monitor import hashtags, keys
from monitor.connection import text

DEFAULT = "default"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)


class InvalidListName(ValueError):
    """A watchlist name that cannot be used; the message names the problem."""


class UnknownList(InvalidListName):
    """A watchlist that does not exist, where one that does is needed."""


def parse_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidListName(
            f"invalid list name {name[:40]!r}: use letters, digits, '.', '_' or '-' "
            "(at most 64, starting with a letter or digit)"
        )
    return name


def parse_tags(raw: Iterable[str]) -> list[str]:
    """Normalise every tag or raise on the first invalid one, so a bad argument changes nothing."""
    return list(dict.fromkeys(hashtags.parse(tag) for tag in raw))


async def add(redis: Redis, name: str, tags: list[str]) -> int:
    """Put normalised tags on a list; returns how many were not on it yet."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.sadd(keys.WATCHLISTS, name)
        pipe.sadd(keys.watchlist(name), *tags)
        added = (await pipe.execute())[1]
    return int(added)


async def remove(redis: Redis, name: str, tags: list[str]) -> int:
    """Take tags off a list (a list left empty goes too); returns how many were on it."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.srem(keys.watchlist(name), *tags)
        pipe.scard(keys.watchlist(name))
        removed, left = await pipe.execute()
    if not left:
        await redis.srem(keys.WATCHLISTS, name)
    return int(removed)


async def tags(redis: Redis, name: str) -> list[str]:
    return sorted(text(t) for t in await redis.smembers(keys.watchlist(name)))


async def names(redis: Redis) -> list[str]:
    return sorted(text(n) for n in await redis.smembers(keys.WATCHLISTS))


async def require(redis: Redis, name: str) -> None:
    """Raise UnknownList, naming the lists that exist, unless ``name`` is one of them."""
    found = await names(redis)
    if name in found:
        return
    there = f"the lists are {', '.join(found)}" if found else "there is none yet"
    raise UnknownList(
        f"no watchlist {name!r} ({there}); "
        f"add tags to it first: hashmon watch add TAG --list {name}"
    )


async def watched(redis: Redis) -> set[str]:
    """Every tag on any list: what aggregators keep state for."""
    lists = await names(redis)
    if not lists:
        return set()
    return {text(t) for t in await redis.sunion([keys.watchlist(n) for n in lists])}
