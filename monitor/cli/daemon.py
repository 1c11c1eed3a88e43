"""hashmon run and hashmon aggregate: the long-running roles."""

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.common import load_settings, one_line_errors, session
from monitor.cli.watch import load_lists, read_file
from monitor.settings import Settings
from workers.aggregator import Aggregator
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
    _serve(load_settings(), aggregators, wanted)


def aggregate(
    workers: Annotated[int, typer.Option(min=1, max=64, help="Aggregator tasks.")] = 1,
) -> None:
    """Run aggregators only; any number of them, on any machines, can share one Redis."""
    _serve(load_settings(), workers, {})


def _serve(config: Settings, count: int, wanted: dict[str, list[str]]) -> None:
    async def main() -> None:
        async with session(config) as redis:
            if wanted:
                await load_lists(redis, wanted)
            roles = [Aggregator(redis, config) for _ in range(count)]
            if count > 1:
                for i, role in enumerate(roles):
                    role.name = f"{role.name}-{i}"
            log.info("hashmon: %d aggregator(s) started", count)
            await serve(roles, config.shutdown_grace_s)
            log.info("hashmon: stopped")

    with one_line_errors():
        asyncio.run(main())
