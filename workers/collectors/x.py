"""X API v2 recent search, one query per watched tag (``#tag``, retweets included: a retweet
carries the tags of the tweet it retweets, by the rule the twarc2 importer follows too).

Paging follows the API's own advice: a run keeps the same ``since_id`` (the newest tweet of the
previous run) and follows ``next_token`` until a page has none; the first page's ``newest_id``
becomes the next run's ``since_id``. The cursor holds both, and the run's ``next_token`` while it
pages, so a run cut short (a stop, ``backfill_pages``) goes on where it was on the next pass.
"""

from pydantic import BaseModel

from monitor import decoded, xv2
from monitor.models import Post
from monitor.settings import Settings
from monitor.sources import Source
from workers.collectors.http import Client, Malformed
from workers.collectors.sink import Sink

MAX_RESULTS = "100"  # the API's maximum per page
EXPANSIONS = "author_id,in_reply_to_user_id,referenced_tweets.id,referenced_tweets.id.author_id"
TWEET_FIELDS = (
    "author_id,conversation_id,created_at,entities,in_reply_to_user_id,lang,referenced_tweets"
)
USER_FIELDS = "created_at,name,public_metrics,username"


class Cursor(BaseModel):
    since_id: str | None = None  # the newest tweet of the last complete run
    run_newest: str | None = None  # the newest tweet of the run in progress
    next_token: str | None = None  # where the run in progress stands


class XPoller:
    """Collects recent search results for each watched tag."""

    per_tag = True

    def __init__(self, client: Client, source: Source, settings: Settings, sink: Sink) -> None:
        self.client, self.source, self.settings, self.sink = client, source, settings, sink

    async def collect(self, tag: str) -> list[Post]:
        stored = await self.sink.load_cursor(tag)
        cursor = Cursor.model_validate_json(stored) if stored else Cursor()
        published: list[Post] = []
        for _ in range(max(1, self.settings.backfill_pages)):
            published += await self._page(tag, cursor)
            if cursor.next_token is None:
                break
        return published

    async def _page(self, tag: str, cursor: Cursor) -> list[Post]:
        params = {
            "query": f"#{tag}",
            "max_results": MAX_RESULTS,
            "expansions": EXPANSIONS,
            "tweet.fields": TWEET_FIELDS,
            "user.fields": USER_FIELDS,
        }
        if cursor.since_id:
            params["since_id"] = cursor.since_id
        if cursor.next_token:
            params["next_token"] = cursor.next_token
        page = await self.client.get_json(f"{self.source.base_url}/2/tweets/search/recent", params)
        if not isinstance(page.body, dict) or not isinstance(page.body.get("meta"), dict):
            raise Malformed("a search page without meta", page.raw)
        try:
            posts = xv2.posts_from_page(page.body)
        except ValueError as exc:
            raise Malformed(f"a search page that cannot be read: {exc}", page.raw) from None
        await self.sink.publish(posts)
        meta = decoded.obj(page.body, "meta")
        if cursor.next_token is None:  # the run's first page
            cursor.run_newest = decoded.string(meta, "newest_id") or cursor.since_id
        cursor.next_token = decoded.string(meta, "next_token")
        if cursor.next_token is None:  # the run is complete
            cursor.since_id, cursor.run_newest = cursor.run_newest or cursor.since_id, None
        await self.sink.save_cursor(tag, cursor.model_dump_json())
        return posts
