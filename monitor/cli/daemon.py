"""hashmon run, aggregate, collect and serve: the long-running roles."""

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.common import fail, load_settings, one_line_errors, out, run, session
from monitor.cli.watch import load_lists, read_file
from monitor.embedded import redis_url
from monitor.settings import Settings
from workers.aggregator import Aggregator
from workers.alerter import Alerter
from workers.api import ApiServer, ListenError
from workers.collectors.collector import Collector
from workers.collectors.once import collect_once
from workers.digester import Digester
from workers.reporter import Reporter
from workers.role import Role
from workers.serve import serve

log = logging.getLogger(__name__)


def run_all(
    watchlists: Annotated[
        Path | None, typer.Option(help="Add the lists of this TOML file on start.")
    ] = None,
    aggregators: Annotated[int, typer.Option(min=1, max=64, help="Aggregator tasks.")] = 1,
) -> None:
    """Run every role in one process until SIGINT/SIGTERM (the first drains, a second stops)."""
    wanted = read_file(watchlists) if watchlists else {}
    _serve(load_settings(), aggregators, wanted, collectors=1, api=True, everything=True)


def aggregate(
    workers: Annotated[int, typer.Option(min=1, max=64, help="Aggregator tasks.")] = 1,
) -> None:
    """Run aggregators only; any number of them, on any machines, can share one Redis."""
    _serve(load_settings(), workers, {})


def collect(
    once: Annotated[
        bool, typer.Option("--once", help="One pass over every source and tag, then exit.")
    ] = False,
) -> None:
    """Collect from every source; with --once, return when the pass's posts are in reports."""
    config = load_settings()
    if not once:
        _serve(config, 0, {}, collectors=1)
        return
    results = run(config, lambda redis: collect_once(redis, config))
    if not results:
        fail("no sources; add one with 'hashmon sources add'", code=1)
    for result in results:
        out.print(f"{result.source}: {result.posts:,} posts, {result.errors} errors", markup=False)
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
    _serve(config.model_copy(update=changes), 0, {}, api=True)


def _serve(
    config: Settings,
    count: int,
    wanted: dict[str, list[str]],
    collectors: int = 0,
    api: bool = False,
    everything: bool = False,
) -> None:
    async def main() -> None:
        with redis_url(config) as url:  # the reporter's builds connect from a child process
            await roles_on(config.model_copy(update={"redis_url": url}))

    async def roles_on(config: Settings) -> None:
        async with session(config) as redis:
            if wanted:
                await load_lists(redis, wanted)
            roles: list[Role] = [Aggregator(redis, config) for _ in range(count)]
            if count > 1:
                for i, role in enumerate(roles):
                    role.name = f"{role.name}-{i}"
            roles += [Collector(redis, config) for _ in range(collectors)]
            if api:
                roles.append(ApiServer(redis, config))
            if everything:  # hashmon run: reports kept current, digests written, alerts sent
                roles += [Reporter(redis, config), Digester(redis, config), Alerter(redis, config)]
            log.info("hashmon: %d aggregator(s), %d collector(s)%s started", count, collectors,
                     ", the API" if api else "")  # fmt: skip
            await serve(roles, config.shutdown_grace_s)
            log.info("hashmon: stopped")

    with one_line_errors():
        try:
            asyncio.run(main())
        except ListenError as exc:
            fail(str(exc), code=1)
