"""The one shape of every list command: a table, or JSON with --format json; nothing to list is
a message that says how to add something, and exit 0."""

import sys
from collections.abc import Sequence

import orjson
import typer

from monitor.cli import consoles


def show(
    as_json: bool,
    data: object,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    empty: str,
    title: str | None = None,
) -> None:
    """``data`` is what --format json prints; the cells are escaped (stored text is hostile).
    The table is shown as consoles.show does, and off a terminal without loading rich."""
    if as_json:
        typer.echo(orjson.dumps(data).decode())
    elif not rows:
        typer.echo(empty)
    elif not sys.stdout.isatty():
        lines = [title] if title else []
        lines += ["\t".join(columns), *("\t".join(map(consoles.plain, row)) for row in rows)]
        typer.echo("\n".join(lines))
    else:
        from rich.table import Table
        from rich.text import Text

        from monitor.terminal import clean

        table = Table(*columns, title=title)
        for row in rows:
            table.add_row(*(Text(clean(cell)) for cell in row))
        consoles.show(table)
