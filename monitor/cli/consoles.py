"""Where commands print, so that every token (a URL, an id, a time, a command) stays whole.

`out` and `err` never wrap a line themselves: a terminal folds long lines on screen only, and a
pipe gets them whole. Tables go through `show`. On a terminal a table keeps each cell on one
line and shortens one too long for its column with an ellipsis. Anywhere else (a pipe, a file)
a table becomes tab-separated lines, for `cut -f` and spreadsheets: its title, its header, then
one line per row, with any tab or line break inside a cell turned into a space."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    out: Console
    err: Console

_BREAKS = re.compile(r"[\t\r\n]+")


def __getattr__(name: str) -> Console:
    """`out` and `err` are made on first use: loading rich.console would add some 30 ms (a
    sixth) to `hashmon --version`."""
    if name not in ("out", "err"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rich.console import Console

    made = Console(stderr=name == "err", highlight=False, soft_wrap=True, emoji=False)
    globals()[name] = made
    return made


def show(renderable: RenderableType, console: Console | None = None) -> None:
    """Print text and tables (alone or in a Group) as the module docstring says."""
    console = console or __getattr__("out")
    if console.is_terminal:
        _shorten_cells(renderable)
        console.print(renderable)
    else:
        console.file.write("".join(f"{line}\n" for line in _plain_lines(renderable)))


def _parts(renderable: RenderableType) -> list[RenderableType]:
    from rich.console import Group

    if isinstance(renderable, Group):
        return [part for inner in renderable.renderables for part in _parts(inner)]
    return [renderable]


def _shorten_cells(renderable: RenderableType) -> None:
    """Each cell on one line, cut with an ellipsis; the columns stay wrappable, so that rich
    narrows the widest ones (links, members, commands) first and keeps the short ones whole."""
    from rich.table import Table

    for part in _parts(renderable):
        if isinstance(part, Table):
            for column in part.columns:
                column.header = _one_line(column.header)
                column._cells = [_one_line(cell) for cell in column.cells]  # rich has no setter


def _one_line(cell: RenderableType) -> RenderableType:
    from rich.text import Text

    if isinstance(cell, str):
        cell = Text.from_markup(cell)
    if isinstance(cell, Text):
        cell.no_wrap, cell.overflow = True, "ellipsis"
    return cell


def _plain_lines(renderable: RenderableType) -> list[str]:
    from rich.table import Table

    lines: list[str] = []
    after_table = False
    for part in _parts(renderable):
        if lines and (after_table or isinstance(part, Table)):
            lines.append("")  # a table is a paragraph of its own
        after_table = isinstance(part, Table)
        if isinstance(part, Table):
            if part.title:
                lines.append(_cell(part.title))
            if part.show_header:
                lines.append("\t".join(_cell(column.header) for column in part.columns))
            rows = zip(*(column.cells for column in part.columns), strict=True)
            lines += ["\t".join(_cell(cell) for cell in row) for row in rows]
        else:
            lines.append(_text(part))
    return lines


def _text(part: RenderableType) -> str:
    from rich.text import Text

    if isinstance(part, Text):
        return part.plain
    if isinstance(part, str):
        return Text.from_markup(part).plain
    raise TypeError(f"no plain form for {type(part).__name__}")


def _cell(cell: RenderableType) -> str:
    return plain(_text(cell))


def plain(text: str) -> str:
    """A cell on one line of a tab-separated table, safe for a terminal."""
    from monitor.terminal import clean

    return _BREAKS.sub(" ", clean(text)).strip()
