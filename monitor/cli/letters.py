"""hashmon deadletters: what could not be processed, with the reason, for a person to look at."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from monitor.cli.common import load_settings, run
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
    from monitor import deadletter
    from monitor.cli import listing
    from monitor.words import plural

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
    cells = [[x.id, x.source, x.reason, x.raw[:_SHOWN_BYTES].decode(errors="replace")]
             for x in letters]  # fmt: skip
    title = plural(total, "dead letter") + (
        f", the newest {len(cells)}" if total > len(cells) else ""
    )
    listing.show(False, None, ["id", "source", "reason", "raw (start)"], cells,
                 empty="no dead letters: nothing was set aside", title=title)  # fmt: skip
