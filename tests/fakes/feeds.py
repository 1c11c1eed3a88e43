"""RSS and Atom feeds for tests, as ../shared/platforms/fixtures/rss_atom/ has them: Mastodon's
tag RSS (escaped HTML descriptions, one category per tag, no author), an Atom feed paged by RFC
5005 ``next`` links, ETag / Last-Modified with 304 on a match, and queued faults."""

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

from tests.fakes.mastodon import Fault

Json = dict[str, Any]  # Any: an item's fields, as a test writes them


@dataclass
class Item:
    id: str
    link: str
    at: datetime
    html: str
    categories: list[str]
    title: str = ""
    author: str | None = None


@dataclass
class Feeds:
    rss: list[Item] = field(default_factory=list)  # newest first
    atom_pages: list[list[Item]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    served: Counter[int] = field(default_factory=Counter)
    conditional: int = 0  # requests that sent If-None-Match or If-Modified-Since

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/tags/{tag}.rss", self._rss)
        app.router.add_get("/feed.atom", self._atom)
        return app

    async def _rss(self, request: web.Request) -> web.Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        body = rss(request.match_info["tag"], self.rss).encode()
        return self._conditional(request, body, "application/rss+xml; charset=utf-8")

    async def _atom(self, request: web.Request) -> web.Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        page = int(request.query.get("page", "1"))
        base = f"{request.scheme}://{request.host}/feed.atom"
        more = f"{base}?page={page + 1}" if page < len(self.atom_pages) else None
        body = atom(self.atom_pages[page - 1], base, more).encode()
        return self._conditional(request, body, "application/atom+xml; charset=utf-8")

    def _refuse(self, request: web.Request) -> web.Response | None:
        if "If-None-Match" in request.headers or "If-Modified-Since" in request.headers:
            self.conditional += 1
        if not self.faults:
            return None
        fault = self.faults.pop(0)
        self.served[fault.status] += 1
        headers = {"Content-Type": fault.content_type, **fault.headers}
        return web.Response(status=fault.status, body=fault.body, headers=headers)

    def _conditional(self, request: web.Request, body: bytes, kind: str) -> web.Response:
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            self.served[304] += 1
            return web.Response(status=304, headers={"ETag": etag})
        self.served[200] += 1
        return web.Response(body=body, headers={"Content-Type": kind, "ETag": etag})


def rss(tag: str, items: list[Item]) -> str:
    entries = "".join(
        f'<item><guid isPermaLink="true">{escape(i.link)}</guid><link>{escape(i.link)}</link>'
        f"<pubDate>{format_datetime(i.at)}</pubDate><description>{escape(i.html)}</description>"
        + "".join(f"<category>{escape(c)}</category>" for c in i.categories)
        + "</item>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:webfeeds="http://webfeeds.org/rss/1.0" xmlns:media="http://search.yahoo.com/mrss/">'
        f"<channel><title>#{escape(tag)}</title><description>Public posts tagged #{escape(tag)}"
        f"</description><link>https://mastodon.example/tags/{escape(tag)}</link>{entries}"
        "</channel></rss>"
    )


def atom(items: list[Item], self_url: str, next_url: str | None) -> str:
    entries = "".join(
        f'<entry><id>{escape(i.id)}</id><title type="text">{escape(i.title)}</title>'
        f"<published>{i.at.isoformat()}</published><updated>{i.at.isoformat()}</updated>"
        f"<author><name>{escape(i.author or 'Campaign Watch')}</name></author>"
        f'<link rel="alternate" type="text/html" href={quoteattr(i.link)}/>'
        + "".join(f"<category term={quoteattr(c)}/>" for c in i.categories)
        + f'<content type="html">{escape(i.html)}</content></entry>'
        for i in items
    )
    more = f'<link rel="next" href={quoteattr(next_url)}/>' if next_url else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        "<id>tag:news.example.org,2019:campaigns</id><title>campaign coverage</title>"
        f'<updated>2026-01-01T00:00:00Z</updated><link rel="self" href={quoteattr(self_url)}/>'
        f"{more}{entries}</feed>"
    )
