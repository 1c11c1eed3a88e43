"""hashmon import: archive files in, through the same stream as live collection."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli import consoles
from monitor.cli.common import fail, load_settings, one_line_errors, run

if TYPE_CHECKING:
    import asyncio

    from redis.asyncio import Redis

    from monitor.importers.files import Archive
    from workers.importer import Summary

_SHOWN_REJECTS = 5


class ImportFormat(StrEnum):
    auto = "auto"
    twarc2 = "twarc2"
    jsonl = "jsonl"


def import_files(
    files: Annotated[list[Path], typer.Argument(help="twarc2 JSONL or hashmon JSONL files.")],
    fmt: Annotated[ImportFormat, typer.Option("--format", "-f")] = ImportFormat.auto,
    tags: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Watch this tag first (repeatable).")
    ] = None,
    name: Annotated[str, typer.Option("--list", "-l", help="Watchlist for --tag.")] = "default",
) -> None:
    """Import archives; returns once their posts are reflected in reports."""
    import asyncio
    import signal

    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from monitor import watchlist
    from monitor.importers.files import open_archive
    from workers.importer import Interrupted, import_archives

    with one_line_errors():
        list_name, new_tags = watchlist.parse_name(name), watchlist.parse_tags(tags or [])
        archives = [open_archive(path, fmt.value) for path in files]  # every file checked first

    config = load_settings()

    async def work(redis: Redis) -> Summary:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, stopping.set)  # checked between batches
        try:
            return await _run(redis, stopping)
        except Interrupted as exc:
            fail(f"{exc}; they stay queued for aggregation", code=130)
        finally:
            loop.remove_signal_handler(signal.SIGINT)

    async def _run(redis: Redis, stopping: asyncio.Event) -> Summary:
        if new_tags:
            await watchlist.add(redis, list_name, new_tags)
        err = consoles.err
        with Progress(
            "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
            TimeRemainingColumn(), console=err, transient=True, disable=not err.is_terminal,
        ) as bar:  # fmt: skip
            task = bar.add_task("importing", total=sum(a.size for a in archives))
            return await import_archives(
                redis, config, archives, lambda done: bar.update(task, completed=done), stopping
            )

    summary = run(config, work)
    _report(archives, summary)
    if summary.rejected and not summary.read:
        lines = len(summary.rejected)
        what = "its one line was" if lines == 1 else f"all {lines:,} lines were"
        fail(f"no posts imported: {what} rejected", code=1)


def _report(archives: list[Archive], summary: Summary) -> None:
    from monitor.words import plural

    verdicts = summary.verdicts
    for reject in summary.rejected[:_SHOWN_REJECTS]:
        consoles.err.print(f"rejected {reject}", markup=False)
    if len(summary.rejected) > _SHOWN_REJECTS:
        consoles.err.print(f"... and {len(summary.rejected) - _SHOWN_REJECTS} more rejected lines")
    shown = ", ".join(str(a.path) for a in archives)
    consoles.out.print(
        f"{shown}: {plural(summary.read, 'post')} read, {verdicts['new']:,} new, "
        f"{plural(verdicts['duplicate'], 'duplicate')}, "
        f"{plural(len(summary.rejected), 'line')} rejected, "
        f"{verdicts['unwatched']:,} without a watched tag, "
        f"{verdicts['too_old']:,} beyond retention",
        markup=False,
    )
    if summary.unwatched_tags and not verdicts["new"]:
        common = ", ".join(f"#{t} ({n:,})" for t, n in summary.unwatched_tags.most_common(5))
        consoles.err.print(
            f"hint: most common unwatched tags: {common}; add them with --tag", markup=False
        )
