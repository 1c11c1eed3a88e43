"""RSS and Atom feeds: one fetch a pass (not one per tag: a feed is what it is), conditional on
the last ETag and Last-Modified, so an unchanged feed costs a 304 and nothing else.

On the first passes, Atom's RFC 5005 ``next`` links are followed back (``backfill_pages`` a
pass); entries seen again are duplicates, which aggregation ignores. The cursor is saved after
the entries are in the stream.
"""

from pydantic import BaseModel

from monitor.models import Post
from monitor.platforms import feeds
from monitor.settings import Settings
from monitor.sources import Source
from workers.collectors.http import Client, Malformed
from workers.collectors.sink import Sink

ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.1"


class Cursor(BaseModel):
    etag: str | None = None
    modified: str | None = None
    older: str | None = None  # the next older page still to read
    backfilled: bool = False


class FeedPoller:
    per_tag = False

    def __init__(self, client: Client, source: Source, settings: Settings, sink: Sink) -> None:
        self.client, self.source, self.settings, self.sink = client, source, settings, sink

    async def collect(self, tag: str) -> list[Post]:
        stored = await self.sink.load_cursor(tag)
        cursor = Cursor.model_validate_json(stored) if stored else Cursor()
        headers = {"Accept": ACCEPT}
        if cursor.etag:
            headers["If-None-Match"] = cursor.etag
        if cursor.modified:
            headers["If-Modified-Since"] = cursor.modified
        page = await self.client.fetch(self.source.base_url, headers=headers)
        published: list[Post] = []
        if page.status != 304:
            feed = await self._read(page.raw)
            published += feed.posts
            cursor.etag, cursor.modified = (
                page.headers.get("ETag"),
                page.headers.get("Last-Modified"),
            )
            if not cursor.backfilled and cursor.older is None:
                cursor.older, cursor.backfilled = feed.next_page, feed.next_page is None
            await self.sink.save_cursor(tag, cursor.model_dump_json())
        for _ in range(self.settings.backfill_pages):
            if cursor.backfilled or cursor.older is None:
                break
            page = await self.client.fetch(cursor.older, headers={"Accept": ACCEPT})
            older = await self._read(page.raw)
            published += older.posts
            cursor.older, cursor.backfilled = older.next_page, older.next_page is None
            await self.sink.save_cursor(tag, cursor.model_dump_json())
        return published

    async def _read(self, raw: bytes) -> feeds.Feed:
        """Parse and publish; a bad entry goes to dead letters, a bad document stops the pass."""
        try:
            feed = feeds.parse(raw, self.source.base_url)
        except ValueError as exc:
            raise Malformed(str(exc), raw) from None
        for reason in feed.refused:
            await self.sink.reject(reason, raw)
        await self.sink.publish(feed.posts)
        return feed
