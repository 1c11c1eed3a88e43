"""Mastodon statuses -> Post, whichever instance they were read from.

A status is known by its ``uri`` (the federation id, the same on every instance; the ``id`` is
the instance's own), and an account by its ``uri`` (its actor id). A boost is a repost carrying
the tags of the boosted status; a quote (Mastodon 4.4+) and a reply carry their own. ``content``
is sanitised HTML, read as its visible text (monitor.platforms.html).
"""

from urllib.parse import urlsplit

from pydantic import ValidationError

from monitor import decoded, hashtags
from monitor.decoded import Json
from monitor.importers import canonical
from monitor.models import Kind, Post
from monitor.platforms import html

PLATFORM = "mastodon"


def post_from_status(status: object, instance: str, parent: Json | None = None) -> Post:
    """The post for one status read from ``instance``; ``parent`` is the status it replies to.

    Raises ValueError naming the status and the problem.
    """
    if not isinstance(status, dict):
        raise ValueError("a status is not an object")
    uri = decoded.string(status, "uri")
    if not uri:
        raise ValueError("status without uri")
    boosted = decoded.obj(status, "reblog")
    quoted = decoded.obj(decoded.obj(status, "quote"), "quoted_status")
    kind, referenced = _reference(status, boosted, quoted, parent)
    account = decoded.obj(status, "account")
    tagged = boosted if kind == "repost" else status  # a boost says what the boosted post says
    text = _text(tagged)
    try:
        return Post(
            platform=PLATFORM,
            id=uri,
            url=decoded.string(status, "url") or decoded.string(boosted, "url") or uri,
            author_id=_account_id(account),
            author_handle=_handle(account, instance),
            author_name=decoded.string(account, "display_name") or None,
            author_created_at=decoded.string(account, "created_at"),
            author_followers=decoded.integer(account, "followers_count"),
            created_at=status.get("created_at"),
            text=text,
            hashtags=_tags(tagged),
            kind=kind,
            referenced_id=decoded.string(referenced, "uri"),
            referenced_author_id=_account_id(decoded.obj(referenced, "account")) or None,
            referenced_url=decoded.string(referenced, "url"),
            referenced_text=_text(referenced) or None,
            referenced_author_name=decoded.string(
                decoded.obj(referenced, "account"), "display_name"
            )
            or None,
            links=_links(status),
            mentions=[m for m in map(_acct, decoded.objs(status, "mentions")) if m],
            lang=decoded.string(status, "language"),
            media=[
                url
                for m in decoded.objs(tagged, "media_attachments")
                if (url := decoded.string(m, "url"))
            ],
        )
    except ValidationError as error:
        raise ValueError(f"status {uri[:80]!r}: {canonical.reason(error)}") from None


def _reference(status: Json, boosted: Json, quoted: Json, parent: Json | None) -> tuple[Kind, Json]:
    """Kind and the referenced status; a reply whose parent could not be fetched has none."""
    if boosted:
        return "repost", boosted
    if decoded.string(status, "in_reply_to_id"):
        return "reply", parent or {}
    if quoted:
        return "quote", quoted
    return "original", {}


def _text(status: Json) -> str:
    """A content warning is part of what the author wrote, so it precedes the text."""
    body = html.text_of(decoded.string(status, "content") or "")
    warning = decoded.string(status, "spoiler_text") or ""
    return f"{warning}\n\n{body}" if warning and body else warning or body


def _tags(status: Json) -> list[str]:
    """The instance's tag entities, then any the text holds that they miss."""
    named = [decoded.string(tag, "name") for tag in decoded.objs(status, "tags")]
    written = hashtags.extract(html.text_of(decoded.string(status, "content") or ""))
    return list(dict.fromkeys(tag for tag in [*named, *written] if tag))


def _links(status: Json) -> list[str]:
    return html.links_of(decoded.string(status, "content") or "")


def _account_id(account: Json) -> str:
    return decoded.string(account, "uri") or decoded.string(account, "url") or ""


def _handle(account: Json, instance: str) -> str | None:
    """``user@domain`` for every account: a local account's acct has no domain."""
    acct = decoded.string(account, "acct")
    if not acct:
        return None
    return acct if "@" in acct else f"{acct}@{urlsplit(instance).hostname}"


def _acct(mention: Json) -> str | None:
    return decoded.string(mention, "acct")
