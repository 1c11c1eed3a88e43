"""Bluesky's searchPosts behind a PDS session, for tests: real aiohttp, the real wire format.

Modelled on ../shared/platforms/fixtures/bluesky/: ``createSession`` with handle and app
password; ``searchPosts`` requiring ``q``, filtering on every ``tag`` given and on ``since``
(against the time posts are sorted by), newest first, an offset ``cursor`` absent on the last
page; XRPC errors as ``{"error", "message"}``; ``RateLimit-*`` headers with the reset in unix
seconds.
"""

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from tests.fakes import jetstream
from tests.fakes.mastodon import Fault

Json = dict[str, Any]  # Any: post views as the API sends them


@dataclass
class Search:
    handle: str = "campaignwatch.example.org"
    password: str = "abcd-efgh-ijkl-mnop"
    views: list[Json] = field(default_factory=list)  # newest first
    served: Counter[int] = field(default_factory=Counter)
    searches: list[dict[str, list[str]]] = field(default_factory=list)
    sessions: int = 0
    token: str | None = None
    faults: list[Fault] = field(default_factory=list)
    arrivals: list[Json] = field(default_factory=list)  # added after each page: offsets shift

    def add(self, view: Json) -> Json:
        self.views.append(view)
        self.views.sort(key=lambda v: v["indexedAt"], reverse=True)
        return view

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/xrpc/com.atproto.server.createSession", self._session)
        app.router.add_get("/xrpc/app.bsky.feed.searchPosts", self._search)
        return app

    def expire(self) -> None:
        self.token = "expired"

    async def _session(self, request: web.Request) -> web.Response:
        body = await request.json()
        if (body.get("identifier"), body.get("password")) != (self.handle, self.password):
            return self._xrpc(401, "AuthenticationRequired", "Invalid identifier or password")
        self.sessions += 1
        self.token = f"access-{self.sessions}"
        return self._json(200, {"accessJwt": self.token, "refreshJwt": "refresh",
                                "did": "did:plc:campaignwatch", "handle": self.handle})  # fmt: skip

    async def _search(self, request: web.Request) -> web.Response:
        query = {key: request.query.getall(key) for key in request.query}
        self.searches.append(query)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._xrpc(400, "ExpiredToken", "Token has expired")
        if "q" not in query:
            return self._xrpc(400, "InvalidRequest", 'Error: Params must have the property "q"')
        if self.faults:
            fault = self.faults.pop(0)
            self.served[fault.status] += 1
            headers = {"Content-Type": fault.content_type, **fault.headers}
            return web.Response(status=fault.status, body=fault.body, headers=headers)
        wanted = {t.lower() for t in query.get("tag", [])}
        found = [v for v in self.views if wanted <= {t.lower() for t in _tags(v)}]
        if "since" in query:
            found = [v for v in found if v["indexedAt"] >= query["since"][0]]
        offset = int(query.get("cursor", ["0"])[0])
        size = min(int(query.get("limit", ["25"])[0]), 100)
        page: Json = {"posts": found[offset : offset + size]}
        if offset + size < len(found):
            page["cursor"] = str(offset + size)
        if self.arrivals:  # a newer post lands before the next page is asked for
            self.add(self.arrivals.pop(0))
        return self._json(200, page)

    def _xrpc(self, status: int, error: str, message: str) -> web.Response:
        return self._json(status, {"error": error, "message": message})

    def _json(self, status: int, body: object) -> web.Response:
        self.served[status] += 1
        headers = {"RateLimit-Limit": "3000", "RateLimit-Remaining": "2990",
                   "RateLimit-Reset": str(math.ceil(time.time()) + 300),
                   "RateLimit-Policy": "3000;w=300"}  # fmt: skip
        return web.json_response(body, status=status, headers=headers)


def _tags(view: Json) -> list[str]:
    record = view["record"]
    facets = [f["tag"] for facet in record.get("facets", []) for f in facet["features"]
              if f["$type"].endswith("#tag")]  # fmt: skip
    extra: list[str] = record.get("tags", [])
    return facets + extra


def view(did: str, handle: str, rkey: str, text: str, tags: list[str], at: datetime) -> Json:
    """A post view: the record as Jetstream would carry it, its author and indexedAt."""
    time_us = int(at.timestamp() * 1_000_000)
    record = jetstream.post(did, rkey, text, time_us, facet_tags=tags)["commit"]["record"]
    return {
        "uri": jetstream.at_uri(did, rkey), "cid": f"bafyrei{rkey}",
        "author": {"did": did, "handle": handle, "displayName": handle.split(".")[0],
                   "createdAt": "2019-05-11T08:41:22.019Z", "labels": []},
        "record": record, "replyCount": 0, "repostCount": 0, "likeCount": 0, "quoteCount": 0,
        "indexedAt": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
        "labels": [],
    }  # fmt: skip
