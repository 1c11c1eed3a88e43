"""Bluesky search (``app.bsky.feed.searchPosts`` with ``tag``), signed in with an app password:
the backfill that Jetstream, live only, cannot give.

Signing in (``createSession``) gives an access token, kept for the source and renewed when the
server says it expired. A run pages with ``cursor`` under a fixed ``since``: the newest post
time of the previous run, which search matches against the time Bluesky sorts by (the earlier
of declared and indexed time, as ``created_at`` here). The cursor is an offset, so posts
arriving meanwhile shift pages and repeat posts, which aggregation ignores. The sink remembers
the posts found for Jetstream, so later reposts of them count.
"""

from datetime import UTC, datetime

import orjson

from monitor import decoded
from monitor.decoded import Json
from monitor.models import Post
from monitor.platforms import bluesky
from monitor.signals.records import epoch_ms
from workers.collectors.http import FetchError, Malformed
from workers.collectors.search import Found, RunCursor, SearchPoller

PAGE_SIZE = "100"


class BlueskySearchPoller(SearchPoller):
    expired = ("HTTP 401", "HTTP 400: ExpiredToken")

    async def search(self, tag: str, cursor: RunCursor) -> Found:
        params = {"q": f"#{tag}", "tag": tag, "sort": "latest", "limit": PAGE_SIZE}
        if cursor.boundary:
            params["since"] = cursor.boundary
        if cursor.page:
            params["cursor"] = cursor.page
        page = await self.get(f"{self.source.base_url}/xrpc/app.bsky.feed.searchPosts", params)
        if not isinstance(page.body, dict) or not isinstance(page.body.get("posts"), list):
            raise Malformed("a search page without posts", page.raw)
        posts = []
        for view in decoded.objs(page.body, "posts"):
            try:
                posts.append(_post(view))
            except ValueError as exc:
                await self.sink.reject(str(exc), orjson.dumps(view))
        newest = max(posts, key=lambda post: epoch_ms(post.created_at), default=None)
        more = decoded.string(page.body, "cursor") if posts else None
        return Found(posts, _iso(newest.created_at) if newest else None, more)

    async def sign_in(self) -> None:
        handle, password = self.source.token(), self.source.secret()
        if not handle or not password:
            raise FetchError("the handle or app password variable is not set")
        self.client.bearer = None
        page = await self.client.fetch(
            f"{self.source.base_url}/xrpc/com.atproto.server.createSession",
            json_body={"identifier": handle, "password": password},
        )
        self.token_from(page, "accessJwt")


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
