"""Aggregation at scale on one machine: 1, 2 and 4 `hashmon aggregate` processes sharing one
Redis, the queue's lag under a sustained 5,000 posts/s feed, and memory per retained post, each
beside the same server's redis-benchmark pipelined XADD rate.

Run as ``python -m tests.bench_scale [--posts N]`` (part of ``make bench``); not a pytest test.
The posts are published first (the sample campaign's generator: four watched tags, organic talk
and a coordinated cohort), then the aggregator processes are started and timed until every
entry is applied, so the figure is aggregation alone.
"""

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from redis.asyncio import Redis
from rich.console import Console
from rich.table import Table

from monitor import health, queue, watchlist
from monitor.connection import connect
from monitor.embedded import EmbeddedRedis
from monitor.models import Post
from seeds.make_sample_campaign import generate
from tests.bench_stages import server_cpu
from tests.benchmark import CAMPAIGN, _baseline
from tests.processes import environment

FEED_RATE = 5_000  # posts/s the sustained feed aims at
FEED_S = 20
BATCH = 200
console = Console()


async def _fresh(redis: Redis) -> None:
    await redis.flushall()
    await watchlist.add(redis, watchlist.DEFAULT, watchlist.parse_tags(CAMPAIGN))
    await queue.ensure_group(redis)


def _aggregators(url: str, data_dir: Path, count: int) -> list[subprocess.Popen[bytes]]:
    env = environment(redis_url=url, data_dir=str(data_dir), read_block_ms="50")
    command = [sys.executable, "-m", "monitor", "aggregate"]
    quiet = subprocess.DEVNULL
    return [subprocess.Popen(command, env=env, stdout=quiet, stderr=quiet) for _ in range(count)]


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=60)


async def _drained(redis: Redis, last: bytes) -> None:
    while not await queue.applied(redis, last):  # noqa: ASYNC110  # polls Redis
        await asyncio.sleep(0.05)


async def _throughput(
    redis: Redis, url: str, data_dir: Path, posts: list[Post], count: int
) -> tuple[float, float]:
    """Posts/s and Redis CPU per post for ``count`` aggregator processes, from a full stream."""
    await _fresh(redis)
    ids = await queue.publish(redis, posts, batch=BATCH)
    cpu = await server_cpu(redis)
    started = time.perf_counter()
    processes = _aggregators(url, data_dir, count)
    try:
        await _drained(redis, ids[-1])
        seconds = time.perf_counter() - started
    finally:
        _stop(processes)
    return len(posts) / seconds, (await server_cpu(redis) - cpu) / len(posts)


async def _sustained(redis: Redis, url: str, data_dir: Path, posts: list[Post]) -> list[str]:
    """Feed FEED_RATE posts/s for FEED_S seconds to two aggregators; the queue's lag meanwhile."""
    await _fresh(redis)
    processes = _aggregators(url, data_dir, 2)
    lags: list[float] = []
    sent, last = 0, b""
    try:
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < FEED_S:
            due = min(int(elapsed * FEED_RATE), len(posts))
            if due > sent:
                last = (await queue.publish(redis, posts[sent:due], batch=BATCH))[-1]
                sent = due
            lags.append((await health.status(redis)).oldest_waiting_s or 0.0)
            await asyncio.sleep(0.05)
        fed = sent / (time.perf_counter() - started)
        ended = time.perf_counter()
        await _drained(redis, last)
        drain = time.perf_counter() - ended
    finally:
        _stop(processes)
    cuts = statistics.quantiles(lags, n=20, method="inclusive")
    lag = f"{statistics.median(lags):.1f} / {cuts[18]:.1f} / {max(lags):.1f} s"
    return [f"{fed:,.0f} posts/s", lag, f"{drain:.1f} s"]


async def _memory_per_post(redis: Redis, url: str, data_dir: Path, posts: list[Post]) -> float:
    await _fresh(redis)
    before = int((await redis.info("memory"))["used_memory"])
    ids = await queue.publish(redis, posts, batch=BATCH)
    processes = _aggregators(url, data_dir, 2)
    try:
        await _drained(redis, ids[-1])
    finally:
        _stop(processes)
    await queue.trim(redis)
    after = int((await redis.info("memory"))["used_memory"])
    return (after - before) / len(posts)


async def measure(directory: Path, count: int) -> Table:
    start = datetime(2019, 11, 20, tzinfo=UTC)
    posts = list(generate(count, start=start))
    feed = list(generate(FEED_RATE * FEED_S, seed=7, start=start))
    table = Table(title=f"Aggregation at scale, {count:,} posts, {os.cpu_count()} CPUs")
    table.add_column("measure")
    table.add_column("value", justify="right")
    with EmbeddedRedis(directory / "redis") as server:
        redis = connect(server.url)
        try:
            payload = round(statistics.mean(len(p.model_dump_json()) for p in posts[:1000]))
            baseline = await _baseline(redis, server.socket, payload)
            rate = baseline.rate or 0.0
            table.add_row("baseline: redis-benchmark XADD -P 100 (entries/s)", f"{rate:,.0f}")
            for processes in (1, 2, 4):
                per_s, cpu = await _throughput(redis, server.url, directory, posts, processes)
                share = f" ({per_s / rate:.3f} of XADD)" if rate else ""
                figures = f"{per_s:,.0f} posts/s{share}, Redis {cpu * 1e6:,.0f} µs/post"
                table.add_row(f"[bold]{processes} aggregator process(es)", f"[bold]{figures}")
            fed, lag, drain = await _sustained(redis, server.url, directory, feed)
            table.add_row(f"sustained feed for {FEED_S} s, 2 aggregators", fed)
            table.add_row("  queue lag p50 / p95 / max", lag)
            table.add_row("  time to drain after the feed", drain)
            per_post = await _memory_per_post(redis, server.url, directory, posts)
            table.add_row("Redis memory per retained post", f"{per_post:,.0f} B")
        finally:
            await redis.aclose()
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_scale", description=__doc__)
    parser.add_argument("--posts", type=int, default=50_000)
    args = parser.parse_args(argv)
    if args.posts < 1_000:
        parser.error("--posts must be at least 1000")
    with tempfile.TemporaryDirectory(prefix="hashmon-bench-scale-") as directory:
        console.print(asyncio.run(measure(Path(directory), args.posts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
