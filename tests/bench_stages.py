"""The import's two stages timed apart, so that the benchmark shows where its time goes.

Parsing (JSON, Post validation, digests) needs no Redis; publish+aggregate is what is left when
the digests are made beforehand. Their CPU costs per post, summed with Redis's, give the fastest
rate the machine's CPUs could reach even if every part ran in parallel.
"""

import asyncio
import os
import time
from dataclasses import dataclass
from typing import cast

import orjson
from redis.asyncio import Redis

from monitor import keys, queue
from monitor.importers.files import Archive
from monitor.settings import Settings
from monitor.signals.records import arrival
from workers.aggregator import Aggregator
from workers.oneshot import until_applied

WINDOW = 10  # entries published ahead of aggregation, as the importer does


@dataclass(frozen=True)
class Stage:
    """One stage's rate, and the CPU it used per post in this process and in Redis."""

    posts: int
    seconds: float
    python_cpu_s: float
    redis_cpu_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.posts / self.seconds

    def per_post_us(self, cpu_s: float) -> float:
        return cpu_s * 1e6 / max(self.posts, 1)


def digests(archive: Archive, batch: int) -> list[bytes]:
    """The stream payloads an import would publish: digest rows, ``batch`` posts an entry."""
    rows = [arrival(post).row() for line, _ in archive.lines() for post in line.posts]
    return [orjson.dumps(rows[start : start + batch]) for start in range(0, len(rows), batch)]


def parse_only(archive: Archive, batch: int) -> Stage:
    """Read, validate and digest every post, touching no Redis."""
    started, cpu = time.perf_counter(), time.process_time()
    count = 0
    for line, _ in archive.lines():
        rows = [arrival(post).row() for post in line.posts]
        count += len(rows)
        orjson.dumps(rows)  # the payload's serialisation, per line instead of per entry
    return Stage(count, time.perf_counter() - started, time.process_time() - cpu)


async def aggregate_only(redis: Redis, settings: Settings, payloads: list[bytes]) -> Stage:
    """Publish ready-made digests and aggregate them, as an import does after parsing."""
    quick = settings.model_copy(update={"read_block_ms": 100})  # as the importer's aggregator
    aggregator = Aggregator(redis, quick, name=f"bench-{os.getpid()}")
    await aggregator.prepare()
    server, cpu = await server_cpu(redis), time.process_time()
    started = time.perf_counter()
    running = asyncio.create_task(aggregator.run())
    published: list[queue.Mark] = []
    for payload in payloads:
        published.append((0, cast(bytes, await redis.xadd(keys.INGEST, {"posts": payload}))))
        if len(published) > WINDOW:
            await until_applied(redis, published[-WINDOW - 1 : -WINDOW], running)
    await until_applied(redis, published[-1:], running)
    seconds, python_cpu = time.perf_counter() - started, time.process_time() - cpu
    redis_cpu = await server_cpu(redis) - server
    aggregator.stopping.set()
    await running
    await aggregator.close()
    posts = sum(len(orjson.loads(payload)) for payload in payloads)
    return Stage(posts, seconds, python_cpu, redis_cpu)


async def server_cpu(redis: Redis) -> float:
    """CPU seconds the Redis server has used: where the import's time goes besides Python."""
    cpu = await redis.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])
