"""hashmon status: whether aggregators run, and what waits in the queue."""

from typing import Annotated

import typer
from rich.table import Table

from monitor import health
from monitor.cli.common import fail, load_settings, out, run
from monitor.cli.watch import FormatOption, Output


def status(
    fmt: FormatOption = Output.text,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 when no aggregator is running (for probes).")
    ] = False,
) -> None:
    """Running aggregators and collectors, the ingest queue and dead letters."""
    found = run(load_settings(), health.status)
    if fmt is Output.json:
        typer.echo(found.model_dump_json(indent=2))
    else:
        table = Table("role", "name", "posts handled", "last beat", title="hashmon status")
        for role in found.roles:
            table.add_row(role.role, role.name, f"{role.done:,}",
                          f"{role.seconds_since_beat:.1f} s ago")  # fmt: skip
        out.print(table)
        out.print(
            f"queue: {found.stream_length:,} entries, {found.pending:,} pending; "
            f"dead letters: {found.dead_letters:,}; watched tags: {found.watched_tags:,}"
        )
    if check and not any(role.role == "aggregator" for role in found.roles):
        fail("no aggregator is running", code=1)
