"""X API v2 recent search for tests: real aiohttp, the real wire format.

Modelled on ../shared/platforms/fixtures/x_twitter/: pages of ``data`` newest first with
``includes.users`` and ``includes.tweets`` (the full tweet a retweet truncates), ``meta`` with
``newest_id``, ``oldest_id``, ``result_count`` and ``next_token`` (absent on the last page; an
empty result is ``{"meta": {"result_count": 0}}``), a bearer token required (401 otherwise),
``max_results`` checked (400 outside 10-100), and ``x-rate-limit-*`` headers with the reset in
unix seconds. Faults can be queued as in the Mastodon fake.
"""

import base64
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.fakes.mastodon import Fault

Json = dict[str, Any]  # Any: tweets are JSON objects as the API sends them

TWITTER_EPOCH_MS = 1_288_834_974_657
USAGE_CAPPED = Fault(
    429,
    b'{"title":"UsageCapExceeded","detail":"Usage cap exceeded: Monthly product cap",'
    b'"type":"https://api.twitter.com/2/problems/usage-capped","status":429}',
)


def snowflake(at: datetime, sequence: int) -> str:
    """X ids carry their creation time: (ms since the Twitter epoch) << 22, plus a sequence."""
    return str((int(at.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22 | (sequence & 0x3FFFFF))


@dataclass
class Search:
    token: str = "bearer-secret"
    limit: int = 0  # requests per window; 0: no limit
    window_s: float = 1.0
    tweets: list[Json] = field(default_factory=list)  # newest first
    users: dict[str, Json] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    served: Counter[int] = field(default_factory=Counter)
    queries: list[dict[str, str]] = field(default_factory=list)
    _window: tuple[int, int] = (0, 0)

    def add(self, tweet: Json) -> Json:
        self.tweets.append(tweet)
        self.tweets.sort(key=lambda t: int(t["id"]), reverse=True)
        return tweet

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/2/tweets/search/recent", self._search)
        return app

    async def _search(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.queries.append(query)
        refused = self._refuse(request)
        if refused is not None:
            return refused
        size = int(query.get("max_results", "10"))
        if not 10 <= size <= 100:
            message = "The `max_results` query parameter value is not between 10 and 100"
            body = {"errors": [{"parameters": {"max_results": [str(size)]}, "message": message}],
                    "title": "Invalid Request", "detail": "One or more parameters were invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request"}  # fmt: skip
            return self._json(400, body)
        tag = query["query"].removeprefix("#").lower()
        found = [t for t in self.tweets if tag in self._tags(t)]
        if "since_id" in query:
            found = [t for t in found if int(t["id"]) > int(query["since_id"])]
        offset = int(base64.b64decode(query["next_token"])) if "next_token" in query else 0
        page = found[offset : offset + size]
        if not page:
            return self._json(200, {"meta": {"result_count": 0}})
        meta: Json = {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"],
                      "result_count": len(page)}  # fmt: skip
        if offset + size < len(found):
            meta["next_token"] = base64.b64encode(str(offset + size).encode()).decode()
        return self._json(200, {"data": page, "includes": self._includes(page), "meta": meta})

    def _tags(self, tweet: Json) -> set[str]:
        """A retweet matches by the tags of the tweet it retweets, as on X."""
        own = {h["tag"].lower() for h in tweet.get("entities", {}).get("hashtags", [])}
        for ref in tweet.get("referenced_tweets", []):
            original = next((t for t in self.tweets if t["id"] == ref["id"]), None)
            if ref["type"] == "retweeted" and original is not None:
                own |= self._tags(original)
        return own

    def _includes(self, page: list[Json]) -> Json:
        referenced = {r["id"] for t in page for r in t.get("referenced_tweets", [])}
        tweets = [t for t in self.tweets if t["id"] in referenced]
        authors = {t["author_id"] for t in [*page, *tweets]}
        return {"users": [self.users[a] for a in sorted(authors)], "tweets": tweets}

    def _refuse(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._json(401, {"title": "Unauthorized", "type": "about:blank",
                                    "status": 401, "detail": "Unauthorized"})  # fmt: skip
        window = math.floor(time.time() / self.window_s)
        number, used = self._window
        self._window = (window, used + 1 if number == window else 1)
        if self.limit and self._window[1] > self.limit:
            body = {"title": "Too Many Requests", "detail": "Too Many Requests",
                    "type": "about:blank", "status": 429}  # fmt: skip
            return self._json(429, body)
        if self.faults:
            fault = self.faults.pop(0)
            self.served[fault.status] += 1
            return web.Response(status=fault.status, body=fault.body,
                                headers={"Content-Type": fault.content_type})  # fmt: skip
        return None

    def _json(self, status: int, body: object) -> web.Response:
        self.served[status] += 1
        headers = {}
        if self.limit:
            window, used = self._window
            headers = {
                "x-rate-limit-limit": str(self.limit),
                "x-rate-limit-remaining": str(max(0, self.limit - used)),
                "x-rate-limit-reset": str(math.ceil((window + 1) * self.window_s)),
            }
        return web.json_response(body, status=status, headers=headers)


def user(user_id: str, username: str, name: str) -> Json:
    metrics = {"followers_count": 31, "following_count": 4, "tweet_count": 90}
    return {"id": user_id, "username": username, "name": name,
            "created_at": "2019-10-26T07:21:55.000Z", "public_metrics": metrics}  # fmt: skip


def tweet(
    search: Search,
    author: str,
    text: str,
    tags: list[str],
    *,
    at: datetime,
    sequence: int,
    retweet_of: Json | None = None,
) -> Json:
    """A tweet as the API returns it; a retweet's text is 'RT @user: ' and the original, cut
    short (as X cuts it at 140 characters) before the tags, which it then does not list."""
    tweet_id = snowflake(at, sequence)
    body: Json = {"id": tweet_id, "author_id": author, "created_at": _iso(at), "lang": "fa",
                  "edit_history_tweet_ids": [tweet_id], "conversation_id": tweet_id}  # fmt: skip
    if retweet_of is not None:
        original_author = search.users[retweet_of["author_id"]]["username"]
        body["text"] = f"RT @{original_author}: {retweet_of['text'][:40]}…"
        body["referenced_tweets"] = [{"type": "retweeted", "id": retweet_of["id"]}]
        tags = []
    else:
        body["text"] = " ".join([text, *(f"#{t}" for t in tags)])
    text = body["text"]
    body["entities"] = {"hashtags": [
        {"start": text.find(f"#{t}"), "end": text.find(f"#{t}") + len(t) + 1, "tag": t}
        for t in tags
    ]}  # fmt: skip
    return search.add(body)


TEXTS = (
    "The IRGC must leave Iraq, and the people of Baghdad are saying it together",
    "سپاه پاسداران باید از عراق بیرون برود، مردم یک‌صدا می‌گویند",
    "الحرس الثوري يجب أن يخرج من العراق، يقول المتظاهرون في بغداد",
)


def campaign(search: Search, count: int, tag: str, *, start: datetime | None = None) -> list[Json]:
    """Originals in English, Persian and Arabic by 8 accounts, every third post a retweet of an
    earlier one (its own text cut, the original in includes)."""
    for n in range(8):
        search.users.setdefault(str(1000 + n), user(str(1000 + n), f"user{n}", f"کاربر {n}"))
    begin = start or datetime.now(UTC) - timedelta(seconds=count * 20)
    made: list[Json] = []
    for n in range(count):
        author = str(1000 + (n * 3) % 8)
        at = begin + timedelta(seconds=n * 20)
        originals = [t for t in made if "referenced_tweets" not in t]
        if n % 3 == 2 and originals:
            made.append(tweet(search, author, "", [], at=at, sequence=n,
                              retweet_of=originals[n % len(originals)]))  # fmt: skip
        else:
            text = TEXTS[n % len(TEXTS)]
            made.append(tweet(search, author, f"{text} ({n})", [tag], at=at, sequence=n))
    return made


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
