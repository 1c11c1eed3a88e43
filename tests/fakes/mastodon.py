"""A Mastodon instance for tests: real aiohttp, the real wire format of tag timelines.

Statuses have the shape of ../shared/platforms/fixtures/mastodon/ (HTML content with hashtag
anchors, account with actor uri, tags[], in_reply_to_id, quote, reblog). The timeline pages
newest first with ``max_id``/``min_id``, sends a ``Link`` header (next/prev) only on a non-empty
page, and rate-limits like Rack::Attack: a fixed window aligned to its period, the
``X-RateLimit-*`` headers with an ISO reset time, and a 429 ``{"error": "Too many requests"}``
without Retry-After. Faults can be queued: the next requests get them instead of an answer.
"""

import asyncio
import bisect
import html
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

Json = dict[str, Any]  # Any: statuses are JSON objects as the API sends them

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Fault:
    """An answer given instead of the real one: a status, a body and headers."""

    status: int
    body: bytes
    content_type: str = "application/json"
    drop_connection: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0  # wait this long before answering (past the client's timeout)


HTML_502 = Fault(
    502,
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n",
    "text/html",
)
UNAVAILABLE = Fault(503, b'{"error":"Remote data could not be fetched"}')
UNAUTHORIZED = Fault(401, b'{"error":"The access token is invalid"}')
HTML_200 = Fault(200, b"<!DOCTYPE html><html><body>Maintenance</body></html>", "text/html")
RESET = Fault(0, b"", drop_connection=True)
HANG = Fault(504, b"", hang_s=2.0)  # the client gives up first; a 504 if it ever got there
THROTTLED = Fault(429, b'{"error":"Too many requests"}', headers={"Retry-After": "0"})


def truncated(page_bytes: bytes) -> Fault:
    return Fault(200, page_bytes[: len(page_bytes) // 2])


@dataclass
class Instance:
    """The state behind the fake: statuses by tag, limits, queued faults, what was asked."""

    host: str = "mastodon.example"
    limit: int = 0  # requests per window; 0: no limit
    window_s: float = 1.0
    send_remaining: bool = True  # False: headers only on the 429 (as some proxies do)
    delay_s: float = 0.0  # per timeline request, to catch a collector mid-way
    repeat_last: bool = False  # each older page repeats the previous page's last status
    statuses: dict[str, list[Json]] = field(default_factory=dict)  # tag (lower) -> newest first
    by_id: dict[str, Json] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    served: Counter[int] = field(default_factory=Counter)
    requests: list[str] = field(default_factory=list)  # path and query of each request
    token: str | None = None  # required by the streaming API when set
    stream_messages: list[Json] = field(default_factory=list)  # what stream clients sent
    _listeners: dict[web.WebSocketResponse, set[str]] = field(default_factory=dict)
    _window: tuple[int, int] = (0, 0)  # (window number, requests in it)

    def add(self, status: Json) -> Json:
        self.by_id[status["id"]] = status
        for tag in status["tags"]:
            timeline = self.statuses.setdefault(tag["name"].lower(), [])
            bisect.insort(timeline, status, key=_newest_first)
        return status

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v1/timelines/tag/{tag}", self._timeline)
        app.router.add_get("/api/v1/statuses/{id}", self._status)
        app.router.add_get("/api/v1/streaming", self._streaming)
        return app

    async def push(self, status: Json) -> int:
        """Send a new status to every stream subscribed to one of its tags; returns how many."""
        self.add(status)
        sent = 0
        for socket, tags in list(self._listeners.items()):
            for tag in (t["name"] for t in status["tags"]):
                if tag.lower() in tags and not socket.closed:
                    frame = {"stream": ["hashtag", tag], "event": "update",
                             "payload": json.dumps(status)}  # fmt: skip
                    await socket.send_str(json.dumps(frame))
                    sent += 1
                    break
        return sent

    async def _streaming(self, request: web.Request) -> web.StreamResponse:
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._json(401, {"error": "Error: Missing access token"}, {})
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._listeners[socket] = set()
        async for message in socket:
            asked = json.loads(message.data)
            self.stream_messages.append(asked)
            tags = self._listeners[socket]
            if asked.get("stream") != "hashtag":
                await socket.send_str('{"error":"Unknown stream type","status":400}')
            elif asked.get("type") == "subscribe":
                tags.add(str(asked["tag"]).lower())
            elif asked.get("type") == "unsubscribe":
                tags.discard(str(asked["tag"]).lower())
        del self._listeners[socket]
        return socket

    async def _timeline(self, request: web.Request) -> web.StreamResponse:
        if self.faults and self.faults[0].hang_s:  # taken now: the client may hang up on it
            hung = self.faults.pop(0)
            await asyncio.sleep(hung.hang_s)
            return web.Response(status=hung.status, body=hung.body)
        refused = self._refuse(request)
        if refused is not None:
            return refused
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        statuses = self.statuses.get(request.match_info["tag"].lower(), [])
        limit = min(int(request.query.get("limit", "20")), 40)
        page = _page(statuses, request.query, limit)
        if self.repeat_last and "max_id" in request.query and page:
            before = [s for s in statuses if int(s["id"]) > int(request.query["max_id"])]
            page = [before[-1], *page[: limit - 1]] if before else page
        headers = self._limit_headers()
        if page:
            base = f"{request.scheme}://{request.host}{request.path}?limit={limit}"
            headers["Link"] = (
                f'<{base}&max_id={page[-1]["id"]}>; rel="next", '
                f'<{base}&min_id={page[0]["id"]}>; rel="prev"'
            )
        return self._json(200, page, headers)

    async def _status(self, request: web.Request) -> web.StreamResponse:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        status = self.by_id.get(request.match_info["id"])
        if status is None:
            return self._json(404, {"error": "Record not found"}, self._limit_headers())
        return self._json(200, status, self._limit_headers())

    def _refuse(self, request: web.Request) -> web.StreamResponse | None:
        """A queued fault, or a 429 when the window is used up; None to answer normally."""
        self.requests.append(request.path_qs)
        window = math.floor(time.time() / self.window_s)
        number, used = self._window
        self._window = (window, used + 1 if number == window else 1)
        if self.limit and self._window[1] > self.limit:
            headers = self._limit_headers(always=True)
            return self._json(429, {"error": "Too many requests"}, headers)
        if self.faults:
            fault = self.faults.pop(0)
            if fault.drop_connection:
                assert request.transport is not None
                request.transport.close()
                self.served[0] += 1
                return web.Response(status=200)  # never arrives: the connection is gone
            self.served[fault.status] += 1
            headers = {"Content-Type": fault.content_type, **fault.headers}
            return web.Response(status=fault.status, body=fault.body, headers=headers)
        return None

    def _limit_headers(self, always: bool = False) -> dict[str, str]:
        if not self.limit or not (self.send_remaining or always):
            return {}
        window, used = self._window
        reset = datetime.fromtimestamp((window + 1) * self.window_s, UTC)
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - used)),
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    def _json(self, status: int, body: object, headers: dict[str, str]) -> web.Response:
        self.served[status] += 1
        return web.json_response(body, status=status, headers=headers)


def _page(statuses: list[Json], query: Any, limit: int) -> list[Json]:  # Any: a MultiDictProxy
    """A page of a timeline kept newest first (found by bisection: soak runs hold 200,000)."""
    if "min_id" in query:  # the block just above min_id, still newest first
        end = bisect.bisect_left(statuses, -int(query["min_id"]), key=_newest_first)
        return statuses[max(0, end - limit) : end]
    if "max_id" in query:
        start = bisect.bisect_right(statuses, -int(query["max_id"]), key=_newest_first)
        return statuses[start : start + limit]
    return statuses[:limit]


def _newest_first(status: Json) -> int:
    return -int(status["id"])


@dataclass
class Author:
    username: str
    display_name: str
    host: str = "mastodon.example"
    local_id: str = "1"
    followers: int = 10

    def account(self, instance: str) -> Json:
        local = self.host == instance
        return {
            "id": self.local_id,
            "username": self.username,
            "acct": self.username if local else f"{self.username}@{self.host}",
            "display_name": self.display_name,
            "locked": False,
            "bot": False,
            "created_at": "2019-05-11T00:00:00.000Z",
            "note": "",
            "url": f"https://{self.host}/@{self.username}",
            "uri": f"https://{self.host}/users/{self.username}",
            "followers_count": self.followers,
            "following_count": 3,
            "statuses_count": 100,
            "last_status_at": "2026-01-01",
            "emojis": [],
            "fields": [],
        }


def snowflake(at: datetime, sequence: int) -> str:
    """Mastodon ids: milliseconds since the epoch, shifted 16 bits, plus a sequence."""
    return str(int(at.timestamp() * 1000) << 16 | (sequence & 0xFFFF))


def status(
    author: Author,
    text: str,
    tags: list[str],
    *,
    at: datetime,
    sequence: int,
    instance: str = "mastodon.example",
    lang: str = "en",
    reply_to: Json | None = None,
    quote_of: Json | None = None,
    boost_of: Json | None = None,
    uri_id: str | None = None,
    link: str | None = None,
) -> Json:
    """A status as ``instance`` serves it; ``uri_id`` keeps the federation id of another copy."""
    local_id = snowflake(at, sequence)
    origin_id = uri_id or local_id
    anchors = " ".join(
        f'<a href="https://{instance}/tags/{t}" class="mention hashtag" rel="tag">'
        f"#<span>{t}</span></a>"
        for t in tags
    )
    linked = ""
    if link:
        scheme, _, rest = link.partition("://")
        linked = (
            f' <a href="{link}" target="_blank" rel="nofollow noopener"><span class="invisible">'
            f'{scheme}://</span><span class="">{html.escape(rest)}</span></a>'
        )
    body = {
        "id": local_id,
        "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
        "in_reply_to_id": reply_to["id"] if reply_to else None,
        "in_reply_to_account_id": reply_to["account"]["id"] if reply_to else None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": lang,
        "uri": f"https://{author.host}/users/{author.username}/statuses/{origin_id}",
        "url": f"https://{author.host}/@{author.username}/{origin_id}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "edited_at": None,
        "content": f"<p>{html.escape(text)} {anchors}{linked}</p>",
        "reblog": None,
        "account": author.account(instance),
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": t, "url": f"https://{instance}/tags/{t}"} for t in tags],
        "emojis": [],
        "quote": {"state": "accepted", "quoted_status": quote_of} if quote_of else None,
        "card": None,
        "poll": None,
    }
    if boost_of is not None:
        body.update(
            content="",
            url=None,
            tags=[],
            reblog=boost_of,
            uri=f"https://{author.host}/users/{author.username}/statuses/{origin_id}/activity",
        )
    return body


def campaign(
    count: int,
    tag: str,
    *,
    start: datetime | None = None,
    step_s: float = 30.0,
    replies: bool = True,
) -> list[Json]:
    """``count`` statuses on ``tag``: originals in English, Persian and Arabic, replies and quotes
    of earlier ones, from 12 authors (two on another instance), ``step_s`` apart.

    Without ``replies``, no status needs its parent fetched: one request a page.
    """
    texts = [
        ("en", "The IRGC must leave Iraq."),
        ("fa", "سپاه پاسداران باید از عراق بیرون برود. مردم یک‌صدا می‌گویند: نه"),
        ("ar", "الحرس الثوري يجب أن يخرج من العراق"),
    ]
    authors = [
        Author(
            f"user{i}",
            f"کاربر {i}",
            host="mastodon.example" if i < 10 else "toot.example.net",
            local_id=str(100 + i),
        )
        for i in range(12)
    ]
    begin = start or datetime.now(UTC) - timedelta(seconds=count * step_s)
    made: list[Json] = []
    for n in range(count):
        lang, text = texts[n % len(texts)]
        author = authors[(n * 5) % len(authors)]
        earlier = made[(n * 7) % len(made)] if made else None
        made.append(
            status(
                author,
                f"{text} ({n})",
                [tag, "Iraq"] if n % 4 else [tag],
                at=begin + timedelta(seconds=n * step_s),
                sequence=n,
                lang=lang,
                reply_to=earlier if replies and n % 5 == 3 else None,
                quote_of=earlier if n % 7 == 6 else None,
                link="https://news.example.org/iraq/2026" if n % 6 == 0 else None,
            )
        )
    return made
