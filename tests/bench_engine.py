"""hashmon's engine beside the Coordination Network Toolkit: one file, one run, one machine.

Run as ``python -m tests.bench_engine [--posts N] [--json PATH]`` (``make bench-engine``); not a
pytest test. On a one-tag file of bench_coordination's generator (planted cells, with replies) it
times the Toolkit's preprocess + co-tweet, co-retweet, co-similar and co-reply networks beside
hashmon's import and the same four networks under the Toolkit's rules (60 s, weight 2, Jaccard
>= 0.8 over at least 5 tokens), and checks that both found the same edges. Over the import: Redis
CPU and this process's CPU per applied post, Redis bytes per retained post, for the one tag and
for the same posts on three watched tags. Then 1, 2 and 4 ``hashmon aggregate`` processes drain
the file, published beforehand, each on a fresh Redis: posts/s and CPU per post of Redis and of
the aggregators. ``--json PATH`` also writes the figures, to compare two runs (or two versions).
The one tag's bytes are also given by structure (the index, features, records, tallies, pairs,
the post store), from Redis's ``MEMORY USAGE`` of each key, which leaves out its table of keys.
"""

import argparse
import asyncio
import contextlib
import io
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psutil
from coordination_network_toolkit import compute_networks as toolkit
from coordination_network_toolkit.graph import get_edge_rows
from coordination_network_toolkit.similarity import MinDocSizeSimilarity
from redis.asyncio import Redis
from rich.console import Console
from rich.table import Table

from monitor import keys, queue, watchlist
from monitor.connection import connect
from monitor.embedded import EmbeddedRedis
from monitor.importers.files import open_archive
from monitor.settings import Settings
from monitor.signals import coordination
from monitor.signals.coordination import Behaviour, Query
from monitor.timewindow import Window
from tests.bench_coordination import CELL_SIZE, CELLS, ROUNDS, TAG, generate, preprocess, write
from tests.bench_scale import BATCH, aggregators, drained, stop
from tests.bench_stages import server_cpu
from tests.benchmark import aof_idle, retained, used_memory
from workers.importer import import_archives

WINDOW, WEIGHT, THRESHOLD = 60, 2, 0.8
NETWORKS: dict[Behaviour, str] = {  # ours -> the Toolkit's
    "co-post": "co_tweet", "co-repost": "co_retweet", "co-similar": "co_similar_tweet",
    "co-reply": "co_reply",
}  # fmt: skip
THREE_TAGS = (TAG, "BlackListMOIS", "BlackListIRGC")
PROCESSES = (1, 2, 4)
EVER = Window(0, 10**13)  # every post, in ms
Edges = set[tuple[str, str, int]]


def run_toolkit(path: Path, db: Path, min_tokens: int) -> tuple[float, dict[Behaviour, Edges]]:
    """Seconds for preprocess and the four networks, as a Toolkit user runs them; their edges."""
    threads, name = os.cpu_count() or 1, str(db)
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # its progress lines
        preprocess(path, db)
        toolkit.compute_co_tweet_network(name, WINDOW, min_edge_weight=WEIGHT, n_threads=threads)
        toolkit.compute_co_retweet_parallel(name, WINDOW, min_edge_weight=WEIGHT, n_threads=threads)
        toolkit.compute_co_similar_tweet(
            name, WINDOW, n_threads=threads, similarity_threshold=THRESHOLD,
            min_edge_weight=WEIGHT, similarity_function=MinDocSizeSimilarity(min_tokens),
        )  # fmt: skip
        toolkit.compute_co_reply_network(name, WINDOW, min_edge_weight=WEIGHT, n_threads=threads)
    seconds = time.perf_counter() - started
    rows = {ours: get_edge_rows(name, theirs) for ours, theirs in NETWORKS.items()}
    return seconds, {b: {(str(x), str(y), int(w)) for x, y, w, _ in r} for b, r in rows.items()}


async def run_hashmon(directory: Path, path: Path, tags: Sequence[str]) -> dict[str, Any]:
    """Import the file into a fresh Redis watching ``tags``; then the four networks of TAG."""
    with EmbeddedRedis(directory) as server:
        settings = Settings(redis_url=server.url, data_dir=directory)
        redis = connect(server.url)
        try:
            watched = watchlist.parse_tags([f"#{tag}" for tag in tags])
            await watchlist.add(redis, watchlist.DEFAULT, watched)
            memory, redis_cpu = await used_memory(redis), await server_cpu(redis)
            cpu = time.process_time()
            started = time.perf_counter()
            await import_archives(redis, settings, [open_archive(path, "jsonl")])
            seconds = time.perf_counter() - started
            cpu, redis_cpu = time.process_time() - cpu, await server_cpu(redis) - redis_cpu
            await queue.trim(redis)  # the acked entries: the stream is not retained state
            await aof_idle(redis)  # a rewrite's buffer is not retained state either
            size, (posts, _) = await used_memory(redis) - memory, await retained(redis, watched)
            structures = await bytes_by_structure(redis, posts)
            started, found = time.perf_counter(), {}
            for behaviour in NETWORKS:
                query = Query(behaviour, WINDOW, WEIGHT, "toolkit")
                found[behaviour] = await coordination.network(redis, TAG.casefold(), query, EVER)
            networks_s = time.perf_counter() - started
        finally:
            await redis.aclose()
    edges = {behaviour: set(network.edges()) for behaviour, network in found.items()}
    return {"import_s": seconds, "networks_s": networks_s, "posts": posts, "edges": edges,
            "redis_cpu_us": redis_cpu * 1e6 / posts, "import_cpu_us": cpu * 1e6 / posts,
            "bytes": size / posts, "bytes_by_structure": structures}  # fmt: skip


# What a key holds, by the start of its name after '{<tag>}:' (or after '{posts:<n>}:').
STRUCTURES = (
    ("co:index", "coordination index"), ("co:features", "coordination features"),
    ("co:pairs:", "pairs sets"), ("tally:log:", "pair logs"), ("tally:", "tallies"),
    ("co:authors", "copy-paste counts"), ("co:copies", "copy-paste counts"),
    ("co:saturated", "unpaired (viral) posts"), ("records", "records"), ("timeline", "timeline"),
    ("volume", "volume"), ("bodies", "post store"), ("holders", "post store"),
)  # fmt: skip


def structure(key: str) -> str:
    """The row of the bytes-by-structure table a key counts in."""
    name = key.partition("}:")[2]
    return next((row for start, row in STRUCTURES if name.startswith(start)), "other")


async def bytes_by_structure(redis: Redis, posts: int) -> dict[str, float]:
    """Redis's MEMORY USAGE of every key, summed by what it holds, per retained post."""
    found: dict[str, int] = {}
    async for key in redis.scan_iter(count=1_000):
        row = structure(key.decode())
        found[row] = found.get(row, 0) + (await redis.memory_usage(key, samples=0) or 0)
    return {row: size / posts for row, size in sorted(found.items(), key=lambda kv: -kv[1])}


async def publish(redis: Redis, path: Path, chunk: int = 10_000) -> tuple[int, list[queue.Mark]]:
    """The file's posts into the ingest stream, ``chunk`` posts held in memory at a time."""
    lines, count, marks = open_archive(path, "jsonl").lines(), 0, list[queue.Mark]()
    while posts := [post for line, _ in itertools.islice(lines, chunk) for post in line.posts]:
        marks += await queue.publish(redis, posts, batch=BATCH)
        count += len(posts)
    return count, marks


def _cpu(process: subprocess.Popen[bytes]) -> float:
    return sum(psutil.Process(process.pid).cpu_times()[:2])  # user + system, its own


async def startup_cpu(directory: Path) -> float:
    """CPU seconds an aggregator process spends until its first heartbeat, with nothing to do."""
    with EmbeddedRedis(directory) as server:
        redis, processes = connect(server.url), aggregators(server.url, directory, 1)
        try:
            while not await redis.keys(keys.heartbeat_pattern("aggregator")):
                if processes[0].poll() is not None:
                    raise RuntimeError("the aggregator exited before its first heartbeat")
                await asyncio.sleep(0.02)
            return _cpu(processes[0])
        finally:
            stop(processes)
            await redis.aclose()


async def run_aggregators(
    directory: Path, path: Path, count: int, startup: float
) -> dict[str, float]:
    """``count`` aggregator processes draining the file's posts, published before they start;
    their CPU per post less their start-up, which 20,000 posts would not make negligible."""
    with EmbeddedRedis(directory) as server:
        redis = connect(server.url)
        try:
            await watchlist.add(redis, watchlist.DEFAULT, [TAG.casefold()])
            await queue.ensure_group(redis)
            posts, marks = await publish(redis, path)
            redis_cpu = await server_cpu(redis)
            started = time.perf_counter()
            processes = aggregators(server.url, directory, count)
            try:
                await drained(redis, marks)
                seconds = time.perf_counter() - started
                cpu = sum(_cpu(process) for process in processes)
            finally:
                stop(processes)
            redis_cpu = await server_cpu(redis) - redis_cpu
        finally:
            await redis.aclose()
    per = 1e6 / posts
    return {"posts_per_s": posts / seconds, "redis_cpu_us": redis_cpu * per,
            "aggregator_cpu_us": cpu * per,
            "aggregator_cpu_us_net": (cpu - count * startup) * per}  # fmt: skip


async def run_engine(directory: Path, one: Path, three: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {"one_tag": await run_hashmon(directory / "one", one, [TAG])}
    figures["three_tags"] = await run_hashmon(directory / "three", three, THREE_TAGS)
    figures["aggregator_startup_s"] = startup = await startup_cpu(directory / "startup")
    figures["aggregators"] = {
        str(n): await run_aggregators(directory / f"aggregate-{n}", one, n, startup)
        for n in PROCESSES
    }
    return figures


def measure(directory: Path, posts: int) -> dict[str, Any]:
    """Every figure of the table, measured in this run; edge sets become their sizes."""
    one, three = directory / "posts.jsonl", directory / "three-tags.jsonl"
    write(one, generate(posts, replies=True))
    tagged = {"hashtags": list(THREE_TAGS)}  # the text keeps its one tag; entities carry three
    write(three, (post.model_copy(update=tagged) for post in generate(posts, replies=True)))
    min_tokens = Settings().coordination_min_tokens
    toolkit_s, theirs = run_toolkit(one, directory / "toolkit.db", min_tokens)
    figures = asyncio.run(run_engine(directory, one, three))
    ours = figures["one_tag"]
    figures["toolkit_s"] = toolkit_s
    figures["hashmon_s"] = ours["import_s"] + ours["networks_s"]
    figures["ratio"] = toolkit_s / figures["hashmon_s"]
    figures["edges"] = {b: {"toolkit": len(theirs[b]), "hashmon": len(ours["edges"][b]),
                            "equal": theirs[b] == ours["edges"][b]} for b in NETWORKS}  # fmt: skip
    del ours["edges"], figures["three_tags"]["edges"]
    figures |= {"posts": posts, "cpus": os.cpu_count(), "load": os.getloadavg(),
                "toolkit_version": version("coordination-network-toolkit")}  # fmt: skip
    return figures


def table(f: dict[str, Any]) -> Table:
    """The issue's table: the comparison in bold, then CPU and bytes per post, then scaling."""
    one, three, startup = f["one_tag"], f["three_tags"], f["aggregator_startup_s"]
    out = Table(title=f"Engine vs the Toolkit, {f['posts']:,} posts, {f['cpus']} CPUs")
    out.add_column("measure")
    out.add_column("value", justify="right")
    rows = [
        ("[bold]Toolkit: preprocess + co-tweet, co-retweet, co-similar, co-reply",
         f"[bold]{f['toolkit_s']:.1f} s"),
        ("hashmon: import + aggregation",
         f"{one['import_s']:.1f} s ({f['posts'] / one['import_s']:,.0f} posts/s)"),
        ("hashmon: the four networks", f"{one['networks_s']:.2f} s"),
        ("[bold]hashmon: import + networks", f"[bold]{f['hashmon_s']:.1f} s"),
        ("[bold]ratio, Toolkit / hashmon", f"[bold]{f['ratio']:.2f}"),
        *((f"  {b} edges, Toolkit / hashmon", f"{e['toolkit']:,} / {e['hashmon']:,}"
           + ("" if e["equal"] else " [red](NOT the same edges)")) for b, e in f["edges"].items()),
        ("Redis CPU per applied post", f"{one['redis_cpu_us']:.0f} µs"),
        ("import's own CPU per post (parse, publish, aggregate)", f"{one['import_cpu_us']:.0f} µs"),
        ("Redis bytes per retained post, one tag", f"{one['bytes']:,.0f} B"),
        ("  of which, by structure (Redis's MEMORY USAGE of each key):", ""),
        *((f"    {row}", f"{size:,.0f} B") for row, size in one["bytes_by_structure"].items()),
        ("Redis bytes per retained post, on three watched tags",
         f"{three['bytes']:,.0f} B ({three['bytes'] / one['bytes']:.2f} × one tag)"),
        ("Redis CPU per applied post, on three watched tags", f"{three['redis_cpu_us']:.0f} µs"),
        ("aggregator process start-up CPU (to its first heartbeat)", f"{startup:.2f} s"),
    ]  # fmt: skip
    for n, a in f["aggregators"].items():
        net, gross = a["aggregator_cpu_us_net"], a["aggregator_cpu_us"]
        rows.append((f"[bold]{n} aggregator process(es)[/]: posts/s; CPU per post of Redis, "
                     "of the aggregators less start-up (with it)",
                     f"[bold]{a['posts_per_s']:,.0f}[/]; {a['redis_cpu_us']:.0f} µs, "
                     f"{net:.0f} µs ({gross:.0f} µs)"))  # fmt: skip
    rows.append(("load average (1, 5, 15 min) at the end", " ".join(f"{n:.2f}" for n in f["load"])))
    for row in rows:
        out.add_row(*row)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_engine", description=__doc__)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--json", type=Path, help="also write the figures here, as JSON")
    args = parser.parse_args(argv)
    if args.posts < CELLS * CELL_SIZE * ROUNDS:
        parser.error(f"--posts must be at least {CELLS * CELL_SIZE * ROUNDS} (the planted cells)")
    with tempfile.TemporaryDirectory(prefix="hashmon-bench-engine-") as directory:
        figures = measure(Path(directory), args.posts)
    Console().print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
