"""hashmon sources: where posts are collected from, and how each source is doing."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from monitor.cli import consoles
from monitor.cli.common import fail, load_settings, one_line_errors, run
from monitor.cli.consoles import show
from monitor.cli.watch import FormatOption, Output

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from monitor.sources import Source

app = typer.Typer(help="Add, remove and list collection sources.", no_args_is_help=True)

# monitor.sources.PLATFORMS, for --help without pydantic and the Redis client
PLATFORMS = ("mastodon", "bluesky-jetstream", "bluesky-search", "x", "rss", "reddit")


@app.command()
def add(
    platform: Annotated[str, typer.Argument(help=f"One of: {', '.join(PLATFORMS)}.")],
    url: Annotated[
        str | None,
        typer.Option("--instance", "--url", help="Base URL: the instance, server or mirror."),
    ] = None,
    token_env: Annotated[
        str | None,
        typer.Option(
            "--token-env",
            "--bearer-env",
            "--client-id-env",
            "--handle-env",
            help="Environment variable holding the access token, Reddit's client id or a "
            "Bluesky handle (never stored).",
        ),
    ] = None,
    secret_env: Annotated[
        str | None,
        typer.Option(
            "--client-secret-env",
            "--password-env",
            help="Environment variable holding Reddit's client secret or a Bluesky app password.",
        ),
    ] = None,
    auth_url: Annotated[
        str | None, typer.Option(help="Where Reddit hands out tokens (default: www.reddit.com).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Name (default: the URL's host).")] = None,
    rate: Annotated[
        str | None,
        typer.Option(
            help="Throttle as REQUESTS/SECONDS (default: the platform's published limit)."
        ),
    ] = None,
) -> None:
    """Collect from a source from the next pass on; a running daemon needs no restart."""
    from monitor import sources

    with one_line_errors():
        source = sources.make(
            platform, url, name=name, token_env=token_env, secret_env=secret_env,
            auth_url=auth_url, rate=rate,
        )  # fmt: skip

    async def added(redis: Redis) -> Source:
        await sources.add(redis, source)
        return source

    run(load_settings(), added)
    consoles.out.print(
        f"{source.name}: {source.platform} source at {source.base_url} added", markup=False
    )


@app.command()
def remove(name: Annotated[str, typer.Argument(help="The source's name.")]) -> None:
    """Stop collecting from a source; its cursors go too (its posts stay)."""
    from monitor import sources

    if not run(load_settings(), lambda redis: sources.remove(redis, name)):
        fail(f"no source named {name[:64]!r}", code=1)
    consoles.out.print(f"{name}: removed", markup=False)


@app.command("list")
def list_sources(fmt: FormatOption = Output.text) -> None:
    """Every source with its health: last success, last error, lag and cursors."""
    from rich.table import Table
    from rich.text import Text

    from monitor import sources
    from monitor.terminal import clean

    found = run(load_settings(), sources.states)
    if fmt is Output.json:
        consoles.out.print(
            orjson.dumps([s.model_dump(mode="json") for s in found]).decode(), markup=False
        )
        return
    if not found:
        fail("no sources; add one with 'hashmon sources add'", code=1)
    table = Table("name", "platform", "url", "posts", "last success", "lag", "last error",
                  "cursors")  # fmt: skip
    for state in found:
        error = state.last_error or "-"
        if state.last_error_at is not None:
            error = f"{_ago(state.last_error_at)}: {error}"
        success = _ago(state.last_success_at) if state.last_success_at is not None else "never"
        lag = "-" if state.lag_s is None else f"{state.lag_s:,.0f} s"
        kept = "one, for the source" if "*" in state.cursors else f"{len(state.cursors)} tags"
        cells = (state.source.name, state.source.platform, state.source.base_url,
                 f"{state.posts:,}", success, lag, error, kept)  # fmt: skip
        table.add_row(*(Text(clean(cell)) for cell in cells))  # server text is hostile
    show(table)


def _ago(moment: float) -> str:
    return f"{max(0.0, time.time() - moment):.0f} s ago"
