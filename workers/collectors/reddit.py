"""Reddit search, newest first, one query per watched tag, as an OAuth app.

The app trades its client id and secret for a bearer token (client credentials), kept for the
source until a 401 says it expired. A run pages with ``after`` from the newest submission down
to the newest of the previous run (Reddit has no ``since``): the cursor keeps that boundary and,
while the run pages, its ``after``, so a run cut short goes on where it was on the next pass.
Submissions the search returns without a watched tag written in them are published too, and
aggregation counts them as unwatched.
"""

import base64
import logging

import orjson
from pydantic import BaseModel

from monitor import decoded
from monitor.models import Post
from monitor.platforms import reddit
from monitor.settings import Settings
from monitor.signals.records import epoch_ms
from monitor.sources import Source
from workers.collectors.http import Client, FetchError, Malformed, Page
from workers.collectors.sink import Sink

log = logging.getLogger(__name__)

PAGE_SIZE = "100"  # the API's maximum


class Cursor(BaseModel):
    newest_ms: int | None = None  # the newest submission of the last complete run
    run_newest_ms: int | None = None
    after: str | None = None  # where the run in progress stands


class RedditPoller:
    per_tag = True

    def __init__(self, client: Client, source: Source, settings: Settings, sink: Sink) -> None:
        self.client, self.source, self.settings, self.sink = client, source, settings, sink

    async def collect(self, tag: str) -> list[Post]:
        stored = await self.sink.load_cursor(tag)
        cursor = Cursor.model_validate_json(stored) if stored else Cursor()
        published: list[Post] = []
        for _ in range(max(1, self.settings.backfill_pages)):
            posts, done = await self._page(tag, cursor)
            published += posts
            if done:
                break
        return published

    async def _page(self, tag: str, cursor: Cursor) -> tuple[list[Post], bool]:
        """One page, published and recorded in the cursor; True when the run is complete."""
        params = {"q": tag, "sort": "new", "type": "link", "limit": PAGE_SIZE, "raw_json": "1"}
        if cursor.after:
            params["after"] = cursor.after
        page = await self._get(f"{self.source.base_url}/search", params)
        try:
            posts, refused, after = reddit.posts_from_listing(page.body)
        except ValueError as exc:
            raise Malformed(f"a search page that cannot be read: {exc}", page.raw) from None
        for reason in refused:
            await self.sink.reject(reason, page.raw)
        await self.sink.publish(posts)
        times = [epoch_ms(post.created_at) for post in posts]
        if cursor.after is None:  # the run's first page
            cursor.run_newest_ms = max(times, default=cursor.newest_ms)
        reached = cursor.newest_ms is not None and any(t <= cursor.newest_ms for t in times)
        done = after is None or reached
        if done:
            known = [t for t in (cursor.run_newest_ms, cursor.newest_ms) if t is not None]
            cursor.newest_ms = max(known, default=None)
            cursor.run_newest_ms, cursor.after = None, None
        else:
            cursor.after = after
        await self.sink.save_cursor(tag, cursor.model_dump_json())
        return posts, done

    async def _get(self, url: str, params: dict[str, str]) -> Page:
        """A page; a missing or expired token is fetched anew, once."""
        if self.client.bearer is None:
            await self._authorize()
        try:
            return await self.client.get_json(url, params)
        except FetchError as exc:
            if not str(exc).startswith("HTTP 401"):
                raise
            log.info("%s: token refused, asking for a new one", self.source.name)
            await self._authorize()
            return await self.client.get_json(url, params)

    async def _authorize(self) -> None:
        """Client credentials: the app's id and secret, sent as basic auth, for a token."""
        client_id, secret = self.source.token(), self.source.secret()
        if not client_id or not secret:
            raise FetchError("the client id or secret variable is not set")
        self.client.bearer = None
        basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        page = await self.client.fetch(
            f"{self.source.auth_url}/api/v1/access_token",
            headers={"Authorization": basic},
            form={"grant_type": "client_credentials"},
        )
        try:
            token = decoded.string(orjson.loads(page.raw), "access_token")
        except orjson.JSONDecodeError:
            token = None
        if not token:
            raise Malformed("a token response without access_token", page.raw)
        self.client.bearer = token
