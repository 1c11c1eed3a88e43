"""Report latency on a tag holding 1M posts, through the real import path and the real API.

Run as ``python -m tests.bench_report [--posts N]`` (``make bench-report``); not a pytest test.
It prints p50/p95 of the JSON report read from the API while the reporter keeps it current,
and of a fresh build of the same report (what a read costs between a change and the reporter's
rebuild; the process's first build, which starts its threads, is shown apart), beside the same
run's baselines: that build from every record instead of the tallies, the API's smallest read
(/api/watchlists) and a Redis PING. Then how long 1,000 new posts take
to show up in the kept report.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import aiohttp
from redis.asyncio import Redis
from rich.console import Console
from rich.table import Table

from monitor import keys, watchlist
from monitor.connection import connect
from monitor.embedded import EmbeddedRedis
from monitor.importers.files import open_archive
from monitor.reports import build, ready
from monitor.settings import Settings
from tests.bench_coordination import CELL_SIZE, CELLS, ROUNDS, TAG, fresh_posts, generate, write
from tests.benchmark import aof_idle
from tests.test_tallies import records_only
from workers.api import ApiServer
from workers.importer import import_archives
from workers.reporter import Reporter
from workers.serve import settle

console = Console()
READS = 200
FRESH_BUILDS = 100  # enough for a p95 that one slow build does not decide


def quantiles(samples: list[float]) -> str:
    """p50 / p95 in milliseconds."""
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return f"{statistics.median(samples) * 1000:,.1f} / {cuts[18] * 1000:,.1f} ms"


async def timed(work: Callable[[], Awaitable[object]], times: int) -> list[float]:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        await work()
        samples.append(time.perf_counter() - started)
    return samples


async def get(session: aiohttp.ClientSession, url: str) -> bytes:
    async with session.get(url) as response:
        assert response.status == 200, f"{url}: {response.status}"
        return await response.read()


async def until_current(redis: Redis, tag: str) -> None:
    while await ready.stale(redis, tag):  # noqa: ASYNC110  # polls Redis, not a local state
        await asyncio.sleep(0.01)


async def measure(directory: Path, posts: int) -> Table:
    sample, fresh = directory / "posts.jsonl", directory / "new.jsonl"
    count = write(sample, generate(posts))
    write(fresh, fresh_posts(posts))
    tag = TAG.casefold()
    table = Table(title=f"JSON report of a tag holding {count:,} posts (p50 / p95 of {READS})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    with EmbeddedRedis(directory / "redis") as server:
        settings = Settings(redis_url=server.url, data_dir=directory, api_port=0,
                            report_refresh_s=0.05)  # fmt: skip
        redis = connect(server.url)
        api, reporter = ApiServer(redis, settings), Reporter(redis, settings)
        try:
            await watchlist.add(redis, watchlist.DEFAULT, [tag])
            started = time.perf_counter()
            await import_archives(redis, settings, [open_archive(sample, "jsonl")])
            table.add_row("import + aggregation", f"{time.perf_counter() - started:,.1f} s")
            waited = time.perf_counter()
            await aof_idle(redis, limit_s=600)
            table.add_row("waited for the server's AOF rewrite after the import",
                          f"{time.perf_counter() - waited:,.1f} s")  # fmt: skip
            settle()  # as the reporter's build process does before its first build
            [first_build] = await timed(lambda: build.tag_report(redis, tag), 1)
            table.add_row("first build in this process (starts its threads)",
                          f"{first_build * 1000:,.1f} ms")  # fmt: skip
            builds = await timed(lambda: build.tag_report(redis, tag), FRESH_BUILDS)
            table.add_row(
                f"[bold]a fresh build of the report (from tallies, {FRESH_BUILDS} builds)",
                f"[bold]{quantiles(builds)}",
            )
            async with records_only(redis, tag):
                scans = await timed(lambda: build.tag_report(redis, tag), 3)
            table.add_row("baseline: the same build from every record", quantiles(scans))
            await api.prepare()
            report_url = f"{api.address}/api/tags/{tag}/report?format=json"
            async with aiohttp.ClientSession() as session:
                [first] = await timed(lambda: get(session, report_url), 1)
                table.add_row("first read through the API (builds, keeps)", f"{first:.2f} s")
                reads = await timed(lambda: get(session, report_url), READS)
                table.add_row("[bold]read through the API", f"[bold]{quantiles(reads)}")
                lists = await timed(lambda: get(session, f"{api.address}/api/watchlists"), READS)
                table.add_row("baseline: the API's /api/watchlists", quantiles(lists))
            served = await timed(lambda: ready.tag_report(redis, tag), READS)
            table.add_row("read in-process (ready.tag_report)", quantiles(served))
            table.add_row("baseline: Redis PING", quantiles(await timed(redis.ping, READS)))
            size = await redis.memory_usage(keys.reports(tag)) or 0
            table.add_row("kept reports of the tag, in Redis", f"{size / 1024:,.0f} KiB")

            await reporter.prepare()
            running = asyncio.create_task(reporter.run())
            await until_current(redis, tag)
            started = time.perf_counter()
            await import_archives(redis, settings, [open_archive(fresh, "jsonl")])
            imported = time.perf_counter() - started
            await until_current(redis, tag)
            shown = time.perf_counter() - started
            table.add_row("[bold]1,000 new posts to the kept report", f"[bold]{shown:.2f} s")
            table.add_row("  of which import + aggregation", f"{imported:.2f} s")
            table.add_row("  of which the reporter's rebuild", f"{shown - imported:.2f} s")
            latest = await ready.tag_report(redis, tag)
            table.add_row("posts in the kept report", f"{latest.posts.total:,}")
            reporter.stopping.set()
            await running
        finally:
            await reporter.close()
            await api.close()
            await redis.aclose()
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_report", description=__doc__)
    parser.add_argument("--posts", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    if args.posts < CELLS * CELL_SIZE * ROUNDS:
        parser.error(f"--posts must be at least {CELLS * CELL_SIZE * ROUNDS} (the planted cells)")
    with tempfile.TemporaryDirectory(prefix="hashmon-bench-report-") as directory:
        console.print(asyncio.run(measure(Path(directory), args.posts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
