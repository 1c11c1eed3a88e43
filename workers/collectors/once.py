"""One collection pass for cron and tests: returns once its posts are aggregated."""

import asyncio
import signal

from redis.asyncio import Redis

from monitor.settings import Settings
from workers.collectors.collector import Collector, SourcePass
from workers.oneshot import aggregating, until_applied


async def collect_once(redis: Redis, settings: Settings) -> list[SourcePass]:
    """SIGINT or SIGTERM ends the pass between requests; what was published stays queued."""
    collector = Collector(redis, settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, collector.stopping.set)
    try:
        async with aggregating(redis, settings, f"{collector.name}-aggregator") as aggregator:
            results = await collector.collect_once()
            await until_applied(redis, collector.last_entries.items(), aggregator)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await collector.close()
    return results
