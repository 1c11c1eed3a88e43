"""The aggregator role: folds ingest entries into per-tag state, acking only what it applied."""

import logging

from monitor import deadletter, keys, queue, watchlist
from monitor.signals.apply import apply
from workers.role import Role

log = logging.getLogger(__name__)

RUN_STATS_TTL_S = 86_400


class Aggregator(Role):
    """Claims stale entries first, else reads new ones; an entry is acked after it is applied."""

    role = "aggregator"

    async def prepare(self) -> None:
        await queue.ensure_group(self.redis)

    async def close(self) -> None:
        """Leave the group when nothing is pending here; pending entries stay to be claimed."""
        await super().close()
        if not await queue.pending_for(self.redis, self.name):
            await queue.leave(self.redis, self.name)

    async def step(self) -> int:
        entries = await queue.claim_stale(
            self.redis,
            self.name,
            idle_ms=self.settings.claim_idle_ms,
            count=self.settings.read_count,
        )
        if not entries:
            entries = await queue.read(
                self.redis, self.name, count=self.settings.read_count,
                block_ms=self.settings.read_block_ms,
            )  # fmt: skip
        if entries:
            await self._apply(entries)
            await queue.ack(
                self.redis, [entry.id for entry in entries]
            )  # after apply, never before
            await queue.trim(self.redis)
        await self.beat()
        return sum(len(entry.posts) or 1 for entry in entries)

    async def _apply(self, entries: list[queue.Entry]) -> None:
        for bad in (entry for entry in entries if entry.error):
            log.warning("%s: entry %s to dead letters: %s", self.name, bad.id.decode(), bad.error)
            await deadletter.add(self.redis, f"ingest:{bad.id.decode()}", bad.error or "", bad.raw)
        good = [(entry.run, entry.posts) for entry in entries if not entry.error]
        watched = await watchlist.watched(self.redis)
        retention_ms = int(self.settings.retention_days * 86_400_000)
        outcome = await apply(self.redis, good, watched, retention_ms)
        if outcome.by_run:
            async with self.redis.pipeline(transaction=False) as pipe:
                for run, counts in outcome.by_run.items():
                    for verdict, n in counts.items():
                        pipe.hincrby(keys.run_stats(run), verdict, n)
                    pipe.expire(keys.run_stats(run), RUN_STATS_TTL_S)
                await pipe.execute()
        log.debug("%s: %d entries, %s", self.name, len(entries), dict(outcome.counts))
