"""hashmon sources: where posts are collected from, and how each source is doing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli import consoles
from monitor.cli.common import fail, load_settings, one_line_errors, run
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


@app.command()
def load(path: Annotated[Path, typer.Argument(help="A sources TOML file.")]) -> None:
    """Add the sources of a TOML file ([sources.NAME] kind, url), e.g. seeds/sources.toml; a
    source already stored under the same name is kept as it is."""
    from monitor import sources_file

    with one_line_errors():
        found = sources_file.read(path)
    added = run(load_settings(), lambda redis: sources_file.load(redis, found))
    kept = len(found) - len(added)
    consoles.out.print(f"{path}: {len(added)} added, {kept} already there", markup=False)


@app.command("list")
def list_sources(fmt: FormatOption = Output.text) -> None:
    """Every source with its health: last success, last error, lag and cursors."""
    from monitor import sources
    from monitor.cli import listing
    from monitor.words import plural

    found = run(load_settings(), sources.states)
    rows = []
    for state in found:
        error = state.last_error or "-"
        if state.last_error_at is not None:
            error = f"{_ago(state.last_error_at)}: {error}"
        success = _ago(state.last_success_at) if state.last_success_at is not None else "never"
        lag = "-" if state.lag_s is None else f"{state.lag_s:,.0f} s"
        kept = "one, for the source" if "*" in state.cursors else plural(len(state.cursors), "tag")
        rows.append([state.source.name, state.source.platform, state.source.base_url,
                     f"{state.posts:,}", success, lag, error, kept])  # fmt: skip
    listing.show(
        fmt is Output.json,
        [s.model_dump(mode="json") for s in found],
        ["name", "platform", "url", "posts", "last success", "lag", "last error", "cursors"],
        rows,
        empty="no sources yet: add one with hashmon sources add PLATFORM ..., or load the "
        "credential-free ones with hashmon sources load seeds/sources.toml",
        title=plural(len(found), "source"),
    )


def _ago(moment: float) -> str:
    return f"{max(0.0, time.time() - moment):.0f} s ago"
