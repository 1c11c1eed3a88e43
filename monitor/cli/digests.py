"""hashmon digests: watchlist summaries written to a folder on a schedule by the daemon."""

from typing import Annotated

import typer

from monitor.cli import consoles
from monitor.cli.common import fail, load_settings, one_line_errors, run
from monitor.cli.watch import FormatOption, Output

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
def list_digests(fmt: FormatOption = Output.text) -> None:
    """Every scheduled digest."""
    from monitor import digests
    from monitor.cli import listing
    from monitor.words import plural

    found = run(load_settings(), digests.all_digests)
    listing.show(
        fmt is Output.json,
        [{"id": digest.id, **digest.model_dump()} for digest in found],
        ["id", "list", "every", "format", "to"],
        [[d.id, d.watchlist, _every(d.every_s), d.format, d.target] for d in found],
        empty="no digests yet: add one with hashmon digests add --list NAME --to DIR",
        title=plural(len(found), "digest"),
    )


def _every(seconds: float) -> str:
    """86400 -> '24h': the period as it was given, more or less."""
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size and seconds % size == 0 and not (unit == "d" and seconds < 172_800):
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


@app.command()
def remove(digest_id: Annotated[str, typer.Argument(help="LIST.FORMAT, as `list` shows.")]) -> None:
    from monitor import digests

    if not run(load_settings(), lambda redis: digests.remove(redis, digest_id)):
        fail(f"no digest {digest_id[:80]!r}", code=1)
    consoles.out.print(f"{digest_id}: removed", markup=False)
