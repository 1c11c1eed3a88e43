"""X API v2 tweets -> Post: the one mapping shared by the twarc2 importer and the X collector.

Two shapes come in. A raw response page or stream object keeps its context beside the tweets
(``includes.users`` and ``includes.tweets`` by id); a ``twarc2 flatten`` tweet carries it inline
(``author``, ``in_reply_to_user``, ``referenced_tweets[]`` merged with the full tweet, ``{}`` when
the expansion was missing). Both are reduced to the same lookup tables and mapped by one function.

Rules: a retweet is a repost and carries the hashtags of the tweet it retweets (its own text is
truncated); when that tweet is missing (deleted or withheld) its own, minus a tag cut by the
trailing '…'. Quotes and replies carry only their own. Kind precedence when a tweet has several
references: retweeted, then replied_to, then quoted.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from pydantic import ValidationError

from monitor import decoded, hashtags
from monitor.decoded import Json
from monitor.importers import canonical
from monitor.models import Kind, Post

PLATFORM = "x"
_KIND_OF: tuple[tuple[str, Kind], ...] = (
    ("retweeted", "repost"),
    ("replied_to", "reply"),
    ("quoted", "quote"),
)
_SNOWFLAKE_EPOCH_MS = 1288834974657  # ids carry milliseconds since this moment in bits 22 and up
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,50}")
_TRUNCATED_TAIL = re.compile(r"\S*…\s*$")


@dataclass(frozen=True)
class _Context:
    """What a tweet's expansions resolve to: users and referenced tweets, by id."""

    users: dict[str, Json]
    tweets: dict[str, Json]
    media: dict[str, Json] = field(default_factory=dict)  # by media_key


def posts_from_page(page: Json) -> list[Post]:
    """Posts for the tweets in ``data`` (a list, or one stream tweet); includes are only context."""
    data = page.get("data")
    if data is None:
        return []
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ValueError("'data' is neither a tweet nor a list of tweets")
    includes = decoded.obj(page, "includes")
    context = _Context(
        _by_id(decoded.objs(includes, "users")),
        _by_id(decoded.objs(includes, "tweets")),
        _by_key(decoded.objs(includes, "media")),
    )
    return [_post(_tweet(item), context) for item in data]


def post_from_flat(tweet: Json) -> Post:
    """The post for one ``twarc2 flatten`` tweet, whose expansions are inlined."""
    users = [decoded.obj(tweet, "author"), decoded.obj(tweet, "in_reply_to_user")]
    found = [ref for ref in decoded.objs(tweet, "referenced_tweets") if set(ref) - {"type", "id"}]
    users += [decoded.obj(ref, "author") for ref in found]
    inlined = _by_key(decoded.objs(decoded.obj(tweet, "attachments"), "media"))
    return _post(tweet, _Context(_by_id(users), _by_id(found), inlined))


def _post(tweet: Json, context: _Context) -> Post:
    tweet_id = decoded.string(tweet, "id")
    if tweet_id is None:
        raise ValueError("tweet without id")
    for needed in ("text", "author_id", "created_at"):
        if decoded.string(tweet, needed) is None:
            raise ValueError(f"tweet {_label(tweet_id)} without {needed}")
    author_id = tweet["author_id"]
    author = context.users.get(author_id, {})
    kind, ref_id = _reference(tweet)
    ref_tweet = context.tweets.get(ref_id) if ref_id is not None else None
    ref_author_id = decoded.string(ref_tweet, "author_id")
    if ref_author_id is None and kind == "reply":
        ref_author_id = decoded.string(tweet, "in_reply_to_user_id")
    try:
        return Post(
            platform=PLATFORM,
            id=tweet_id,
            url=_url(tweet_id, author),
            author_id=author_id,
            author_handle=decoded.string(author, "username"),
            author_name=decoded.string(author, "name"),
            author_created_at=decoded.string(author, "created_at"),
            author_followers=decoded.integer(
                decoded.obj(author, "public_metrics"), "followers_count"
            ),
            created_at=_created_at(tweet_id, tweet["created_at"]),
            text=(_text(ref_tweet) if kind == "repost" else "") or _text(tweet),
            hashtags=_hashtags(tweet, kind, ref_tweet),
            kind=kind,
            referenced_id=ref_id,
            referenced_author_id=ref_author_id,
            referenced_url=_ref_url(ref_id, ref_author_id, context),
            referenced_text=_text(ref_tweet) or None,
            referenced_author_name=decoded.string(context.users.get(ref_author_id or ""), "name"),
            links=_links(tweet),
            short_links=_short_links(tweet),
            mentions=_mentions(tweet),
            media=_media(tweet, context),
            lang=decoded.string(tweet, "lang"),
        )
    except ValidationError as error:
        raise ValueError(f"tweet {_label(tweet_id)}: {canonical.reason(error)}") from None


def _text(tweet: Json | None) -> str:
    """The whole text: a long post's is its ``note_tweet``, where ``text`` holds its start. A
    retweet's own text is "RT @author: " and a cut copy, so it shows the retweeted tweet's."""
    return (
        decoded.string(decoded.obj(tweet, "note_tweet"), "text")
        or decoded.string(tweet, "text")
        or ""
    )


def _created_at(tweet_id: str, declared: str) -> datetime | str:
    """The time to the millisecond that a snowflake id carries, where it agrees with the
    declared time (X gives whole seconds); otherwise the declared time, for the model to check."""
    try:
        moment = datetime.fromisoformat(declared)
    except ValueError:
        return declared
    if not tweet_id.isdigit() or moment.tzinfo is None:
        return declared
    ms = (int(tweet_id) >> 22) + _SNOWFLAKE_EPOCH_MS
    precise = datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=ms % 1000 * 1000)
    same_second = precise.replace(microsecond=0) == moment.replace(microsecond=0)
    return precise if same_second else declared


def _reference(tweet: Json) -> tuple[Kind, str | None]:
    """The tweet's kind and the id of the tweet it retweets, replies to or quotes."""
    refs: dict[str, str] = {}
    for ref in decoded.objs(tweet, "referenced_tweets"):
        ref_type, ref_id = decoded.string(ref, "type"), decoded.string(ref, "id")
        if ref_type is not None and ref_id is not None:
            refs.setdefault(ref_type, ref_id)
    for api_type, kind in _KIND_OF:
        if api_type in refs:
            return kind, refs[api_type]
    return "original", None


def _hashtags(tweet: Json, kind: Kind, ref_tweet: Json | None) -> list[str]:
    """Tags as written: a repost's come from its original when that is at hand."""
    if kind == "repost" and ref_tweet is not None:
        return _tags_of(ref_tweet, decoded.string(ref_tweet, "text") or "")
    text: str = tweet["text"]
    if kind == "repost":
        text = _TRUNCATED_TAIL.sub("", text)  # "#Re…" is a cut tag; X leaves it out too
    return _tags_of(tweet, text)


def _tags_of(tweet: Json, text: str) -> list[str]:
    entities = decoded.objs(decoded.obj(tweet, "entities"), "hashtags")
    return _unique([*(decoded.string(tag, "tag") for tag in entities), *hashtags.extract(text)])


def _links(tweet: Json) -> list[str]:
    urls = decoded.objs(decoded.obj(tweet, "entities"), "urls")
    return _unique(
        decoded.string(url, "unwound_url") or decoded.string(url, "expanded_url") for url in urls
    )


def _short_links(tweet: Json) -> dict[str, str]:
    """t.co links as the text holds them -> the URL they stand for."""
    urls = decoded.objs(decoded.obj(tweet, "entities"), "urls")
    pairs = ((decoded.string(url, "url"), decoded.string(url, "expanded_url")) for url in urls)
    return {short: long for short, long in pairs if short and long}


def _media(tweet: Json, context: _Context) -> list[str]:
    """The attached photos' URLs, and a video's or GIF's preview image (X gives no video URL)."""
    keys = decoded.items(decoded.obj(tweet, "attachments"), "media_keys")
    found = [context.media.get(key, {}) for key in keys if isinstance(key, str)]
    return _unique(decoded.string(m, "url") or decoded.string(m, "preview_image_url")
                   for m in found)  # fmt: skip


def _by_key(objects: list[Json]) -> dict[str, Json]:
    return {key: obj for obj in objects if (key := decoded.string(obj, "media_key")) is not None}


def _mentions(tweet: Json) -> list[str]:
    users = decoded.objs(decoded.obj(tweet, "entities"), "mentions")
    return _unique(decoded.string(user, "username") for user in users)


def _url(tweet_id: str, author: Json) -> str:
    username = decoded.string(author, "username")
    who = username if username is not None and _USERNAME.fullmatch(username) else "i/web"
    return f"https://x.com/{who}/status/{quote(tweet_id, safe='')}"


def _ref_url(ref_id: str | None, ref_author_id: str | None, context: _Context) -> str | None:
    if ref_id is None:
        return None
    author = context.users.get(ref_author_id, {}) if ref_author_id is not None else {}
    return _url(ref_id, author)


def _tweet(item: object) -> Json:
    if not isinstance(item, dict):
        raise ValueError("a tweet in 'data' is not an object")
    return item


def _by_id(objects: list[Json]) -> dict[str, Json]:
    return {key: obj for obj in objects if (key := decoded.string(obj, "id")) is not None}


def _unique(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


def _label(tweet_id: str) -> str:
    """The id as shown in a message: short and printable whatever the input held."""
    return tweet_id if tweet_id.isdigit() and len(tweet_id) <= 30 else repr(tweet_id[:30])
