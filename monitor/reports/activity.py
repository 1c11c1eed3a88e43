"""What the coordination section needs of a window's posts besides its networks, read from the
window's records or, for a window that holds everything the tag retains, from its tallies
(monitor/signals/tally.lua). Both give the same figures; tests compare them."""

import bisect
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from redis.asyncio import Redis

from monitor import keys
from monitor.connection import text
from monitor.signals import cohorts, people, volume
from monitor.signals.records import Record
from monitor.timewindow import MINUTE_MS, Window

SEP = "\0"
Scored = list[tuple[bytes, float]]


class Activity(Protocol):
    @property
    def total(self) -> int:
        """Posts in the window."""

    @property
    def people(self) -> int: ...

    async def minutes(self) -> tuple[dict[int, int], dict[int, int]]:
        """Posts and people per minute with posts."""

    async def cohorts(self) -> cohorts.Cohorts | None: ...

    async def posts_of(self, authors: set[str]) -> int:
        """Posts by these account ids (on any platform)."""

    async def times_of(self, authors: set[str]) -> dict[str, list[int]]:
        """Each account id's post times, in order."""

    async def between(self, first_minute: int, last_minute: int) -> list[Record]:
        """The records of these minutes."""


@dataclass
class FromRecords:
    records: Sequence[Record]  # oldest first
    by_minute: dict[int, volume.Minute]

    @property
    def total(self) -> int:
        return len(self.records)

    @property
    def people(self) -> int:
        return people.distinct_people(self.records)

    async def minutes(self) -> tuple[dict[int, int], dict[int, int]]:
        authors: defaultdict[int, set[tuple[str, str]]] = defaultdict(set)
        for r in self.records:
            authors[r.minute].add(people.account(r))
        posts = {minute: counts.posts for minute, counts in self.by_minute.items()}
        return posts, {minute: len(found) for minute, found in authors.items()}

    async def cohorts(self) -> cohorts.Cohorts | None:
        return cohorts.cohorts(self.records)

    async def posts_of(self, authors: set[str]) -> int:
        return sum(r.author_id in authors for r in self.records)

    async def times_of(self, authors: set[str]) -> dict[str, list[int]]:
        times: defaultdict[str, list[int]] = defaultdict(list)
        for r in self.records:
            if r.author_id in authors:
                times[r.author_id].append(r.t_ms)
        return dict(times)

    async def between(self, first_minute: int, last_minute: int) -> list[Record]:
        start = bisect.bisect_left(self.records, first_minute, key=lambda r: r.minute)
        end = bisect.bisect_right(self.records, last_minute, key=lambda r: r.minute)
        return list(self.records[start:end])


@dataclass
class FromTallies:
    redis: Redis
    tag: str
    total: int
    people: int

    async def minutes(self) -> tuple[dict[int, int], dict[int, int]]:
        ranked = await self.redis.zrange(keys.tally(self.tag, "minutes"), 0, -1, withscores=True)
        posts = {int(minute): -int(score) for minute, score in cast(Scored, ranked)}
        names = [f"n{SEP}m{SEP}{minute}" for minute in posts]
        found = await self.redis.hmget(keys.tally(self.tag, "counts"), names) if names else []
        return posts, {m: int(n or 0) for m, n in zip(posts, found, strict=True)}

    async def cohorts(self) -> cohorts.Cohorts | None:
        if not self.total:
            return None
        created = await self.redis.hgetall(keys.tally(self.tag, "created"))
        days = Counter({int(day): int(n) for day, n in created.items() if day != b"new"})
        accounts = keys.tally(self.tag, "accounts")
        size = await self.redis.zcard(accounts)
        medians, p90, top = cohorts.positions(size)
        pipe = self.redis.pipeline(transaction=False)
        ranks = sorted({0, p90, *medians})
        for rank in ranks:
            pipe.zrange(accounts, rank, rank, withscores=True)
        for first in (top, 10):
            pipe.zrange(accounts, 0, first - 1, withscores=True)
        *at, first_1pct, first_10 = await pipe.execute()
        posting = cohorts.Posting(
            size,
            {rank: -int(found[0][1]) for rank, found in zip(ranks, at, strict=True)},
            -int(sum(score for _, score in first_1pct)),
            -int(sum(score for _, score in first_10)),
        )
        return cohorts.assemble(posting, self.total, days, int(created.get(b"new", 0)))

    async def posts_of(self, authors: set[str]) -> int:
        pipe = self.redis.pipeline(transaction=False)
        for author in authors:
            pipe.zlexcount(keys.tally(self.tag, "times"), f"[{author}{SEP}", f"({author}\1")
        return sum(await pipe.execute()) if authors else 0

    async def times_of(self, authors: set[str]) -> dict[str, list[int]]:
        ordered = sorted(authors)
        pipe = self.redis.pipeline(transaction=False)
        for author in ordered:
            pipe.zrange(keys.tally(self.tag, "times"), f"[{author}{SEP}", f"({author}\1",
                        bylex=True)  # fmt: skip
        found = {}
        for author, members in zip(ordered, await pipe.execute() if ordered else [], strict=True):
            if members:
                found[author] = sorted(int(text(m).split(SEP)[2]) for m in members)
        return found

    async def between(self, first_minute: int, last_minute: int) -> list[Record]:
        window = Window(first_minute * MINUTE_MS, (last_minute + 1) * MINUTE_MS - 1)
        return await people.in_window(self.redis, self.tag, window)
