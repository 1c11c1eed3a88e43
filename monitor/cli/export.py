"""hashmon export: a tag's posts as CSV, JSON Lines or Parquet, and its volume series as CSV."""

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from monitor import outfile
from monitor.cli import consoles, writing
from monitor.cli.common import checked_tag, fail, load_settings, run

app = typer.Typer(help="Export tables for pandas, R or a spreadsheet.", no_args_is_help=True)


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="File, device or FIFO; - is stdout (default).")
]


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
    to_stdout = output is None or outfile.is_stdout(output)
    if fmt is ExportFormat.parquet and (output is None or (to_stdout and sys.stdout.isatty())):
        fail("--format parquet needs --output FILE (Parquet is not for a terminal)")
    referred = fmt is ExportFormat.jsonl  # only hashmon's own post format carries their text
    found = run(load_settings(), lambda redis: exports.posts(redis, parsed, since, until, referred))
    quiet = to_stdout or not consoles.err.is_terminal or len(found) < 10_000
    rows = track(found, description=f"writing {writing.target(output).name}",
                 console=consoles.err, disable=quiet)  # fmt: skip
    if fmt is ExportFormat.parquet:
        with writing.binary_to(output) as stream:
            exports.write_parquet(rows, stream)
    else:
        write = exports.write_csv if fmt is ExportFormat.csv else exports.write_jsonl
        with writing.text_to(output) as stream:
            write(rows, stream)
    writing.wrote(output, f"{len(found):,} posts")


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
    with writing.text_to(output) as stream:
        exports.write_volume_csv(points, stream)
    writing.wrote(output, f"{len(points):,} buckets")
