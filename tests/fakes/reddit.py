"""Reddit for tests: an OAuth app's token endpoint and the search listing, real aiohttp.

Modelled on ../shared/platforms/fixtures/reddit/: client credentials as basic auth for a bearer
token; ``Listing`` pages of ``t3`` children newest first with ``after`` (null on the last page);
``x-ratelimit-remaining`` (a float string), ``-used`` and ``-reset`` (seconds from now); errors
as ``{"message": ..., "error": status}``, a 429 sometimes sent with HTTP 200.
"""

import base64
import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from tests.fakes.mastodon import Fault

Json = dict[str, Any]  # Any: submissions as the API sends them

TOO_MANY_AS_200 = Fault(200, b'{"message": "Too Many Requests", "error": 429}')


@dataclass
class Reddit:
    client_id: str = "app-id"
    secret: str = "app-secret"
    submissions: list[Json] = field(default_factory=list)  # newest first
    faults: list[Fault] = field(default_factory=list)
    served: Counter[int] = field(default_factory=Counter)
    searches: list[dict[str, str]] = field(default_factory=list)
    tokens_issued: int = 0
    token: str | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))  # Any: an itertools.count

    def add(self, submission: Json) -> Json:
        self.submissions.append(submission)
        self.submissions.sort(key=lambda s: s["created_utc"], reverse=True)
        return submission

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/v1/access_token", self._token)
        app.router.add_get("/search", self._search)
        return app

    async def _token(self, request: web.Request) -> web.Response:
        expected = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
        form = await request.post()
        if request.headers.get("Authorization") != f"Basic {expected}" or (
            form.get("grant_type") != "client_credentials"
        ):
            return self._json(401, {"message": "Unauthorized", "error": 401})
        self.tokens_issued += 1
        self.token = f"token-{self.tokens_issued}"
        return self._json(200, {"access_token": self.token, "token_type": "bearer",
                                "expires_in": 86400, "scope": "*"})  # fmt: skip

    async def _search(self, request: web.Request) -> web.Response:
        self.searches.append(dict(request.query))
        if self.token is None or request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._json(401, {"message": "Unauthorized", "error": 401})
        if self.faults:
            fault = self.faults.pop(0)
            self.served[fault.status] += 1
            headers = {"Content-Type": fault.content_type, **fault.headers}
            return web.Response(status=fault.status, body=fault.body, headers=headers)
        word = request.query["q"].lower()
        found = [s for s in self.submissions if word in f"{s['title']} {s['selftext']}".lower()]
        if "after" in request.query:
            names = [s["name"] for s in found]
            found = found[names.index(request.query["after"]) + 1 :]
        size = min(int(request.query.get("limit", "25")), 100)
        page = found[:size]
        after = page[-1]["name"] if len(found) > size else None
        listing = {"kind": "Listing", "data": {
            "after": after, "dist": len(page), "facets": {}, "modhash": None, "geo_filter": "",
            "children": [{"kind": "t3", "data": s} for s in page], "before": None,
        }}  # fmt: skip
        return self._json(200, listing)

    def _json(self, status: int, body: object) -> web.Response:
        self.served[status] += 1
        headers = {"x-ratelimit-remaining": "988.0", "x-ratelimit-used": "12",
                   "x-ratelimit-reset": "412"}  # fmt: skip
        return web.json_response(body, status=status, headers=headers)

    def expire(self) -> None:
        """The current token stops working, as after its 24 hours."""
        self.token = "expired-elsewhere"


def submission(
    reddit: Reddit, author: str | None, title: str, at: datetime, *, selftext: str = "",
    crosspost_of: Json | None = None, subreddit: str = "iran",
) -> Json:  # fmt: skip
    n = next(reddit._ids)
    base36 = _base36(1_000_000 + n)
    body: Json = {
        "name": f"t3_{base36}", "id": base36, "subreddit": subreddit, "title": title,
        "selftext": selftext, "author": author or "[deleted]",
        "created_utc": at.timestamp(), "created": at.timestamp(), "is_self": not crosspost_of,
        "permalink": f"/r/{subreddit}/comments/{base36}/post/", "score": 10, "num_comments": 2,
        "url": f"https://www.reddit.com/r/{subreddit}/comments/{base36}/post/",
        "crosspost_parent": crosspost_of["name"] if crosspost_of else None,
    }  # fmt: skip
    if author is not None:
        body["author_fullname"] = f"t2_{author}"
    if crosspost_of is not None:
        body["crosspost_parent_list"] = [crosspost_of]
    return reddit.add(body)


def campaign(reddit: Reddit, count: int, tag: str, start: datetime) -> list[Json]:
    """Submissions a minute apart in English, Arabic and Persian: most with #tag in the title or
    body, every seventh a crosspost of an earlier one, every eleventh by a deleted account."""
    made: list[Json] = []
    for n in range(count):
        at = start + timedelta(minutes=n)
        author = None if n % 11 == 10 else f"user{n % 6}"
        if n % 7 == 6 and len(made) > 1:  # its title is the parent's, with the tag in it
            made.append(submission(reddit, author, made[1]["title"], at, crosspost_of=made[1]))
        elif n % 2:
            title = ("Day {n} of the protests", "الناصرية الآن، اليوم {n}")[n % 4 == 1].format(n=n)
            made.append(submission(reddit, author, f"{title} #{tag}", at))
        else:
            made.append(submission(reddit, author, f"Karbala, day {n}", at,
                                   selftext=f"گزارش‌ها از میدان. #{tag} #Iraq"))  # fmt: skip
    return made


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out
