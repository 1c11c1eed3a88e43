"""hashmon digests: watchlist summaries written to a folder on a schedule by the daemon."""

from typing import Annotated

import orjson
import typer

from monitor.cli import consoles
from monitor.cli.common import fail, load_settings, one_line_errors, run

app = typer.Typer(help="Schedule watchlist summaries written by the daemon.", no_args_is_help=True)


@app.command()
def add(
    name: Annotated[str, typer.Option("--list", "-l", help="The watchlist.")],
    every: Annotated[str, typer.Option(help="How often: 24h, 1h, 7d (at least 1m).")] = "24h",
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, html or json.")] = "html",
    folder: Annotated[
        str, typer.Option("--to", help="A folder, or a webhook's http(s) URL.")
    ] = ".",
) -> None:
    """Write the list's summary every period (the daemon does it: `hashmon run`)."""
    from monitor import digests

    with one_line_errors():
        digest = digests.make(name, every, fmt, folder)
    run(load_settings(), lambda redis: digests.add(redis, digest))
    consoles.out.print(f"{digest.id}: every {every} to {digest.target}", markup=False)


@app.command("list")
def list_digests() -> None:
    """Every scheduled digest, as JSON lines."""
    from monitor import digests

    for digest in run(load_settings(), digests.all_digests):
        consoles.out.print(
            orjson.dumps({"id": digest.id, **digest.model_dump()}).decode(), markup=False
        )


@app.command()
def remove(digest_id: Annotated[str, typer.Argument(help="LIST.FORMAT, as `list` shows.")]) -> None:
    from monitor import digests

    if not run(load_settings(), lambda redis: digests.remove(redis, digest_id)):
        fail(f"no digest {digest_id[:80]!r}", code=1)
    consoles.out.print(f"{digest_id}: removed", markup=False)
