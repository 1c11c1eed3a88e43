"""X API v2 recent search, one query per watched tag (``#tag``, retweets included: a retweet
carries the tags of the tweet it retweets, by the rule the twarc2 importer follows too).

Paging follows the API's own advice: a run keeps the same ``since_id`` (the newest tweet of the
previous run) and follows ``next_token`` until a page has none; the first page's ``newest_id``
becomes the next run's ``since_id`` (workers.collectors.search).
"""

from monitor import decoded, xv2
from workers.collectors.http import Malformed
from workers.collectors.search import Found, RunCursor, SearchPoller

MAX_RESULTS = "100"  # the API's maximum per page
EXPANSIONS = "author_id,in_reply_to_user_id,referenced_tweets.id,referenced_tweets.id.author_id"
TWEET_FIELDS = (
    "author_id,conversation_id,created_at,entities,in_reply_to_user_id,lang,referenced_tweets"
)
USER_FIELDS = "created_at,name,public_metrics,username"


class XPoller(SearchPoller):
    """Collects recent search results for each watched tag."""

    async def search(self, tag: str, cursor: RunCursor) -> Found:
        params = {
            "query": f"#{tag}",
            "max_results": MAX_RESULTS,
            "expansions": EXPANSIONS,
            "tweet.fields": TWEET_FIELDS,
            "user.fields": USER_FIELDS,
        }
        if cursor.boundary:
            params["since_id"] = cursor.boundary
        if cursor.page:
            params["next_token"] = cursor.page
        page = await self.get(f"{self.source.base_url}/2/tweets/search/recent", params)
        if not isinstance(page.body, dict) or not isinstance(page.body.get("meta"), dict):
            raise Malformed("a search page without meta", page.raw)
        try:
            posts = xv2.posts_from_page(page.body)
        except ValueError as exc:
            raise Malformed(f"a search page that cannot be read: {exc}", page.raw) from None
        meta = decoded.obj(page.body, "meta")
        return Found(posts, decoded.string(meta, "newest_id"), decoded.string(meta, "next_token"))
