"""hashmon export: a tag's posts as CSV or JSON Lines."""

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from monitor import exports, hashtags, timewindow
from monitor.cli.common import err, fail, load_settings, one_line_errors, run

app = typer.Typer(help="Export tables for pandas, R or a spreadsheet.", no_args_is_help=True)


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


@app.command()
def posts(
    tag: Annotated[str, typer.Argument(help="The tag, with or without '#'.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.csv,
    since: Annotated[str | None, typer.Option(help="Duration or ISO time.")] = None,
    until: Annotated[str | None, typer.Option(help="Duration or ISO time.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
    ] = None,
) -> None:
    """One row per post in the window: platform, id, url, time, kind, author, reference, tags."""
    with one_line_errors():
        timewindow.check(since)
        timewindow.check(until)
        parsed = hashtags.parse(tag)
    found = run(load_settings(), lambda redis: exports.posts(redis, parsed, since, until))
    write = exports.write_csv if fmt is ExportFormat.csv else exports.write_jsonl
    if output is None:
        write(found, sys.stdout)
        return
    try:
        with output.open("w", encoding="utf-8", newline="") as out:
            write(found, out)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    err.print(f"wrote {len(found):,} posts to {output}", markup=False, highlight=False)
