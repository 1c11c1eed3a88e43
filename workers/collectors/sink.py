"""Where a collector's results go: posts to the ingest stream, bad payloads to dead letters,
and its cursors beside its source, saved only after the posts they cover are published."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from monitor.models import Post


@dataclass(frozen=True)
class Sink:
    publish: Callable[[list[Post]], Awaitable[None]]
    reject: Callable[[str, bytes], Awaitable[None]]
    load_cursor: Callable[[str], Awaitable[str | None]]
    save_cursor: Callable[[str, str], Awaitable[None]]
