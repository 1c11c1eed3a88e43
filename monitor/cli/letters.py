"""hashmon deadletters: what could not be processed, with the reason, for a person to look at."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from monitor.cli.common import load_settings, run
from monitor.cli.consoles import show
from monitor.cli.watch import FormatOption, Output

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from monitor import deadletter

_SHOWN_BYTES = 120


def deadletters(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first.")] = 20,
    fmt: FormatOption = Output.text,
) -> None:
    """Entries and payloads set aside instead of being applied, newest first."""
    from rich.table import Table
    from rich.text import Text

    from monitor import deadletter
    from monitor.terminal import clean

    async def fetch(redis: Redis) -> tuple[int, list[deadletter.Letter]]:
        return await deadletter.count(redis), await deadletter.recent(redis, limit)

    total, letters = run(load_settings(), fetch)
    if fmt is Output.json:
        rows = [
            {
                "id": x.id,
                "source": x.source,
                "reason": x.reason,
                "raw": x.raw.decode(errors="replace"),
            }
            for x in letters
        ]
        typer.echo(orjson.dumps({"total": total, "letters": rows}).decode())
        return
    table = Table("id", "source", "reason", "raw (start)", title=f"{total:,} dead letters")
    for x in letters:
        raw = x.raw[:_SHOWN_BYTES].decode(errors="replace")
        table.add_row(*(Text(clean(cell)) for cell in (x.id, x.source, x.reason, raw)))
    show(table)
