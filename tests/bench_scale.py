"""Aggregation at scale on one machine: 1, 2 and 4 `hashmon aggregate` processes sharing one
Redis, then a local three-master Redis Cluster with the stream in three shards; the queue's lag
under a sustained 5,000 posts/s feed, and memory per retained post; each beside the same
servers' redis-benchmark pipelined XADD rate.

Run as ``python -m tests.bench_scale [--posts N]`` (part of ``make bench``); not a pytest test.
The posts are published first (the sample campaign's generator: four watched tags, organic talk
and a coordinated cohort), then the aggregator processes are started and timed until every
entry is applied, so the figure is aggregation alone.
"""

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import ResponseError
from rich.console import Console
from rich.table import Table

from monitor import health, queue, watchlist
from monitor.connection import connect
from monitor.embedded import EmbeddedRedis
from monitor.models import Post
from seeds.make_sample_campaign import generate
from tests.bench_stages import server_cpu
from tests.benchmark import BENCH_STREAM, CAMPAIGN, _baseline, used_memory
from tests.local_cluster import local_cluster
from tests.processes import environment
from workers.oneshot import until_applied

FEED_RATE = 5_000  # posts/s the sustained feed aims at
FEED_S = 20
BATCH = 200
console = Console()


@dataclass
class Target:
    """Where aggregators run: a Redis or a cluster (``redis``), and a client of each server."""

    url: str
    redis: Redis
    nodes: list[Redis]
    shards: int = 1


async def _fresh(target: Target) -> None:
    for node in target.nodes:
        await node.flushall()
    await watchlist.add(target.redis, watchlist.DEFAULT, watchlist.parse_tags(CAMPAIGN))
    await queue.ensure_group(target.redis, await queue.shard_count(target.redis, target.shards))


async def _cpu(target: Target) -> float:
    return sum([await server_cpu(node) for node in target.nodes])


def aggregators(url: str, data_dir: Path, count: int) -> list[subprocess.Popen[bytes]]:
    env = environment(redis_url=url, data_dir=str(data_dir), read_block_ms="50")
    command = [sys.executable, "-m", "monitor", "aggregate"]
    quiet = subprocess.DEVNULL
    return [subprocess.Popen(command, env=env, stdout=quiet, stderr=quiet) for _ in range(count)]


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=60)


async def _forever() -> None:
    await asyncio.Event().wait()


async def drained(redis: Redis, marks: list[queue.Mark]) -> None:
    running = asyncio.create_task(_forever())  # no aggregator of its own to watch
    try:
        await until_applied(redis, marks, running)
    finally:
        running.cancel()


async def _throughput(
    target: Target, data_dir: Path, posts: list[Post], count: int
) -> tuple[float, float]:
    """Posts/s and Redis CPU per post for ``count`` aggregator processes, from a full stream."""
    await _fresh(target)
    ids = await queue.publish(target.redis, posts, batch=BATCH, shards=target.shards)
    cpu = await _cpu(target)
    started = time.perf_counter()
    processes = aggregators(target.url, data_dir, count)
    try:
        await drained(target.redis, ids)
        seconds = time.perf_counter() - started
    finally:
        stop(processes)
    return len(posts) / seconds, (await _cpu(target) - cpu) / len(posts)


async def _sustained(target: Target, data_dir: Path, posts: list[Post]) -> list[str]:
    """Feed FEED_RATE posts/s for FEED_S seconds to two aggregators; the queue's lag meanwhile."""
    redis, url = target.redis, target.url
    await _fresh(target)
    processes = aggregators(url, data_dir, 2)
    lags: list[float] = []
    sent, marks = 0, list[queue.Mark]()
    try:
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < FEED_S:
            due = min(int(elapsed * FEED_RATE), len(posts))
            if due > sent:
                marks += await queue.publish(redis, posts[sent:due], batch=BATCH)
                sent = due
            with contextlib.suppress(ResponseError):  # BUSY: a script runs; the lag is read next
                lags.append((await health.status(redis)).oldest_waiting_s or 0.0)
            await asyncio.sleep(0.05)
        fed = sent / (time.perf_counter() - started)
        ended = time.perf_counter()
        await drained(redis, marks)
        drain = time.perf_counter() - ended
    finally:
        stop(processes)
    cuts = statistics.quantiles(lags, n=20, method="inclusive")
    lag = f"{statistics.median(lags):.1f} / {cuts[18]:.1f} / {max(lags):.1f} s"
    return [f"{fed:,.0f} posts/s", lag, f"{drain:.1f} s"]


async def _memory_per_post(target: Target, data_dir: Path, posts: list[Post]) -> float:
    redis, url = target.redis, target.url
    await _fresh(target)
    before = await used_memory(redis)
    ids = await queue.publish(redis, posts, batch=BATCH)
    processes = aggregators(url, data_dir, 2)
    try:
        await drained(redis, ids)
    finally:
        stop(processes)
    await queue.trim(redis)
    after = await used_memory(redis)
    return (after - before) / len(posts)


async def _rows(table: Table, target: Target, directory: Path, posts: list[Post], rate: float,
                where: str) -> None:  # fmt: skip
    for processes in (1, 2, 4):
        per_s, cpu = await _throughput(target, directory, posts, processes)
        share = f" ({per_s / rate:.3f} of XADD)" if rate else ""
        figures = f"{per_s:,.0f} posts/s{share}, Redis {cpu * 1e6:,.0f} µs/post"
        table.add_row(f"[bold]{processes} aggregator process(es), {where}", f"[bold]{figures}")


async def _on_cluster(table: Table, directory: Path, posts: list[Post], payload: int) -> None:
    """The same on a local three-master cluster, the stream in one shard per node."""
    with local_cluster(directory / "cluster") as ports:
        url = f"redis+cluster://127.0.0.1:{ports[0]}"
        nodes = [connect(f"redis://127.0.0.1:{port}") for port in ports]
        cluster = connect(url)
        try:
            await cast(RedisCluster, cluster).initialize()
            holder = cast(RedisCluster, cluster).get_node_from_key(BENCH_STREAM)
            port = int(holder.port) if holder else ports[0]
            baseline = await _baseline(nodes[ports.index(port)], ["-p", str(port)], payload)
            rate = baseline.rate or 0.0
            table.add_row("baseline: redis-benchmark XADD -P 100, one cluster node", f"{rate:,.0f}")
            target = Target(url, cluster, nodes, shards=len(ports))
            await _rows(table, target, directory, posts, rate, f"cluster of {len(ports)}")
        finally:
            await cluster.aclose()
            for node in nodes:
                await node.aclose()


async def measure(directory: Path, count: int) -> Table:
    start = datetime(2019, 11, 20, tzinfo=UTC)
    posts = list(generate(count, start=start))
    feed = list(generate(FEED_RATE * FEED_S, seed=7, start=start))
    table = Table(title=f"Aggregation at scale, {count:,} posts, {os.cpu_count()} CPUs")
    table.add_column("measure")
    table.add_column("value", justify="right")
    payload = round(statistics.mean(len(p.model_dump_json()) for p in posts[:1000]))
    with EmbeddedRedis(directory / "redis") as server:
        redis = connect(server.url)
        target = Target(server.url, redis, [redis])
        try:
            baseline = await _baseline(redis, ["-s", str(server.socket)], payload)
            rate = baseline.rate or 0.0
            table.add_row("baseline: redis-benchmark XADD -P 100 (entries/s)", f"{rate:,.0f}")
            await _rows(table, target, directory, posts, rate, "one Redis")
            fed, lag, drain = await _sustained(target, directory, feed)
            table.add_row(f"sustained feed for {FEED_S} s, 2 aggregators", fed)
            table.add_row("  queue lag p50 / p95 / max", lag)
            table.add_row("  time to drain after the feed", drain)
            per_post = await _memory_per_post(target, directory, posts)
            table.add_row("Redis memory per retained post", f"{per_post:,.0f} B")
        finally:
            await redis.aclose()
    await _on_cluster(table, directory, posts, payload)
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
