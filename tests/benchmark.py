"""Import+aggregation throughput against Redis's own pipelined XADD rate, memory per post, and
the Jetstream ingest rate.

Run as ``python -m tests.benchmark`` from the repository root (``make bench``); not a pytest test.
It generates the sample campaign, imports it through the real path (ingest stream, aggregator,
per-tag scripts) into a private embedded Redis, then measures ``redis-benchmark``'s pipelined XADD
of a post-sized payload against that same server, so the ratio compares like with like.
"""

import argparse
import asyncio
import csv
import io
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from redis.asyncio import Redis
from rich.console import Console
from rich.table import Table

from monitor import keys, poststore, queue, watchlist
from monitor.connection import connect, text
from monitor.embedded import EmbeddedRedis
from monitor.importers.files import open_archive
from monitor.settings import Settings
from seeds.make_sample_campaign import generate
from tests import bench_jetstream
from tests.bench_jetstream import StreamRun
from tests.bench_stages import Stage, aggregate_only, digests, parse_only, server_cpu
from workers.importer import Summary, import_archives

TARGET = 0.25  # posts/s as a share of Redis's pipelined XADD rate (the target)
JETSTREAM_TARGET = 5_000  # post events/s through the Jetstream filter and publish, on one core
STREAM_EVENTS = 100_000
CAMPAIGN = ("#IRGCOutOfIraq", "#BlackListMOIS", "#BlackListIRGC", "#IRGCTerrorists")
BASELINE_REQUESTS = 200_000
BASELINE_PIPELINE = 100
BASELINE_RUNS = 3  # the median: one run on a shared or 2-CPU machine swings by 50% and more
# Paused during the baseline only: a rewrite forked mid-run (every ~135 MB of XADDs) costs that
# run up to half its rate, so which run it lands on would decide the ratio.
AOF_REWRITE = "auto-aof-rewrite-percentage"
BENCH_STREAM = f"{keys.PREFIX}:bench"  # the baseline's own stream; deleted after it is measured

console = Console()


@dataclass(frozen=True)
class Sample:
    """The generated file, and what it cost to make (kept out of the rate)."""

    path: Path
    posts: int
    mean_bytes: float
    seconds: float


@dataclass(frozen=True)
class Recording:
    """The Jetstream recording the live path replays, and how many of its events are posts."""

    path: Path
    posts: int


@dataclass(frozen=True)
class Imported:
    """One timed run of the real import path, and the Redis state it left behind."""

    summary: Summary
    seconds: float
    memory_before: int
    memory_after: int
    retained_posts: int
    retained_pairs: int
    stream_length: int
    python_cpu_s: float  # this process: parsing, publishing and the import's aggregator
    redis_cpu_s: float  # the server: stream, scripts, AOF
    bodies: int = 0  # posts whose words the post store holds (once, whatever their tags)
    body_bytes: int = 0  # what the post store takes


@dataclass(frozen=True)
class Baseline:
    """redis-benchmark's pipelined XADD rate, or why it could not be measured."""

    rate: float | None
    version: str
    command: str
    error: str | None = None
    spread: tuple[float, float] | None = None  # slowest and fastest of the runs


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Refuse a used --keep directory up front: its old Redis state would skew every figure."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmark", description=__doc__)
    parser.add_argument("--posts", type=int, default=200_000, help="posts to generate and import")
    parser.add_argument("--keep", type=Path, help="keep the data dir (file, Redis) here")
    args = parser.parse_args(argv)
    if args.posts <= 0:
        parser.error("--posts must be > 0")
    if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep}: not empty (a reused Redis would skew every figure)")
    return args


def _generate(directory: Path, posts: int) -> Sample:
    """Write canonical JSONL the way seeds/ does; the mean line size sizes the XADD payload."""
    path = directory / "campaign.jsonl"
    started = time.perf_counter()
    count = size = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for post in generate(posts):
            line = post.model_dump_json()
            size += len(line.encode())
            count += 1
            out.write(line + "\n")
    return Sample(path, count, size / max(count, 1), time.perf_counter() - started)


async def used_memory(redis: Redis) -> int:
    """Bytes Redis has allocated: what retention has to keep bounded."""
    return int((await redis.info("memory"))["used_memory"])


async def retained(redis: Redis, tags: list[str]) -> tuple[int, int]:
    """Distinct posts kept by any tag, and (tag, post) pairs: the two bases for bytes per post."""
    posts: set[bytes] = set()
    pairs = 0
    for tag in tags:
        members = cast(list[bytes], await redis.zrange(keys.timeline(tag), 0, -1))  # no scores
        pairs += len(members)
        posts.update(members)
    return len(posts), pairs


async def _import(redis: Redis, settings: Settings, sample: Sample) -> Imported:
    """Time the import end to end: open, publish, aggregate, until every entry is applied."""
    tags = watchlist.parse_tags(CAMPAIGN)
    await watchlist.add(redis, watchlist.DEFAULT, tags)
    before = await used_memory(redis)
    server_before, cpu_before = await server_cpu(redis), time.process_time()
    started = time.perf_counter()
    archive = open_archive(sample.path, "jsonl")
    summary = await import_archives(redis, settings, [archive])
    seconds = time.perf_counter() - started
    python_cpu = time.process_time() - cpu_before
    redis_cpu = await server_cpu(redis) - server_before
    await queue.trim(redis)
    after = await used_memory(redis)
    posts, pairs = await retained(redis, tags)
    length = int(await redis.xlen(keys.INGEST))
    bodies, body_bytes = await poststore.usage(redis)
    return Imported(summary, seconds, before, after, posts, pairs, length, python_cpu, redis_cpu,
                    bodies, body_bytes)  # fmt: skip


async def _baseline(redis: Redis, server: list[str], payload_bytes: int) -> Baseline:
    """Redis's own pipelined XADD rate for a post-sized entry, on the server we just used
    (``server``: redis-benchmark's arguments naming it, -s SOCKET or -p PORT)."""
    binary = shutil.which("redis-benchmark")
    if binary is None:
        return Baseline(None, "", "", "redis-benchmark not found on PATH")
    version = await _output(binary, "--version")
    command = [
        binary, *server, "-n", str(BASELINE_REQUESTS), "-P", str(BASELINE_PIPELINE),
        "--csv", "XADD", BENCH_STREAM, "*", "posts", "x" * payload_bytes,
    ]  # fmt: skip
    shown = " ".join([Path(binary).name, *command[1:-1], f"<{payload_bytes} bytes>"])
    previous = (await redis.config_get(AOF_REWRITE)).get(AOF_REWRITE) or "100"  # Redis's default
    await redis.config_set(AOF_REWRITE, 0)
    try:
        rates = await _xadd_runs(redis, command)
    except ValueError as error:
        return Baseline(None, version, shown, str(error))
    finally:
        await redis.config_set(AOF_REWRITE, previous)
    return Baseline(statistics.median(rates), version, shown, spread=(min(rates), max(rates)))


async def _xadd_runs(redis: Redis, command: list[str]) -> list[float]:
    """Each run starts from an empty stream, with no AOF rewrite forked off and running."""
    rates: list[float] = []
    for _ in range(BASELINE_RUNS):
        await redis.delete(BENCH_STREAM)
        await aof_idle(redis)
        try:
            rates.append(_xadd_rate(await _output(*command)))
        finally:
            await redis.delete(BENCH_STREAM)
    return rates


async def aof_idle(redis: Redis, limit_s: float = 60.0) -> None:
    """Let a rewrite the import set off finish first: its fork competes for the same CPUs."""
    for _ in range(int(limit_s / 0.1)):
        if not (await redis.info("persistence"))["aof_rewrite_in_progress"]:
            return
        await asyncio.sleep(0.1)


def _xadd_rate(output: str) -> float:
    """requests/s from redis-benchmark --csv: a header row, then one row per test."""
    rows = list(csv.reader(io.StringIO(output)))
    try:
        return float(rows[1][1])
    except (IndexError, ValueError):
        raise ValueError(f"no rate in redis-benchmark output: {output!r:.200}") from None


async def _output(*command: str) -> str:
    """A command's stdout; a failure becomes a one-line RuntimeError with its stderr's last line."""
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode:
        last = (err.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"{Path(command[0]).name} exited {process.returncode}: {last}")
    return out.decode(errors="replace").strip()


@dataclass(frozen=True)
class Stages:
    """The import's stages timed apart: parsing alone, and publish+aggregate alone."""

    parse: Stage
    aggregate: Stage


async def _measure(
    server: EmbeddedRedis, sample: Sample, recording: Recording
) -> tuple[Imported, Baseline, Stages, StreamRun, str]:
    """Both rates in one run on one server, so machine and server build cancel out in the ratio."""
    settings = Settings(redis_url=server.url, data_dir=server.dir)
    redis = connect(server.url)
    try:
        imported = await _import(redis, settings, sample)
        try:
            baseline = await _baseline(redis, ["-s", str(server.socket)], round(sample.mean_bytes))
        except RuntimeError as error:
            baseline = Baseline(None, "", "", str(error))
        stages = await _stages(redis, settings, sample)
        await redis.flushdb()
        stream = await bench_jetstream.measure(redis, settings, recording.path, recording.posts)
        version = text((await redis.info("server"))["redis_version"])
    finally:
        await redis.aclose()
    return imported, baseline, stages, stream, version


async def _stages(redis: Redis, settings: Settings, sample: Sample) -> Stages:
    """Each stage on its own; aggregation starts from an empty server, as the import did."""
    archive = open_archive(sample.path, "jsonl")
    parse = parse_only(archive, settings.publish_batch)
    payloads = digests(archive, settings.publish_batch)
    await redis.flushdb()
    await watchlist.add(redis, watchlist.DEFAULT, watchlist.parse_tags(CAMPAIGN))
    return Stages(parse, await aggregate_only(redis, settings, payloads))


def _cpu_model() -> str:
    """The CPU's name, for comparing runs across machines; platform.processor() is often empty."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _machine(redis_version: str, baseline: Baseline) -> Table:
    """What the figures depend on; the load average shows whether other work shared the CPUs."""
    table = Table(title="Machine", show_header=False)
    table.add_row("CPU", f"{os.cpu_count()} × {_cpu_model()}")
    table.add_row("OS", platform.platform())
    table.add_row("Python", platform.python_version())
    table.add_row("redis-server (embedded)", redis_version)
    table.add_row("redis-benchmark", baseline.version or "-")
    table.add_row("load average (1, 5, 15 min)", " ".join(f"{n:.2f}" for n in os.getloadavg()))
    return table


def _figures(sample: Sample, imported: Imported, baseline: Baseline) -> Table:
    """The issue's question first: posts/s, the XADD baseline, and their ratio against target."""
    rate = imported.summary.read / imported.seconds
    table = Table(title="Throughput")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("posts generated", f"{sample.posts:,}")
    table.add_row("generation (not in the rate)", f"{sample.seconds:.2f} s")
    table.add_row("mean serialized post", f"{sample.mean_bytes:,.0f} B")
    table.add_row("posts read", f"{imported.summary.read:,}")
    table.add_row("import+aggregation wall time", f"{imported.seconds:.2f} s")
    table.add_row("[bold]hashmon posts/s", f"[bold]{rate:,.0f}")
    per_post = 1e6 / max(imported.summary.read, 1)
    table.add_row("  Python CPU per post", f"{imported.python_cpu_s * per_post:.1f} µs")
    table.add_row("  Redis CPU per post", f"{imported.redis_cpu_s * per_post:.1f} µs")
    if baseline.rate is None:
        table.add_row("redis-benchmark XADD/s", "[red]not measured")
    else:
        ratio = rate / baseline.rate
        style = "green" if ratio >= TARGET else "red"
        table.add_row(
            f"redis-benchmark XADD/s (-P {BASELINE_PIPELINE}, median of {BASELINE_RUNS})",
            f"{baseline.rate:,.0f}",
        )
        if baseline.spread:
            low, high = baseline.spread
            table.add_row("  slowest – fastest run", f"{low:,.0f} – {high:,.0f}")
        table.add_row(f"[bold]ratio (target ≥ {TARGET})", f"[bold {style}]{ratio:.3f}")
    return table


def _where_time_goes(stages: Stages, baseline: Baseline) -> Table:
    """Each stage's rate and CPU per post; their sum bounds any parallel arrangement of them."""
    parse, aggregate = stages.parse, stages.aggregate
    parse_cpu = parse.per_post_us(parse.python_cpu_s)
    python_cpu = aggregate.per_post_us(aggregate.python_cpu_s)
    redis_cpu = aggregate.per_post_us(aggregate.redis_cpu_s)
    cpus = os.cpu_count() or 1
    ceiling = cpus * 1e6 / (parse_cpu + python_cpu + redis_cpu)
    table = Table(title="Where the time goes (each stage run on its own)")
    table.add_column("stage")
    table.add_column("posts/s", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("CPU per post", justify="right")
    rows = [
        ("read, validate, digest (no Redis)", parse.rate, f"{parse_cpu:.1f} µs Python"),
        ("publish+aggregate of ready digests", aggregate.rate,
         f"{python_cpu:.1f} µs Python + {redis_cpu:.1f} µs Redis"),
        (f"ceiling: {cpus} CPUs / total CPU per post", ceiling,
         f"{parse_cpu + python_cpu + redis_cpu:.1f} µs"),
    ]  # fmt: skip
    for name, rate, cpu in rows:
        ratio = f"{rate / baseline.rate:.3f}" if baseline.rate else "-"
        table.add_row(name, f"{rate:,.0f}", ratio, cpu)
    return table


def _jetstream(stream: StreamRun, imported: Imported) -> Table:
    """The live path's figures beside the import's end-to-end rate."""
    pipeline = imported.summary.read / imported.seconds
    style = "green" if stream.posts_per_s >= JETSTREAM_TARGET else "red"
    table = Table(title="Jetstream ingest: filter + publish, from a local WebSocket replay")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("events replayed (posts, reposts, identity)", f"{stream.events:,}")
    table.add_row("post events filtered", f"{stream.posts_read:,}")
    table.add_row("published (watched posts + attributed reposts)", f"{stream.published:,}")
    table.add_row("wall time", f"{stream.seconds:.2f} s")
    table.add_row("events/s", f"{stream.events / stream.seconds:,.0f}")
    table.add_row(
        f"[bold]post events/s (target ≥ {JETSTREAM_TARGET:,})",
        f"[bold {style}]{stream.posts_per_s:,.0f}",
    )
    per_event = stream.cpu_s * 1e6 / stream.events
    table.add_row("  reader CPU per event (one core)", f"{per_event:.1f} µs")
    table.add_row("pipeline end to end (import above), posts/s", f"{pipeline:,.0f}")
    return table


def _outcome(imported: Imported) -> Table:
    """Verdicts show the run did real work (not all duplicates); memory is invariant 3's measure."""
    summary = imported.summary
    table = Table(title="Verdicts and memory")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for verdict, count in sorted(summary.verdicts.items()):
        table.add_row(f"verdict: {verdict}", f"{count:,}")
    table.add_row("lines rejected", f"{len(summary.rejected):,}")
    before, after = imported.memory_before, imported.memory_after
    table.add_row("used_memory before → after", f"{before:,} → {after:,} B")
    table.add_row("retained posts (distinct)", f"{imported.retained_posts:,}")
    table.add_row("retained (tag, post) pairs", f"{imported.retained_pairs:,}")
    table.add_row("bytes per retained post", _per(after - before, imported.retained_posts))
    table.add_row("bytes per retained (tag, post)", _per(after - before, imported.retained_pairs))
    table.add_row("  of which the post store: bodies held", f"{imported.bodies:,}")
    table.add_row("  its bytes per body (once per post, whatever its tags)",
                  _per(imported.body_bytes, imported.bodies))  # fmt: skip
    table.add_row("  bytes per retained post without it",
                  _per(after - before - imported.body_bytes, imported.retained_posts))  # fmt: skip
    table.add_row("ingest stream length after trim", f"{imported.stream_length:,}")
    return table


def _per(total: int, count: int) -> str:
    """Bytes per item, or a dash when nothing was retained (no division by zero)."""
    return f"{total / count:,.0f} B" if count else "-"


def _run(directory: Path, posts: int) -> int:
    """Exit 1 when the baseline is missing: a rate without its ratio does not answer the issue."""
    directory.mkdir(parents=True, exist_ok=True)
    with console.status(f"generating {posts:,} posts and {STREAM_EVENTS:,} stream events"):
        sample = _generate(directory, posts)
        frames = directory / "jetstream.jsonl"
        recording = Recording(frames, bench_jetstream.record(frames, STREAM_EVENTS))
    with (
        EmbeddedRedis(directory / "redis") as server,
        console.status("importing, running redis-benchmark, replaying a Jetstream"),
    ):
        imported, baseline, stages, stream, version = asyncio.run(
            _measure(server, sample, recording)
        )
    console.print(_figures(sample, imported, baseline))
    console.print(_where_time_goes(stages, baseline))
    console.print(_jetstream(stream, imported))
    console.print(_outcome(imported))
    console.print(_machine(version, baseline))
    if baseline.command:
        console.print(f"baseline: {baseline.command}", markup=False, soft_wrap=True)
    if baseline.rate is None:
        console.print(
            f"error: the XADD baseline could not be measured: {baseline.error}",
            style="red", markup=False,
        )  # fmt: skip
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Keep the data dir only when asked: a 200k-post run leaves a few hundred MB behind."""
    args = _arguments(argv)
    if args.keep is not None:
        return _run(args.keep.resolve(), args.posts)
    with tempfile.TemporaryDirectory(prefix="hashmon-bench-") as directory:
        return _run(Path(directory), args.posts)


if __name__ == "__main__":
    sys.exit(main())
