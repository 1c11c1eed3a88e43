"""hashmon export: a tag's posts as CSV, JSON Lines or Parquet, and its volume series as CSV."""

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from monitor import atomic
from monitor.cli import consoles
from monitor.cli.common import checked_tag, fail, load_settings, run

app = typer.Typer(help="Export tables for pandas, R or a spreadsheet.", no_args_is_help=True)


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


Output = Annotated[Path | None, typer.Option("--output", "-o", help="File (default: stdout).")]


@app.command()
def posts(
    tag: Annotated[str, typer.Argument(help="The tag, with or without '#'.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.csv,
    since: Annotated[str | None, typer.Option(help="Duration or ISO time.")] = None,
    until: Annotated[str | None, typer.Option(help="Duration or ISO time.")] = None,
    output: Output = None,
) -> None:
    """One row per post in the window: platform, id, url, time, kind, author, reference, tags."""
    from rich.progress import track

    from monitor import exports

    parsed = checked_tag(tag, since, until)
    if fmt is ExportFormat.parquet and output is None:
        fail("--format parquet needs --output FILE (Parquet is not for a terminal)")
    found = run(load_settings(), lambda redis: exports.posts(redis, parsed, since, until))
    if output is None:
        write = exports.write_csv if fmt is ExportFormat.csv else exports.write_jsonl
        write(found, sys.stdout)
        return
    rows = track(found, description=f"writing {output.name}", console=consoles.err,
                 disable=not consoles.err.is_terminal or len(found) < 10_000)  # fmt: skip
    try:
        with atomic.replacing(output) as partial:
            if fmt is ExportFormat.parquet:
                exports.write_parquet(rows, partial)
            else:
                with partial.open("w", encoding="utf-8", newline="") as out:
                    write = exports.write_csv if fmt is ExportFormat.csv else exports.write_jsonl
                    write(rows, out)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}; nothing was written")
    consoles.err.print(f"wrote {len(found):,} posts to {output}", markup=False, highlight=False)


@app.command("volume")
def volume_series(
    tag: Annotated[str, typer.Argument(help="The tag, with or without '#'.")],
    since: Annotated[str | None, typer.Option(help="Duration or ISO time.")] = None,
    until: Annotated[str | None, typer.Option(help="Duration or ISO time.")] = None,
    output: Output = None,
) -> None:
    """One CSV row per bucket (as in the report): start, posts, posts by kind, people."""
    from monitor import exports

    parsed = checked_tag(tag, since, until)
    points = run(load_settings(), lambda redis: exports.volume_rows(redis, parsed, since, until))
    if output is None:
        exports.write_volume_csv(points, sys.stdout)
        return
    try:
        with atomic.replacing(output) as partial, partial.open("w", newline="") as out:
            exports.write_volume_csv(points, out)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}; nothing was written")
    consoles.err.print(f"wrote {len(points):,} buckets to {output}", markup=False, highlight=False)
