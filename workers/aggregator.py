"""The aggregator role: folds ingest entries into per-tag state, acking only what it applied."""

import logging
import time

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from monitor import deadletter, encodings, ingest_stats, keys, poststore, queue, watchlist
from monitor.connection import transient
from monitor.settings import Settings
from monitor.signals import catchup
from monitor.signals.apply import Limits, Outcome, apply
from workers.role import Role

log = logging.getLogger(__name__)

RUN_STATS_TTL_S = 86_400
TRIM_EVERY_S = 1.0  # trimming costs three round trips a shard; once a second keeps it short
CATCH_UP_S = 0.2  # of each TRIM_EVERY_S, at most, counting old posts into new tallies


class Aggregator(Role):
    """Claims stale entries first, else reads new ones; an entry is acked after it is applied."""

    role = "aggregator"

    _last_trim = 0.0
    shards = 1  # of the stream, looked up again each TRIM_EVERY_S
    _turn = 0  # which shard an idle read waits on

    def __init__(self, redis: Redis, settings: Settings, name: str | None = None) -> None:
        super().__init__(redis, settings, name)
        self._tallied: set[str] = set()  # tags whose tallies are complete

    async def prepare(self) -> None:
        self.shards = await queue.shard_count(self.redis, self.settings.ingest_shards)
        await queue.ensure_group(self.redis, self.shards)
        if warning := await encodings.ensure(self.redis):
            log.warning("%s", warning)

    async def close(self) -> None:
        """Leave the group when nothing is pending here; pending entries stay to be claimed."""
        await super().close()
        if not self.prepared.is_set():  # it never reached the stream (Redis away or full)
            return
        await queue.trim(self.redis, self.shards)
        if not await queue.pending_for(self.redis, self.name, self.shards):
            await queue.leave(self.redis, self.name, self.shards)

    async def step(self) -> int:
        settings = self.settings
        entries = await queue.claim_stale(
            self.redis, self.name, idle_ms=settings.claim_idle_ms, count=settings.read_count,
            shards=self.shards,
        )  # fmt: skip
        if not entries:
            self._turn += 1
            entries = await queue.read(
                self.redis, self.name, count=settings.read_count, block_ms=settings.read_block_ms,
                shards=self.shards, turn=self._turn,
            )  # fmt: skip
        if entries:
            await self._apply(entries)
            await queue.ack(self.redis, [e.mark for e in entries])  # after apply, never before
        if time.monotonic() - self._last_trim >= TRIM_EVERY_S:
            self._last_trim = time.monotonic()
            await queue.trim(self.redis, self.shards)
            await self._follow_shards()
            await self._catch_up_tallies()
            await poststore.sweep(self.redis, Limits.of(self.settings).retention_ms)
        await self.beat()
        return sum(len(entry.posts) or 1 for entry in entries)

    async def _catch_up_tallies(self) -> None:
        """Count the posts of tags that came before their tallies, for at most CATCH_UP_S a
        tick, so that aggregation goes on meanwhile; a tag once complete stays so."""
        deadline = time.monotonic() + CATCH_UP_S
        for tag in sorted(await watchlist.watched(self.redis) - self._tallied):
            try:
                while not await catchup.step(self.redis, tag):
                    if time.monotonic() > deadline:
                        return
            except ResponseError as exc:  # state damaged by hand: reported from its records
                if transient(exc):
                    raise
                log.warning("%s: the tallies of #%s cannot catch up: %s", self.name, tag, exc)
            self._tallied.add(tag)

    async def _follow_shards(self) -> None:
        """Read the shards a publisher added since (the count only grows)."""
        shards = await queue.shard_count(self.redis)
        if shards != self.shards:
            await queue.ensure_group(self.redis, shards)
            log.info("%s: the ingest stream now has %d shards", self.name, shards)
            self.shards = shards

    async def _apply(self, entries: list[queue.Entry]) -> None:
        for bad in (entry for entry in entries if entry.error):
            await self._dead_letter(bad, bad.error or "")
        good = [entry for entry in entries if not entry.error]
        watched = await watchlist.watched(self.redis)
        limits = Limits.of(self.settings)
        try:
            outcome = await apply(self.redis, [(e.run, e.posts) for e in good], watched, limits)
        except (
            ResponseError
        ) as exc:  # a script refused some entry's data: find it, apply the others
            if transient(exc):  # Redis at its memory limit, busy, failing over: all stay pending
                raise
            outcome = Outcome()
            for entry in good:
                try:
                    one = await apply(self.redis, [(entry.run, entry.posts)], watched, limits)
                except ResponseError as exc:
                    if transient(exc):
                        raise
                    await self._dead_letter(entry, f"refused by the apply script: {exc}")
                    continue
                outcome.merge(one)
        await self._count_runs(outcome)
        await ingest_stats.record(self.redis, outcome.counts, [e.id for e in good])
        log.debug("%s: %d entries, %s", self.name, len(entries), dict(outcome.counts))

    async def _dead_letter(self, entry: queue.Entry, reason: str) -> None:
        """Poison entries are set aside, so they cannot stop aggregation by being redelivered."""
        log.warning("%s: entry %s to dead letters: %s", self.name, entry.id.decode(), reason)
        where = f"{keys.ingest(entry.shard)}:{entry.id.decode()}".removeprefix(f"{keys.PREFIX}:")
        await deadletter.add(self.redis, where, reason, entry.raw)

    async def _count_runs(self, outcome: Outcome) -> None:
        if not outcome.by_run:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for run, counts in outcome.by_run.items():
                for verdict, n in counts.items():
                    pipe.hincrby(keys.run_stats(run), verdict, n)
                pipe.expire(keys.run_stats(run), RUN_STATS_TTL_S)
            await pipe.execute()
