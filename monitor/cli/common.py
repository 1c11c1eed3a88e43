"""What every command shares: settings, one-line errors, and a Redis session.

Every command module imports this one, and `hashmon --help` imports every command module, so
nothing here loads a Redis client, pydantic or a report module until a command needs it."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer

from monitor.cli import consoles

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from monitor.settings import Settings

T = TypeVar("T")

# (module, class): an exception can only be raised once its module is loaded, so these are
# looked up among the loaded modules when something is raised, and catching them imports nothing.
USAGE_ERRORS = (
    ("monitor.hashtags", "InvalidTag"),
    ("monitor.watchlist", "InvalidListName"),
    ("monitor.timewindow", "InvalidWindow"),
    ("monitor.importers.files", "ImportFileError"),
    ("monitor.settings", "SettingsError"),
    ("monitor.sources", "InvalidSource"),
    ("monitor.digests", "InvalidDigest"),
    ("monitor.alerts", "InvalidAlert"),
    ("monitor.accounts", "AmbiguousAccount"),
    ("monitor.postlist", "InvalidCursor"),
)
NOTHING_TO_SHOW = (
    ("monitor.reports.build", "NoData"),
    ("monitor.reports.summary", "EmptyList"),
    ("monitor.accounts", "UnknownAccount"),
)
UNAVAILABLE = (("monitor.embedded", "EmbeddedError"),)
UNREACHABLE = (("redis.exceptions", "ConnectionError"),)


def loaded(names: tuple[tuple[str, str], ...]) -> tuple[type[BaseException], ...]:
    """The named exception classes whose modules are loaded (the only ones that can be raised)."""
    return tuple(getattr(sys.modules[module], name) for module, name in names
                 if module in sys.modules)  # fmt: skip


def fail(message: str, code: int = 2) -> NoReturn:
    consoles.err.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """Known problems become 'error: ...' and an exit code; anything else is a bug and shows."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, loaded(USAGE_ERRORS)):
            fail(str(exc))
        if isinstance(exc, loaded(NOTHING_TO_SHOW + UNAVAILABLE)):
            fail(str(exc), code=1)
        if isinstance(exc, loaded(UNREACHABLE)):
            fail(f"cannot reach Redis: {exc}", code=1)
        raise


def checked_tag(tag: str, since: str | None, until: str | None) -> str:
    """The tag's normal form, once the tag and the window bounds are known to be well formed."""
    from monitor import hashtags, timewindow

    with one_line_errors():
        timewindow.check(since)
        timewindow.check(until)
        return hashtags.parse(tag)
    raise AssertionError("unreachable")  # one_line_errors exits on every error it catches


def load_settings() -> Settings:
    from monitor import settings

    with one_line_errors():
        return settings.load()
    raise AssertionError("unreachable")  # one_line_errors exits on every error it catches


def setup_logging(verbose: bool) -> None:
    handler: logging.Handler
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        handler = RichHandler(console=consoles.err, show_path=False)
        handler.setFormatter(logging.Formatter("%(message)s"))  # time and level: rich's columns
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    logging.getLogger("asyncio").setLevel(logging.WARNING)


@contextlib.asynccontextmanager
async def session(config: Settings) -> AsyncIterator[Redis]:
    """A client for the configured Redis, or for the embedded server while the command runs;
    meanwhile SIGUSR1 prints what the command is doing (monitor.stacks)."""
    from monitor import embedded, stacks
    from monitor.connection import connect

    stacks.on_request()
    with embedded.redis_url(config) as url:
        client = connect(url)
        try:
            yield client
        finally:
            await client.aclose()


def run(config: Settings, work: Callable[[Redis], Awaitable[T]]) -> T:
    """Run one async piece of work against Redis, with one-line errors."""
    import asyncio

    async def main() -> T:
        async with session(config) as redis:
            return await work(redis)

    with one_line_errors():
        try:
            return asyncio.run(main())
        except KeyboardInterrupt:
            fail("interrupted; what was already published stays queued for aggregation", code=130)
    raise AssertionError("unreachable")  # one_line_errors exits on every error it catches
