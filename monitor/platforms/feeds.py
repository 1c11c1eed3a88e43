"""RSS and Atom entries -> Post, parsed by feedparser.

An entry is known by its ``guid`` / ``atom:id`` (else its link). Its tags are its categories and
the hashtags written in its text (title, then summary or content, HTML read as visible text).
Its time is ``published``, else ``updated``. Its author is the entry's author (uri, else name);
a fediverse link (``https://host/@user/...``, as in Mastodon's tag feeds, whose items name no
author) gives ``https://host/@user``; otherwise the feed itself counts as the author.
"""

import calendar
import time
import xml.sax
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
from pydantic import ValidationError

from monitor import hashtags
from monitor.importers import canonical
from monitor.models import Post
from monitor.platforms import html

PLATFORM = "rss"

Entry = Any  # Any: feedparser's FeedParserDict, a dict with attribute access and no types


@dataclass(frozen=True)
class Feed:
    """A parsed feed: its posts, the entries refused (one line each), and its next page."""

    posts: list[Post]
    refused: list[str]
    next_page: str | None


def parse(raw: bytes, url: str) -> Feed:
    """Raises ValueError when the document is not a feed or is cut short (a truncated body)."""
    parsed = feedparser.parse(raw, sanitize_html=False, resolve_relative_uris=False)
    error = parsed.get("bozo_exception")
    if isinstance(error, xml.sax.SAXException) or not parsed.get("version"):
        reason = " ".join(str(error).split())[:120] if error else "no RSS or Atom in the document"
        raise ValueError(f"not a readable feed: {reason}")
    author = parsed.feed.get("link") or url
    posts, refused = [], []
    for entry in parsed.entries:
        try:
            posts.append(_post(entry, author, parsed.feed.get("language")))
        except ValueError as exc:
            refused.append(str(exc))
    next_page = next((link.get("href") for link in parsed.feed.get("links", [])
                      if link.get("rel") == "next"), None)  # fmt: skip
    return Feed(posts, refused, next_page)


def _post(entry: Entry, feed_author: str, language: str | None) -> Post:
    key = entry.get("id") or entry.get("link")
    if not key:
        raise ValueError("an entry without id or link")
    moment = entry.get("published_parsed") or entry.get("updated_parsed")
    if moment is None:
        raise ValueError(f"entry {key[:100]!r}: no published or updated time")
    body = html.text_of(_body(entry))
    text = "\n\n".join(part for part in (html.text_of(entry.get("title", "")), body) if part)
    categories = [tag.get("term") for tag in entry.get("tags", []) if tag.get("term")]
    try:
        return Post(
            platform=PLATFORM,
            id=key,
            url=entry.get("link"),
            author_id=_author(entry, feed_author),
            author_handle=(entry.get("author_detail") or {}).get("name") or entry.get("author"),
            created_at=_utc(moment),
            text=text,
            hashtags=list(dict.fromkeys([*categories, *hashtags.extract(text)])),
            links=html.links_of(_body(entry)),
            lang=entry.get("language") or language,
        )
    except ValidationError as error:
        raise ValueError(f"entry {key[:100]!r}: {canonical.reason(error)}") from None


def _body(entry: Entry) -> str:
    contents = entry.get("content") or []
    return str(contents[0].get("value", "") if contents else entry.get("summary", ""))


def _author(entry: Entry, feed_author: str) -> str:
    detail = entry.get("author_detail") or {}
    named = detail.get("href") or detail.get("name") or entry.get("author")
    if named:
        return str(named)
    link = urlsplit(entry.get("link") or "")
    first = link.path.split("/")[1] if link.path.count("/") >= 1 else ""
    if link.hostname and first.startswith("@"):
        return f"{link.scheme}://{link.hostname}/{first}"
    return feed_author


def _utc(moment: time.struct_time) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(moment), UTC)
