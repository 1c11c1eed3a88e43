"""Bluesky records -> Post, from Jetstream commits or search results alike.

A post is known by its AT URI (``at://<did>/app.bsky.feed.post/<rkey>``) and its author by DID.
Its tags are the union of tag facets, ``record.tags`` (extra tags not in the text) and tags
written in the text. Its time is the earlier of ``createdAt`` (declared by the client, which may
lie) and the time the network indexed it. A reply references its parent; a quote is a post whose
embed is a record. A repost is a separate record naming its subject: it carries the subject's
tags, which the caller supplies (the subject was seen earlier, or the repost is not attributable).
"""

from datetime import datetime

from pydantic import ValidationError

from monitor import decoded, hashtags
from monitor.decoded import Json
from monitor.importers import canonical
from monitor.models import Kind, Post

PLATFORM = "bluesky"
POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
_QUOTES = ("app.bsky.embed.record", "app.bsky.embed.recordWithMedia")


def uri(did: str, collection: str, rkey: str) -> str:
    return f"at://{did}/{collection}/{rkey}"


def did_of(at_uri: str) -> str | None:
    """The author DID an AT URI names, e.g. at://did:plc:x/app.bsky.feed.post/3k -> did:plc:x."""
    parts = at_uri.removeprefix("at://").split("/")
    return parts[0] if at_uri.startswith("at://") and parts[0].startswith("did:") else None


def web_url(at_uri: str) -> str | None:
    parts = at_uri.removeprefix("at://").split("/")
    if len(parts) != 3 or parts[1] != POST:
        return None
    return f"https://bsky.app/profile/{parts[0]}/post/{parts[2]}"


def tags_of(record: Json) -> list[str]:
    """Tags as written: facet tags, then record.tags, then any the text holds that they miss."""
    facets = [decoded.string(f, "tag") for f in _features(record, "#tag")]
    extra = [t for t in decoded.items(record, "tags") if isinstance(t, str)]
    written = hashtags.extract(decoded.string(record, "text") or "")
    return list(dict.fromkeys(t for t in [*facets, *extra, *written] if t))


def post_from_record(
    did: str, rkey: str, record: Json, indexed_at: datetime, author: Json | None = None
) -> Post:
    """The post for one ``app.bsky.feed.post`` record; raises ValueError naming the problem."""
    at_uri = uri(did, POST, rkey)
    kind, referenced = _reference(record)
    try:
        created = min(_declared(record) or indexed_at, indexed_at)
        return Post(
            platform=PLATFORM,
            id=at_uri,
            url=web_url(at_uri),
            author_id=did,
            author_handle=decoded.string(author, "handle"),
            author_name=decoded.string(author, "displayName") or None,
            author_created_at=decoded.string(author, "createdAt"),
            author_followers=decoded.integer(author, "followersCount"),
            created_at=created,
            text=decoded.string(record, "text") or "",
            hashtags=tags_of(record),
            kind=kind,
            referenced_id=referenced,
            referenced_author_id=did_of(referenced) if referenced else None,
            referenced_url=web_url(referenced) if referenced else None,
            links=_links(record),
            mentions=_mentions(record),
            lang=next(iter(decoded.items(record, "langs")), None),
        )
    except (ValidationError, TypeError) as error:
        reason = canonical.reason(error) if isinstance(error, ValidationError) else str(error)
        raise ValueError(f"post {at_uri[:100]!r}: {reason}") from None


def repost_from_record(
    did: str, rkey: str, record: Json, indexed_at: datetime, subject_tags: list[str]
) -> Post:
    """A repost of a post whose tags are known; raises ValueError naming the problem."""
    subject = decoded.string(decoded.obj(record, "subject"), "uri") or ""
    at_uri = uri(did, REPOST, rkey)
    try:
        return Post(
            platform=PLATFORM,
            id=at_uri,
            url=web_url(subject),
            author_id=did,
            created_at=min(_declared(record) or indexed_at, indexed_at),
            hashtags=subject_tags,
            kind="repost",
            referenced_id=subject or None,
            referenced_author_id=did_of(subject),
            referenced_url=web_url(subject),
        )
    except (ValidationError, TypeError) as error:
        reason = canonical.reason(error) if isinstance(error, ValidationError) else str(error)
        raise ValueError(f"repost {at_uri[:100]!r}: {reason}") from None


def _features(record: Json, kind: str) -> list[Json]:
    """Facet features of one kind ('#tag', '#link', '#mention'); the facet's own $type varies."""
    return [
        feature
        for facet in decoded.objs(record, "facets")
        for feature in decoded.objs(facet, "features")
        if (decoded.string(feature, "$type") or "").endswith(kind)
    ]


def _reference(record: Json) -> tuple[Kind, str | None]:
    """A reply's parent, else a quote's quoted post; a post that is both counts as a reply."""
    parent = decoded.string(decoded.obj(decoded.obj(record, "reply"), "parent"), "uri")
    if parent:
        return "reply", parent
    quoted = _quoted(record)
    return ("quote", quoted) if quoted else ("original", None)


def _quoted(record: Json) -> str | None:
    embed = decoded.obj(record, "embed")
    if decoded.string(embed, "$type") not in _QUOTES:
        return None
    inner = decoded.obj(embed, "record")
    return decoded.string(inner, "uri") or decoded.string(decoded.obj(inner, "record"), "uri")


def _mentions(record: Json) -> list[str]:
    return [did for did in (decoded.string(f, "did") for f in _features(record, "#mention")) if did]


def _links(record: Json) -> list[str]:
    facets = [decoded.string(f, "uri") for f in _features(record, "#link")]
    external = decoded.string(decoded.obj(decoded.obj(record, "embed"), "external"), "uri")
    return list(dict.fromkeys(link for link in [*facets, external] if link))


def _declared(record: Json) -> datetime | None:
    value = decoded.string(record, "createdAt")
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
