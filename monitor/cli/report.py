"""hashmon report: one tag, or a watchlist's summary."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor import outfile, timewindow
from monitor.cli import writing
from monitor.cli.common import fail, load_settings, one_line_errors, run
from monitor.cli.consoles import show

if TYPE_CHECKING:
    from rich.console import RenderableType

    from monitor.reports.model import ListSummary, TagReport


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    md = "md"
    html = "html"


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
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File, device or FIFO (json, md, html); - is stdout."),
    ] = None,
) -> None:
    """A tag's report (default: all retained), or with --list one row per tag (default 24h)."""
    from monitor import hashtags, watchlist

    with one_line_errors():
        timewindow.check(since)
        timewindow.check(until)
        if (tag is None) == (name is None):
            fail("give a TAG or --list NAME (one of them)")
        target = watchlist.parse_name(name) if name else hashtags.parse(tag or "")
        if output is not None and not outfile.is_stdout(output) and fmt is ReportFormat.text:
            fail("--output takes --format json, md or html (text is for the terminal)")
    from monitor.reports import ready, summary  # once the input is known to be good

    config = load_settings()
    if name:
        listed = run(config, lambda r: summary.list_summary(r, target, since or "24h", until))
        _show(_rendered(listed, fmt), output)
    else:
        one = run(config, lambda r: ready.tag_report(r, target, since, until, top))
        _show(_rendered(one, fmt), output)


def _rendered(result: TagReport | ListSummary, fmt: ReportFormat) -> str | RenderableType:
    from monitor.reports import render_html, render_md, render_text
    from monitor.reports.model import TagReport

    if fmt is ReportFormat.json:
        return result.model_dump_json(by_alias=True, indent=2) + "\n"
    if isinstance(result, TagReport):
        renderers = {
            ReportFormat.md: render_md.tag_report,
            ReportFormat.html: render_html.tag_report,
        }
        return renderers.get(fmt, render_text.tag_report)(result)
    by_format = {
        ReportFormat.md: render_md.list_summary,
        ReportFormat.html: render_html.list_summary,
    }
    return by_format.get(fmt, render_text.list_summary)(result)


def _show(rendered: str | RenderableType, output: Path | None) -> None:
    """A rendering that is a string goes out as it is: no terminal wrapping or markup."""
    if isinstance(rendered, str):
        writing.write_text(output, rendered)
    else:
        show(rendered)
