"""What X, Reddit and Bluesky search share: runs of pages, and a session to sign in with.

A run starts at the newest results and pages down (a continuation token) until the platform has
no more or the previous run's newest result is reached: that boundary is given to the platform
(``since_id``, ``since``) or checked here. The cursor holds the boundary and, while a run pages,
its continuation and the run's own newest result, and is saved after each page's posts are in
the stream; so a run cut short (a stop, ``backfill_pages``) goes on where it was on the next pass.
"""

import abc
import logging
from dataclasses import dataclass

import orjson
from pydantic import BaseModel

from monitor import decoded
from monitor.models import Post
from monitor.settings import Settings
from monitor.sources import Source
from workers.collectors.http import Client, FetchError, Malformed, Page
from workers.collectors.sink import Sink

log = logging.getLogger(__name__)


class RunCursor(BaseModel):
    boundary: str | None = None  # the newest result of the last complete run
    run_newest: str | None = None  # the newest result of the run in progress
    page: str | None = None  # where the run in progress stands


@dataclass(frozen=True)
class Found:
    """One page: its posts, its newest result, the next page, and whether the boundary showed."""

    posts: list[Post]
    newest: str | None
    next_page: str | None
    reached: bool = False


class SearchPoller(abc.ABC):
    per_tag = True
    expired: tuple[str, ...] = ()  # how FetchError starts when the session has run out

    def __init__(self, client: Client, source: Source, settings: Settings, sink: Sink) -> None:
        self.client, self.source, self.settings, self.sink = client, source, settings, sink

    @abc.abstractmethod
    async def search(self, tag: str, cursor: RunCursor) -> Found:
        """One page of results for the tag, from ``cursor.page`` down to ``cursor.boundary``."""

    async def sign_in(self) -> None:
        """Set ``client.bearer`` for platforms that need a session; most take the token as is."""
        return None

    async def collect(self, tag: str) -> list[Post]:
        stored = await self.sink.load_cursor(tag)
        cursor = RunCursor.model_validate_json(stored) if stored else RunCursor()
        published: list[Post] = []
        for _ in range(max(1, self.settings.backfill_pages)):
            found = await self.search(tag, cursor)
            await self.sink.publish(found.posts)
            published += found.posts
            if cursor.page is None:  # the run's first page
                cursor.run_newest = found.newest or cursor.boundary
            cursor.page = None if found.reached else found.next_page
            if cursor.page is None:  # the run is complete
                cursor.boundary, cursor.run_newest = cursor.run_newest or cursor.boundary, None
            await self.sink.save_cursor(tag, cursor.model_dump_json())
            if cursor.page is None:
                break
        return published

    async def get(self, url: str, params: dict[str, str]) -> Page:
        """A JSON page; a session that has run out is opened anew, once."""
        if self.expired and self.client.bearer is None:
            await self.sign_in()
        try:
            return await self.client.get_json(url, params)
        except FetchError as exc:
            if not self.expired or not str(exc).startswith(self.expired):
                raise
            log.info("%s: session refused, signing in again", self.source.name)
            await self.sign_in()
            return await self.client.get_json(url, params)

    def token_from(self, page: Page, field: str) -> None:
        """Take the session token from a sign-in response into the client."""
        try:
            token = decoded.string(orjson.loads(page.raw), field)
        except orjson.JSONDecodeError:
            token = None
        if not token:
            raise Malformed(f"a sign-in response without {field}", page.raw)
        self.client.bearer = token
