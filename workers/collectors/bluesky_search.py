"""Bluesky search (``app.bsky.feed.searchPosts`` with ``tag``), signed in with an app password:
the backfill that Jetstream, live only, cannot give.

Signing in (``createSession``) gives an access token, kept for the source and renewed when the
server says it expired. A run pages with ``cursor`` under a fixed ``since`` (the newest post time
of the previous run; search matches it against the time Bluesky sorts by). The cursor is an
offset, so posts arriving meanwhile shift pages and repeat posts, which aggregation ignores.
Posts found are also remembered for Jetstream (by the sink), so later reposts of them count.
"""

import logging
from datetime import UTC, datetime

import orjson
from pydantic import BaseModel

from monitor import decoded
from monitor.decoded import Json
from monitor.models import Post
from monitor.platforms import bluesky
from monitor.settings import Settings
from monitor.signals.records import epoch_ms
from monitor.sources import Source
from workers.collectors.http import Client, FetchError, Malformed, Page
from workers.collectors.sink import Sink

log = logging.getLogger(__name__)

PAGE_SIZE = "100"
_EXPIRED = ("HTTP 401", "HTTP 400: ExpiredToken")


class Cursor(BaseModel):
    since: str | None = None  # ISO time of the newest post of the last complete run
    run_newest: str | None = None
    cursor: str | None = None  # where the run in progress stands


class BlueskySearchPoller:
    per_tag = True

    def __init__(self, client: Client, source: Source, settings: Settings, sink: Sink) -> None:
        self.client, self.source, self.settings, self.sink = client, source, settings, sink

    async def collect(self, tag: str) -> list[Post]:
        stored = await self.sink.load_cursor(tag)
        cursor = Cursor.model_validate_json(stored) if stored else Cursor()
        published: list[Post] = []
        for _ in range(max(1, self.settings.backfill_pages)):
            published += await self._page(tag, cursor)
            if cursor.cursor is None:
                break
        return published

    async def _page(self, tag: str, cursor: Cursor) -> list[Post]:
        params = {"q": f"#{tag}", "tag": tag, "sort": "latest", "limit": PAGE_SIZE}
        if cursor.since:
            params["since"] = cursor.since
        if cursor.cursor:
            params["cursor"] = cursor.cursor
        page = await self._get(f"{self.source.base_url}/xrpc/app.bsky.feed.searchPosts", params)
        views = decoded.objs(page.body, "posts")
        if not isinstance(page.body, dict) or not isinstance(page.body.get("posts"), list):
            raise Malformed("a search page without posts", page.raw)
        posts = []
        for view in views:
            try:
                posts.append(_post(view))
            except ValueError as exc:
                await self.sink.reject(str(exc), orjson.dumps(view))
        await self.sink.publish(posts)
        newest = max(posts, key=lambda post: epoch_ms(post.created_at), default=None)
        if cursor.cursor is None:  # the run's first page
            cursor.run_newest = _iso(newest.created_at) if newest else cursor.since
        cursor.cursor = decoded.string(page.body, "cursor") if posts else None
        if cursor.cursor is None:
            cursor.since, cursor.run_newest = cursor.run_newest or cursor.since, None
        await self.sink.save_cursor(tag, cursor.model_dump_json())
        return posts

    async def _get(self, url: str, params: dict[str, str]) -> Page:
        if self.client.bearer is None:
            await self._sign_in()
        try:
            return await self.client.get_json(url, params)
        except FetchError as exc:
            if not str(exc).startswith(_EXPIRED):
                raise
            log.info("%s: session expired, signing in again", self.source.name)
            await self._sign_in()
            return await self.client.get_json(url, params)

    async def _sign_in(self) -> None:
        handle, password = self.source.token(), self.source.secret()
        if not handle or not password:
            raise FetchError("the handle or app password variable is not set")
        self.client.bearer = None
        page = await self.client.fetch(
            f"{self.source.base_url}/xrpc/com.atproto.server.createSession",
            json_body={"identifier": handle, "password": password},
        )
        try:
            token = decoded.string(orjson.loads(page.raw), "accessJwt")
        except orjson.JSONDecodeError:
            token = None
        if not token:
            raise Malformed("a session without accessJwt", page.raw)
        self.client.bearer = token


def _post(view: Json) -> Post:
    at_uri = decoded.string(view, "uri") or ""
    parts = at_uri.removeprefix("at://").split("/")
    if len(parts) != 3 or parts[1] != bluesky.POST:
        raise ValueError(f"a post view without a post uri: {at_uri[:100]!r}")
    indexed = decoded.string(view, "indexedAt")
    try:
        when = datetime.fromisoformat((indexed or "").replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"post {at_uri[:100]!r}: no indexedAt") from None
    return bluesky.post_from_record(
        parts[0], parts[2], decoded.obj(view, "record"), when, decoded.obj(view, "author")
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
