"""Mastodon hashtag timelines, polled on any number of instances.

Per (source, tag) the cursor holds the newest status id seen and, until the backfill is done,
the oldest. A pass first reads what is newer than the newest (``min_id`` pages, oldest block
first, until an empty page), then up to ``backfill_pages`` older pages (``max_id``, as the
Link header's ``next``), back to the retention limit or the end of the timeline. The cursor is
saved after each page's posts are in the stream, so a restart neither misses nor repeats a page.
Ids are compared as integers (snowflakes).
"""

import logging
import time
from urllib.parse import quote

import orjson
from pydantic import BaseModel

from monitor import decoded
from monitor.decoded import Json
from monitor.models import Post
from monitor.platforms import mastodon
from monitor.settings import Settings
from monitor.signals.records import epoch_ms
from monitor.sources import Source
from workers.collectors.http import Client, FetchError, Malformed, Unreachable
from workers.collectors.sink import Sink

log = logging.getLogger(__name__)

PAGE_SIZE = 40  # the API's maximum
PARENTS_CACHED = 10_000


class Cursor(BaseModel):
    newest: str | None = None  # highest status id published
    oldest: str | None = None  # lowest status id published, while backfilling
    backfilled: bool = False


class MastodonPoller:
    """Collects one instance's hashtag timelines."""

    per_tag = True

    def __init__(self, client: Client, source: Source, settings: Settings, sink: Sink) -> None:
        self.client, self.source, self.settings, self.sink = client, source, settings, sink
        self.parents: dict[str, Json | None] = {}  # in_reply_to_id -> parent status (or None)

    async def collect(self, tag: str) -> list[Post]:
        """One pass for one tag; returns the posts published."""
        stored = await self.sink.load_cursor(tag)
        cursor = Cursor.model_validate_json(stored) if stored else Cursor()
        published: list[Post] = []
        if cursor.newest is None:
            published += await self._page(tag, cursor, {}, newer=True) or []
        else:
            while True:  # newer blocks until an empty page, or one that brings nothing newer
                before = cursor.newest
                fresh = await self._page(tag, cursor, {"min_id": before}, True)
                if fresh is None:
                    break
                published += fresh
                if int(cursor.newest or 0) <= int(before):
                    break
        for _ in range(self.settings.backfill_pages):
            if cursor.backfilled or cursor.oldest is None:
                break
            published += await self._page(tag, cursor, {"max_id": cursor.oldest}, False) or []
        return published

    async def _page(
        self, tag: str, cursor: Cursor, params: dict[str, str], newer: bool
    ) -> list[Post] | None:
        """Read, publish and advance the cursor; None for an empty page (the timeline's end)."""
        url = f"{self.source.base_url}/api/v1/timelines/tag/{quote(tag, safe='')}"
        page = await self.client.get_json(url, {"limit": str(PAGE_SIZE), **params})
        if not isinstance(page.body, list):
            raise Malformed("a tag timeline that is not a list of statuses", page.raw)
        statuses = [s for s in page.body if isinstance(s, dict) and _snowflake(s) is not None]
        if len(statuses) < len(page.body):
            await self.sink.reject("a status without a numeric id", page.raw)
        if not statuses:
            if not newer or cursor.newest is None:
                cursor.backfilled = True
                await self.sink.save_cursor(tag, cursor.model_dump_json())
            return None
        posts = await self.posts_of(statuses)
        await self.sink.publish(posts)
        ids = [_snowflake(s) or 0 for s in statuses]
        if newer:
            cursor.newest = str(max([*ids, int(cursor.newest or 0)]))
        if not newer or cursor.oldest is None:
            cursor.oldest = str(min(ids))
            cursor.backfilled = "next" not in page.links or self._beyond_retention(posts)
        await self.sink.save_cursor(tag, cursor.model_dump_json())
        return posts

    async def posts_of(self, statuses: list[Json]) -> list[Post]:
        """Posts for statuses, replies with their parents; a bad status goes to dead letters."""
        posts = []
        for status in statuses:
            parent = await self._parent(decoded.string(status, "in_reply_to_id"))
            try:
                posts.append(mastodon.post_from_status(status, self.source.base_url, parent))
            except ValueError as exc:
                await self.sink.reject(str(exc), orjson.dumps(status))
        return posts

    async def _parent(self, status_id: str | None) -> Json | None:
        """The status a reply answers, so that it counts toward that post's people talking."""
        if not status_id or not status_id.isdigit():
            return None
        if status_id not in self.parents:
            if len(self.parents) >= PARENTS_CACHED:
                self.parents.clear()
            url = f"{self.source.base_url}/api/v1/statuses/{status_id}"
            try:
                page = await self.client.get_json(url)
                self.parents[status_id] = page.body if isinstance(page.body, dict) else None
            except Unreachable:
                raise  # the whole source waits for the next pass
            except (FetchError, Malformed) as exc:
                log.info("%s: reply parent %s not read: %s", self.source.name, status_id, exc)
                self.parents[status_id] = None
        return self.parents[status_id]

    def _beyond_retention(self, posts: list[Post]) -> bool:
        """Older pages would hold only posts that retention drops at once."""
        if not posts:
            return False
        horizon_ms = (time.time() - self.settings.retention_days * 86_400) * 1000
        return min(epoch_ms(post.created_at) for post in posts) < horizon_ms


def _snowflake(status: Json) -> int | None:
    value = decoded.string(status, "id")
    return int(value) if value and value.isdigit() else None
