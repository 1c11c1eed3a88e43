"""Coordination at scale: a generated file with planted cells, through the real import path.

Run as ``python -m tests.bench_coordination [--posts N]`` (``make bench-coordination``); not a
pytest test. It prints, for one file: the time from import to a full co-post network, the
Coordination Network Toolkit's preprocess+compute time on the same file (the reference, which can
only recompute), the time for 1,000 new posts to show up in the network, and memory per post.
"""

import argparse
import asyncio
import itertools
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from coordination_network_toolkit import compute_networks as toolkit
from coordination_network_toolkit.graph import get_edge_rows
from coordination_network_toolkit.preprocess import preprocess_data
from rich.console import Console
from rich.table import Table

from monitor import keys, watchlist
from monitor.connection import connect
from monitor.embedded import EmbeddedRedis
from monitor.importers.files import open_archive
from monitor.models import Post
from monitor.settings import Settings
from monitor.signals import coordination
from monitor.signals.coordination import Query
from monitor.timewindow import Window
from tests.benchmark import used_memory
from workers.importer import import_archives

TAG = "IRGCOutOfIraq"
START = datetime(2019, 11, 20, tzinfo=UTC)
CELLS, CELL_SIZE, ROUNDS = 40, 15, 12
WORDS = [f"w{rank}" for rank in range(1, 5_001)]  # a vocabulary with Zipf's word frequencies
ZIPF = list(itertools.accumulate(1 / rank for rank in range(1, 5_001)))
console = Console()


def _post(n: int, author: str, at: datetime, text: str, **extra: object) -> Post:
    fields = {"platform": "x", "id": str(10**12 + n), "author_id": author, "created_at": at,
              "author_handle": f"u{author}", "text": text, "hashtags": [TAG]}  # fmt: skip
    return Post.model_validate(fields | extra)


def _reply_to(target: str | None) -> dict[str, str]:
    return {"kind": "reply", "referenced_id": target} if target else {}


def generate(
    posts: int,
    seed: int = 1,
    start: datetime = START,
    first_id: int = 0,
    cells: int = CELLS,
    replies: bool = False,
) -> Iterator[Post]:
    """Organic talk from 50,000 accounts over a week (random texts, some reposts and links) and
    cells of 15 accounts posting one text within 30 s, twelve times each; time-ordered. With
    ``replies``, every third round of a cell replies to one post (outside the file), and one organic
    post in eleven replies to one of the twenty posts before it; without, no post is a reply."""
    rng = random.Random(seed)
    span_s = 7 * 86_400
    planted: list[tuple[datetime, str, str | None, str | None]] = []
    for cell in range(cells):
        members = [f"c{cell}-{m}" for m in range(CELL_SIZE)]
        for round_ in range(ROUNDS):
            at = start + timedelta(seconds=rng.randrange(span_s))
            text = f"cell {cell} round {round_}: the irgc must leave iraq #{TAG}"
            target = str(10**11 + cell * ROUNDS + round_) if replies and round_ % 3 == 2 else None
            planted += [
                (at + timedelta(seconds=rng.uniform(0, 30)), m, text, target) for m in members
            ]
    organic = posts - len(planted)
    rows = planted + [
        (start + timedelta(seconds=rng.uniform(0, span_s)), f"o{rng.randrange(50_000)}", None, None)
        for _ in range(max(organic, 0))
    ]
    rows.sort(key=lambda row: row[0])
    for n, (at, author, planted_text, target) in enumerate(rows[:posts]):
        if planted_text is not None:
            yield _post(first_id + n, author, at, planted_text, **_reply_to(target))
        elif n % 5 == 0 and n > 100:
            yield _post(first_id + n, author, at, "", kind="repost",
                        referenced_id=str(10**12 + first_id + rng.randrange(n)))  # fmt: skip
        else:
            words = " ".join(rng.choices(WORDS, cum_weights=ZIPF, k=rng.randrange(4, 24)))
            links = [f"https://news.example/{rng.randrange(20_000)}"] if n % 7 == 0 else []
            if replies and n % 11 == 3 and n > 100:
                target = str(10**12 + first_id + n - 1 - rng.randrange(20))
            yield _post(first_id + n, author, at, f"{words} #{TAG}", links=links,
                        **_reply_to(target))  # fmt: skip


def fresh_posts(first_id: int) -> Iterator[Post]:
    """1,000 posts after the rest: organic talk, and a new cell of 15 posting one text twice."""
    start = START + timedelta(days=8)
    text = f"a new cell: the irgc must leave iraq #{TAG}"
    for n in range(CELL_SIZE):  # twice each, a minute apart: weight 2
        for again in (0, 60):
            yield _post(
                first_id + 2 * n + again // 60,
                f"new-{n}",
                start + timedelta(seconds=2 * n + again),
                text,
            )
    rest, first = 1_000 - 2 * CELL_SIZE, first_id + 2 * CELL_SIZE
    yield from generate(rest, seed=2, start=start, first_id=first, cells=0)


def write(path: Path, posts: Iterator[Post]) -> int:
    count = 0
    with path.open("wb") as out:
        for post in posts:
            out.write(post.model_dump_json().encode() + b"\n")
            count += 1
    return count


def preprocess(path: Path, db: Path) -> None:
    """The Toolkit's preprocess of our file: reposts and replies name the post they refer to."""
    rows = []
    with path.open("rb") as lines:
        for line in lines:
            p = orjson.loads(line)
            t = datetime.fromisoformat(p["created_at"]).timestamp()
            repost = p["referenced_id"] if p["kind"] == "repost" else None
            reply = p["referenced_id"] if p["kind"] == "reply" else None
            rows.append(
                (
                    p["id"],
                    p["author_id"],
                    p["author_handle"],
                    repost,
                    reply,
                    p["text"],
                    t,
                    p["links"],
                )
            )
    preprocess_data(str(db), rows)


def run_toolkit(path: Path, db: Path) -> tuple[float, set[tuple[str, str, int]]]:
    """The Toolkit on the same file: preprocess, then co_tweet with our defaults (60 s, 2)."""
    started = time.perf_counter()
    preprocess(path, db)
    toolkit.compute_co_tweet_network(str(db), 60, min_edge_weight=2, n_threads=os.cpu_count() or 1)
    seconds = time.perf_counter() - started
    return seconds, {(str(a), str(b), int(w)) for a, b, w, _ in get_edge_rows(str(db), "co_tweet")}


async def measure(directory: Path, posts: int, with_toolkit: bool) -> Table:
    sample, fresh = directory / "posts.jsonl", directory / "new.jsonl"
    count = write(sample, generate(posts))
    write(fresh, fresh_posts(posts))
    table = Table(title=f"Coordination, {count:,} posts ({CELLS} planted cells of {CELL_SIZE})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    with EmbeddedRedis(directory / "redis") as server:
        settings = Settings(redis_url=server.url, data_dir=directory)
        redis = connect(server.url)
        try:
            await watchlist.add(redis, watchlist.DEFAULT, [TAG.casefold()])
            before = await used_memory(redis)
            started = time.perf_counter()
            await import_archives(redis, settings, [open_archive(sample, "jsonl")])
            imported = time.perf_counter() - started
            query = Query("co-post", 60, 2, "toolkit")
            network = await coordination.network(redis, TAG.casefold(), query, Window(0, 10**13))
            full = time.perf_counter() - started
            after = await used_memory(redis)
            table.add_row(
                "import + aggregation", f"{imported:.1f} s ({count / imported:,.0f} posts/s)"
            )
            table.add_row("[bold]import to full co-post network", f"[bold]{full:.1f} s")
            table.add_row("co-post network query alone", f"{full - imported:.2f} s")
            table.add_row("co-post edges (w >= 2, 60 s)", f"{len(network.edges()):,}")
            table.add_row("Redis memory per post", f"{(after - before) / count:,.0f} B")
            started = time.perf_counter()
            await import_archives(redis, settings, [open_archive(fresh, "jsonl")])
            applied = time.perf_counter() - started
            later = await coordination.network(redis, TAG.casefold(), query, Window(0, 10**13))
            shown = time.perf_counter() - started
            table.add_row("[bold]1,000 new posts to the network", f"[bold]{shown:.2f} s")
            table.add_row("  of which import + aggregation", f"{applied:.2f} s")
            table.add_row("  of which the network query", f"{shown - applied:.2f} s")
            letters = int(await redis.xlen(keys.DEADLETTER))
            table.add_row(
                "dead letters (must be 0)", f"{letters:,}" if not letters else f"[red]{letters:,}"
            )
            added = {a for a, _, _ in later.edges()} - {a for a, _, _ in network.edges()}
            table.add_row(
                "new accounts in the network", f"{len(added):,} (the new cell: {CELL_SIZE})"
            )
        finally:
            await redis.aclose()
    if with_toolkit:
        seconds, theirs = run_toolkit(sample, directory / "toolkit.db")
        table.add_row("[bold]Toolkit preprocess + co_tweet", f"[bold]{seconds:.1f} s")
        table.add_row("Toolkit edges equal ours", "yes" if theirs == set(network.edges()) else "NO")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_coordination", description=__doc__)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--no-toolkit", action="store_true", help="skip the Toolkit's run")
    args = parser.parse_args(argv)
    if args.posts < CELLS * CELL_SIZE * ROUNDS:
        parser.error(f"--posts must be at least {CELLS * CELL_SIZE * ROUNDS} (the planted cells)")
    with tempfile.TemporaryDirectory(prefix="hashmon-bench-co-") as directory:
        console.print(asyncio.run(measure(Path(directory), args.posts, not args.no_toolkit)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
