"""hashmon run, aggregate, collect and serve: the long-running roles."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli import consoles
from monitor.cli.common import fail, load_settings, one_line_errors, run, session
from monitor.cli.watch import load_lists, read_file

if TYPE_CHECKING:
    from monitor.settings import Settings
    from monitor.sources import Source

log = logging.getLogger(__name__)


ROLES = ("aggregator", "collector", "api", "reporter", "digester", "alerter")


def run_all(
    watchlists: Annotated[
        Path | None, typer.Option(help="Add the lists of this TOML file on start.")
    ] = None,
    aggregators: Annotated[int, typer.Option(min=1, max=64, help="Aggregator tasks.")] = 1,
    roles: Annotated[
        str, typer.Option(help=f"Comma-separated roles to run, of: {', '.join(ROLES)}.")
    ] = ",".join(ROLES),
    sources: Annotated[
        Path | None,
        typer.Option(help="Add the sources of this TOML file on start (those not stored yet)."),
    ] = None,
) -> None:
    """Run every role (or those of --roles) in one process until SIGINT/SIGTERM (the first
    drains, a second stops)."""
    from monitor import sources_file

    chosen = {name.strip() for name in roles.split(",") if name.strip()}
    if unknown := sorted(chosen - set(ROLES)):
        fail(f"--roles: unknown role {unknown[0]!r}; choose from {', '.join(ROLES)}")
    if not chosen:
        fail(f"--roles: name at least one of {', '.join(ROLES)}")
    wanted = read_file(watchlists) if watchlists else {}
    with one_line_errors():
        found = sources_file.read(sources) if sources else []
    _serve(load_settings(), chosen, wanted, aggregators, found)


def aggregate(
    workers: Annotated[int, typer.Option(min=1, max=64, help="Aggregator tasks.")] = 1,
) -> None:
    """Run aggregators only; any number of them, on any machines, can share one Redis."""
    _serve(load_settings(), {"aggregator"}, {}, workers)


def collect(
    once: Annotated[
        bool, typer.Option("--once", help="One pass over every source and tag, then exit.")
    ] = False,
) -> None:
    """Collect from every source; with --once, return when the pass's posts are in reports."""
    from monitor.words import plural
    from workers.collectors.once import collect_once

    config = load_settings()
    if not once:
        _serve(config, {"collector"}, {})
        return
    results = run(config, lambda redis: collect_once(redis, config))
    if not results:
        fail(
            "no sources; add one with 'hashmon sources add', or load the credential-free ones "
            "with 'hashmon sources load seeds/sources.toml'",
            code=1,
        )
    for result in results:
        counts = f"{plural(result.posts, 'post')}, {plural(result.errors, 'error')}"
        consoles.out.print(f"{result.source}: {counts}", markup=False)
    if any(result.errors for result in results):
        fail("some sources failed; 'hashmon sources list' shows why", code=1)


def serve_api(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65_535, help="Port (default 8750).")
    ] = None,
) -> None:
    """Serve the HTTP API only; writes need HASHMON_API_TOKEN as a bearer token."""
    config = load_settings()
    changes = {k: v for k, v in (("api_host", host), ("api_port", port)) if v is not None}
    _serve(config.model_copy(update=changes), {"api"}, {})


def _serve(
    config: Settings,
    chosen: set[str],
    wanted: dict[str, list[str]],
    aggregators: int = 1,
    found: list[Source] | None = None,
) -> None:
    import asyncio

    from monitor import sources_file
    from monitor.embedded import redis_url
    from workers.aggregator import Aggregator
    from workers.alerter import Alerter
    from workers.api import ApiServer, ListenError
    from workers.collectors.collector import Collector
    from workers.digester import Digester
    from workers.reporter import Reporter
    from workers.role import Role
    from workers.serve import serve

    async def main() -> None:
        with redis_url(config) as url:  # the reporter's builds connect from a child process
            await roles_on(config.model_copy(update={"redis_url": url}))

    async def roles_on(config: Settings) -> None:
        async with session(config) as redis:
            if wanted:
                await load_lists(redis, wanted)
            if found:
                added = await sources_file.load(redis, found)
                log.info("hashmon: %d of %d sources added from the file", len(added), len(found))
            roles: list[Role] = []
            if "aggregator" in chosen:
                roles += [Aggregator(redis, config) for _ in range(aggregators)]
                if aggregators > 1:
                    for i, role in enumerate(roles):
                        role.name = f"{role.name}-{i}"
            others: dict[str, type[Collector | ApiServer | Reporter | Digester | Alerter]] = {
                "collector": Collector, "api": ApiServer, "reporter": Reporter,
                "digester": Digester, "alerter": Alerter,
            }  # fmt: skip
            roles += [make(redis, config) for name, make in others.items() if name in chosen]
            log.info("hashmon: %s started", ", ".join(role.role for role in roles))
            await serve(roles, config.shutdown_grace_s)
            log.info("hashmon: stopped")

    with one_line_errors():
        try:
            asyncio.run(main())
        except ListenError as exc:
            fail(str(exc), code=1)
