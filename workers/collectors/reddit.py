"""Reddit search, newest first, one query per watched tag, as an OAuth app.

The app trades its client id and secret for a bearer token (client credentials), kept for the
source until a 401 says it expired. Reddit has no ``since``: a run pages with ``after`` until
it reaches the newest submission of the previous run (workers.collectors.search). Submissions
the search returns without a watched tag written in them are published too, and aggregation
counts them as unwatched.
"""

import base64

from monitor.platforms import reddit
from monitor.signals.records import epoch_ms
from workers.collectors.http import FetchError, Malformed
from workers.collectors.search import Found, RunCursor, SearchPoller

PAGE_SIZE = "100"  # the API's maximum


class RedditPoller(SearchPoller):
    expired = ("HTTP 401",)

    async def search(self, tag: str, cursor: RunCursor) -> Found:
        params = {"q": tag, "sort": "new", "type": "link", "limit": PAGE_SIZE, "raw_json": "1"}
        if cursor.page:
            params["after"] = cursor.page
        page = await self.get(f"{self.source.base_url}/search", params)
        try:
            posts, refused, after = reddit.posts_from_listing(page.body)
        except ValueError as exc:
            raise Malformed(f"a search page that cannot be read: {exc}", page.raw) from None
        for reason in refused:
            await self.sink.reject(reason, page.raw)
        times = [epoch_ms(post.created_at) for post in posts]
        boundary = int(cursor.boundary) if cursor.boundary else None
        reached = boundary is not None and any(t <= boundary for t in times)
        return Found(posts, str(max(times)) if times else None, after, reached)

    async def sign_in(self) -> None:
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
        self.token_from(page, "access_token")
