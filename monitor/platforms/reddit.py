"""Reddit submissions (``t3`` things of a listing) -> Post.

A submission is known by its fullname (``t3_<id36>``), its author by ``author_fullname``; a
deleted author has none, and all of them count as one account, ``[deleted]`` (a people count
then errs low, never high). Reddit has no hashtags of its own: a submission carries the tags
written in its title and body. A crosspost is a repost of its parent and carries the parent's
tags besides its own.
"""

from datetime import UTC, datetime

from pydantic import ValidationError

from monitor import decoded, hashtags
from monitor.decoded import Json
from monitor.importers import canonical
from monitor.models import Post

PLATFORM = "reddit"
DELETED = "[deleted]"
WEB = "https://www.reddit.com"


def posts_from_listing(listing: object) -> tuple[list[Post], list[str], str | None]:
    """Posts, refused submissions (one line each) and the ``after`` cursor of a listing page.

    Raises ValueError when the page is not a listing.
    """
    if decoded.string(listing, "kind") != "Listing":
        raise ValueError("not a listing")
    data = decoded.obj(listing, "data")
    posts, refused = [], []
    for child in decoded.objs(data, "children"):
        try:
            posts.append(post_from_submission(decoded.obj(child, "data")))
        except ValueError as exc:
            refused.append(str(exc))
    return posts, refused, decoded.string(data, "after")


def post_from_submission(thing: Json) -> Post:
    name = decoded.string(thing, "name")
    if not name:
        raise ValueError("a submission without name")
    created = thing.get("created_utc")
    if not isinstance(created, int | float) or isinstance(created, bool):
        raise ValueError(f"submission {name[:40]!r}: no created_utc")
    text = _text(thing)
    parents = decoded.objs(thing, "crosspost_parent_list")
    parent = parents[0] if parents else {}
    parent_id = decoded.string(thing, "crosspost_parent")
    written = hashtags.extract(text) + (hashtags.extract(_text(parent)) if parent_id else [])
    try:
        return Post(
            platform=PLATFORM,
            id=name,
            url=_permalink(thing),
            author_id=decoded.string(thing, "author_fullname") or DELETED,
            author_handle=decoded.string(thing, "author"),
            created_at=datetime.fromtimestamp(created, UTC),
            text=text,
            hashtags=list(dict.fromkeys(written)),
            kind="repost" if parent_id else "original",
            referenced_id=parent_id,
            referenced_author_id=decoded.string(parent, "author_fullname") if parent_id else None,
            referenced_url=_permalink(parent) if parent_id else None,
            links=_links(thing),
        )
    except ValidationError as error:
        raise ValueError(f"submission {name[:40]!r}: {canonical.reason(error)}") from None


def _text(thing: Json) -> str:
    parts = (decoded.string(thing, "title"), decoded.string(thing, "selftext"))
    return "\n\n".join(part for part in parts if part)


def _permalink(thing: Json) -> str | None:
    path = decoded.string(thing, "permalink")
    return f"{WEB}{path}" if path and path.startswith("/") else None


def _links(thing: Json) -> list[str]:
    url = decoded.string(thing, "url")
    is_self = thing.get("is_self") is True
    return [url] if url and not is_self and not url.startswith(f"{WEB}/r/") else []
