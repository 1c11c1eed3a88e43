"""hashmon status: whether aggregators run, and what waits in the queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli import consoles
from monitor.cli.common import fail, load_settings, run
from monitor.cli.consoles import show
from monitor.cli.watch import FormatOption, Output

if TYPE_CHECKING:
    from rich.text import Text

    from monitor import health


def status(
    fmt: FormatOption = Output.text,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 when no aggregator is running (for probes).")
    ] = False,
) -> None:
    """Every running role (where it runs, its work, its last error), the queue and its lag,
    dead letters."""
    from rich.table import Table

    from monitor import health

    config = load_settings()
    found = run(config, lambda redis: health.status(redis, config.max_stream_backlog))
    if fmt is Output.json:
        typer.echo(found.model_dump_json(indent=2))
    else:
        from monitor.words import plural

        if found.roles:
            table = Table("role", "name", "posts handled", "last beat", "working on",
                          "last error", title="hashmon status")  # fmt: skip
            for role in found.roles:
                beat = f"{role.seconds_since_beat:.1f} s ago"
                table.add_row(role.role, role.name, f"{role.done:,}", beat, _work(role),
                              _error(role))  # fmt: skip
            show(table)
        else:
            consoles.out.print("no hashmon daemon is running (no role has a live heartbeat); "
                               "start one with hashmon run", markup=False)  # fmt: skip
        lag = "" if found.oldest_waiting_s is None else f", oldest {found.oldest_waiting_s:,.1f} s"
        consoles.out.print(
            f"queue: {plural(found.waiting, 'entry')} waiting, {found.pending:,} of them "
            f"delivered{lag}{_shards(found)}; "
            f"dead letters: {found.dead_letters:,}; watched tags: {found.watched_tags:,}",
            markup=False,
        )
        for condition in found.conditions:
            consoles.err.print(f"warning: {condition}", markup=False)
    if check and not any(role.role == "aggregator" for role in found.roles):
        fail("no aggregator is running", code=1)


def _shards(found: health.Status) -> str:
    if len(found.shard_lengths) == 1:
        return ""
    held = ", ".join(map(str, found.shard_lengths))
    return f"; {len(found.shard_lengths)} shards holding {held} entries"


def _work(role: health.Role) -> str:
    if role.pending is not None:
        return f"{role.pending:,} pending"
    return ", ".join(role.working_on)


def _error(role: health.Role) -> Text:
    from rich.text import Text

    from monitor import terminal

    if role.last_error is None or role.seconds_since_error is None:
        return Text("")
    return Text(f"{role.seconds_since_error:,.0f} s ago: {terminal.clean(role.last_error)}")
