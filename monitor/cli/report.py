"""hashmon report: one tag, or a watchlist's summary."""

from enum import StrEnum
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.console import RenderableType

from monitor import hashtags, timewindow, watchlist
from monitor.cli.common import fail, load_settings, one_line_errors, out, run
from monitor.reports import build, render_text, summary
from monitor.reports.model import ListSummary, TagReport


class ReportFormat(StrEnum):
    text = "text"
    json = "json"


def report(
    tag: Annotated[str | None, typer.Argument(help="The tag, with or without '#'.")] = None,
    name: Annotated[
        str | None, typer.Option("--list", "-l", help="Summarise every tag of a watchlist.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Duration before the newest post (24h, 7d) or ISO time.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Duration or ISO time.")] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f")] = ReportFormat.text,
    top: Annotated[int, typer.Option(min=1, max=1000, help="Rows in top lists.")] = 10,
) -> None:
    """A tag's report (default: all retained), or with --list one row per tag (default 24h)."""
    with one_line_errors():
        timewindow.check(since)
        timewindow.check(until)
        if (tag is None) == (name is None):
            fail("give a TAG or --list NAME (one of them)")
        target = watchlist.parse_name(name) if name else hashtags.parse(tag or "")
    config = load_settings()
    if name:
        listed = run(config, lambda r: summary.list_summary(r, target, since or "24h", until))
        _show(listed, fmt, render_text.list_summary(listed))
    else:
        one = run(config, lambda r: build.tag_report(r, target, since, until, top))
        _show(one, fmt, render_text.tag_report(one))


def _show(
    result: TagReport | ListSummary | BaseModel, fmt: ReportFormat, text: RenderableType
) -> None:
    if fmt is ReportFormat.json:
        typer.echo(result.model_dump_json(by_alias=True, indent=2))
    else:
        out.print(text)
