"""What every command shares: settings, one-line errors, and a Redis session."""

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import NoReturn, TypeVar

import typer
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rich.console import Console
from rich.logging import RichHandler

from monitor import (
    alerts,
    digests,
    embedded,
    hashtags,
    settings,
    sources,
    stacks,
    timewindow,
    watchlist,
)
from monitor.connection import connect
from monitor.importers.files import ImportFileError
from monitor.reports.build import NoData
from monitor.reports.summary import EmptyList

T = TypeVar("T")

out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

USAGE_ERRORS: tuple[type[Exception], ...] = (
    hashtags.InvalidTag,
    watchlist.InvalidListName,
    timewindow.InvalidWindow,
    ImportFileError,
    settings.SettingsError,
    sources.InvalidSource,
    digests.InvalidDigest,
    alerts.InvalidAlert,
)
NOTHING_TO_SHOW: tuple[type[Exception], ...] = (NoData, EmptyList)


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """Known problems become 'error: ...' and an exit code; anything else is a bug and shows."""
    try:
        yield
    except USAGE_ERRORS as exc:
        fail(str(exc))
    except NOTHING_TO_SHOW as exc:
        fail(str(exc), code=1)
    except embedded.EmbeddedError as exc:
        fail(str(exc), code=1)
    except RedisConnectionError as exc:
        fail(f"cannot reach Redis: {exc}", code=1)


def checked_tag(tag: str, since: str | None, until: str | None) -> str:
    """The tag's normal form, once the tag and the window bounds are known to be well formed."""
    with one_line_errors():
        timewindow.check(since)
        timewindow.check(until)
        return hashtags.parse(tag)
    raise AssertionError("unreachable")  # one_line_errors exits on every error it catches


def load_settings() -> settings.Settings:
    with one_line_errors():
        return settings.load()


def setup_logging(verbose: bool) -> None:
    handler: logging.Handler = (
        RichHandler(console=err, show_path=False)
        if sys.stderr.isatty()
        else logging.StreamHandler()
    )
    if isinstance(handler, RichHandler):  # rich shows the time and level in columns of its own
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    logging.getLogger("asyncio").setLevel(logging.WARNING)


@contextlib.asynccontextmanager
async def session(config: settings.Settings) -> AsyncIterator[Redis]:
    """A client for the configured Redis, or for the embedded server while the command runs;
    meanwhile SIGUSR1 prints what the command is doing (monitor.stacks)."""
    stacks.on_request()
    with embedded.redis_url(config) as url:
        client = connect(url)
        try:
            yield client
        finally:
            await client.aclose()


def run(config: settings.Settings, work: Callable[[Redis], Awaitable[T]]) -> T:
    """Run one async piece of work against Redis, with one-line errors."""

    async def main() -> T:
        async with session(config) as redis:
            return await work(redis)

    with one_line_errors():
        try:
            return asyncio.run(main())
        except KeyboardInterrupt:
            fail("interrupted; what was already published stays queued for aggregation", code=130)
    raise AssertionError("unreachable")  # one_line_errors exits on every error it catches
