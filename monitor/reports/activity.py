"""What the coordination section needs of a window's posts besides its networks, read from the
window's records or, for a window that holds everything the tag retains, from its tallies
(monitor/signals/tally.lua). Both give the same figures; tests compare them."""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import orjson
from redis.asyncio import Redis

from monitor import keys, zsets
from monitor.signals import bursts, cohorts, people, volume
from monitor.signals.records import Record

SEP = "\0"
TimesAndHandles = tuple[dict[str, list[int]], dict[str, str | None]]


class Activity(Protocol):
    @property
    def total(self) -> int:
        """Posts in the window."""

    @property
    def people(self) -> int: ...

    async def series(self, first: int) -> bursts.Series:
        """Posts and people per minute from minute ``first``, the tag's oldest retained one."""

    async def cohorts(self) -> cohorts.Cohorts | None: ...

    async def times_and_handles(self, authors: set[str], named: set[str]) -> TimesAndHandles:
        """Each account id's post times (on any platform), in order, and for those ``named``
        the handle its newest post gives."""


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

    async def series(self, first: int) -> bursts.Series:
        authors: defaultdict[int, set[tuple[str, str]]] = defaultdict(set)
        for r in self.records:
            authors[r.minute].add(people.account(r))
        posts = {minute: counts.posts for minute, counts in self.by_minute.items()}
        return bursts.Series.of(posts, {m: len(found) for m, found in authors.items()}, first)

    async def cohorts(self) -> cohorts.Cohorts | None:
        return cohorts.cohorts(self.records)

    async def times_and_handles(self, authors: set[str], named: set[str]) -> TimesAndHandles:
        times: defaultdict[str, list[int]] = defaultdict(list)
        for r in self.records:
            if r.author_id in authors:
                times[r.author_id].append(r.t_ms)
        return dict(times), {r.author_id: r.handle for r in self.records if r.author_id in named}


@dataclass
class FromTallies:
    redis: Redis
    tag: str
    total: int
    people: int

    async def series(self, first: int) -> bursts.Series:
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(keys.tally(self.tag, "counts"), "series")
        pipe.get(keys.tally(self.tag, "series"))
        base, raw = await pipe.execute()
        raw = (raw or b"") + b"\0" * (-len(raw or b"") % 8)  # whole minutes: BITFIELD may stop
        # after a minute's posts, before its people
        both = np.frombuffer(raw, dtype=">u4").reshape(-1, 2).astype(float)
        start = first - int(base or first)  # the series starts a margin before the oldest post
        both = both[start:] if start >= 0 else np.vstack([np.zeros((-start, 2)), both])
        filled = np.flatnonzero(both[:, 0])
        both = both[: filled[-1] + 1 if len(filled) else 0]
        return bursts.Series(first, both[:, 0].copy(), both[:, 1].copy())

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

    async def times_and_handles(self, authors: set[str], named: set[str]) -> TimesAndHandles:
        """One read of the accounts' posts in 'times' gives their times and the platforms each
        named account posted on; its handle is that of its newest post there (in 'counts')."""
        ordered = sorted(authors | named)
        listed = await zsets.joined(self.redis, keys.tally(self.tag, "times"), ordered, hashed=True)
        times, platforms = {}, {}
        for author, members in zip(ordered, listed, strict=True):
            if members:  # '<account id>\0<platform>\0<time ms>\0<post>' each, joined by NULs
                fields = members.split(b"\0")
                if author in authors:
                    times[author] = sorted(map(int, fields[2::4]))
                if author in named:
                    platforms[author] = {found.decode() for found in set(fields[1::4])}
        return times, await self._handles(platforms)

    async def _handles(self, platforms: dict[str, set[str]]) -> dict[str, str | None]:
        names = [f"h{SEP}{p}{SEP}{a}" for a, found in sorted(platforms.items()) for p in found]
        newest = await self.redis.hmget(keys.tally(self.tag, "counts"), names) if names else []
        handles: dict[str, tuple[int, str, str | None]] = {}
        for name, raw in zip(names, newest, strict=True):
            if raw:
                t, post, handle = orjson.loads(raw)
                author = name.split(SEP)[2]
                if author not in handles or (t, post) > handles[author][:2]:
                    handles[author] = (t, post, handle)
        return {author: found[2] for author, found in handles.items()}
