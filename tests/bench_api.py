"""The API under hostile load: a daemon serving a large tag while twenty clients send hostile
parameters, beside the same daemon idle, in one run.

Run as ``python -m tests.bench_api [--posts N]`` (``make bench-api``); not a pytest test. It prints
/healthz latency idle and under the storm, the daemon's peak memory, how the requests were
answered, and the latency of the requests that once took the daemon down.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import psutil
from rich.console import Console
from rich.table import Table

from monitor import watchlist
from monitor.connection import connect
from monitor.embedded import EmbeddedRedis
from monitor.importers.files import open_archive
from monitor.settings import Settings
from tests.bench_coordination import TAG, generate, write
from tests.processes import environment, free_port
from tests.storm import storm
from workers.importer import import_archives

console = Console()
MIB = 1024**2
ONCE_FATAL = ["since=999999999d", "until=9999-12-31T23:59:59Z", "since=0001-01-01T00:00:00Z"]


def _ms(samples: list[float]) -> str:
    """p50 / p95 / max in milliseconds."""
    cuts = statistics.quantiles(samples, n=20, method="inclusive") if len(samples) > 1 else samples
    return f"{statistics.median(samples) * 1000:,.1f} / {cuts[-1] * 1000:,.1f} / " \
           f"{max(samples) * 1000:,.1f} ms"  # fmt: skip


async def _times(session: aiohttp.ClientSession, url: str, count: int) -> tuple[list[float], int]:
    samples, status = [], 0
    for _ in range(count):
        started = time.perf_counter()
        async with session.get(url) as response:
            await response.read()
            status = response.status
        samples.append(time.perf_counter() - started)
    return samples, status


async def _ready(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the daemon's API did not come up")


async def measure(directory: Path, posts: int, clients: int, requests: int) -> Table:
    sample = directory / "posts.jsonl"
    count = write(sample, generate(posts))
    tag = TAG.casefold()
    table = Table(title=f"The API of a daemon serving a tag of {count:,} posts")
    table.add_column("measure")
    table.add_column("value", justify="right")
    with EmbeddedRedis(directory / "redis") as server:
        settings = Settings(redis_url=server.url, data_dir=directory)
        redis = connect(server.url)
        await watchlist.add(redis, watchlist.DEFAULT, [tag])
        await import_archives(redis, settings, [open_archive(sample, "jsonl")])
        await redis.aclose()
        base = f"http://127.0.0.1:{free_port()}"
        env = environment(redis_url=server.url, data_dir=str(directory),
                          api_port=base.rsplit(":", 1)[1])  # fmt: skip
        daemon = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "monitor", "run", "--roles", "api,aggregator",
            env=env, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            await _ready(base)
            async with aiohttp.ClientSession() as session:
                idle, _ = await _times(session, f"{base}/healthz", 200)
                table.add_row("baseline: /healthz, idle (p50 / p95 / max)", _ms(idle))
                rss = psutil.Process(daemon.pid).memory_info().rss
                table.add_row("baseline: the daemon's memory, idle", f"{rss / MIB:,.0f} MiB")
                for query in ONCE_FATAL:
                    taken, status = await _times(
                        session, f"{base}/api/tags/{tag}/report?{query}", 5
                    )
                    table.add_row(f"report?{query} -> {status}", _ms(taken))
            found = await storm(base, daemon.pid, tag, clients=clients, requests=requests)
        finally:
            daemon.terminate()
            await daemon.wait()
    answered = sum(found.statuses.values())
    table.add_row(f"[bold]{clients} hostile clients: requests answered",
                  f"[bold]{answered:,} in {found.seconds:,.1f} s")  # fmt: skip
    shown = ", ".join(f"{code}: {n}" for code, n in sorted(found.statuses.items()))
    table.add_row("  by status", shown)
    table.add_row("[bold]  /healthz meanwhile (p50 / p95 / max)", f"[bold]{_ms(found.health_s)}")
    table.add_row("  /healthz unanswered (10 s)", str(found.health_failures))
    table.add_row("[bold]  the daemon's peak memory", f"[bold]{found.peak_rss / MIB:,.0f} MiB")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=25, help="per client")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hashmon-bench-api-") as directory:
        table = asyncio.run(measure(Path(directory), args.posts, args.clients, args.requests))
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
