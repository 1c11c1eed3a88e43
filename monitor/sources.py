"""The platforms a user collects from: one entry per source (an instance, an account, a feed).

A source names the environment variable that holds its credential, never the credential, so
nothing secret is stored in Redis or shown. Names are unique; a source's cursors and health
live beside it in the {sources} hash slot.
"""

import os
import re
import time
from dataclasses import dataclass
from typing import Literal, cast
from urllib.parse import urlsplit

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.asyncio import Redis

from monitor import keys
from monitor.connection import text

Platform = Literal["mastodon", "bluesky-jetstream", "bluesky-search", "x", "rss", "reddit"]


@dataclass(frozen=True)
class Kind:
    """What a platform needs of a source, and how it is reached."""

    rate: tuple[int, float]  # its published limit, as requests per seconds
    url: str | None = None  # the default base URL; None: the user gives one
    schemes: tuple[str, ...] = ("http", "https")
    credentials: str | None = None  # what to give when credentials are required
    secret: bool = False  # a second variable: Reddit's client secret, Bluesky's app password
    bearer: bool = True  # the token goes as it is, as a bearer token
    streaming: bool = False  # read as a stream, not polled
    query: bool = False  # the URL is an address used as given (a feed), not a base


# Published limits (README of the platform fixtures): Mastodon pages 300 per 15 min per IP; X
# recent search 450 per 15 min with an app token; Reddit about 100 a minute for an OAuth app; a
# Bluesky PDS 3000 per 5 min. Jetstream has no request limit: its rate paces reconnections.
# Feeds publish none: one a second is polite.
KINDS: dict[Platform, Kind] = {
    "mastodon": Kind((300, 900.0)),
    "bluesky-jetstream": Kind((10, 60.0), url="wss://jetstream2.us-east.bsky.network",
                              schemes=("ws", "wss", "http", "https"), bearer=False,
                              streaming=True),
    "bluesky-search": Kind((3000, 300.0), url="https://bsky.social", secret=True, bearer=False,
                           credentials="--handle-env VAR and --password-env VAR (an app password)"),
    "x": Kind((450, 900.0), url="https://api.twitter.com",
              credentials="a token: give --token-env VAR (or --bearer-env)"),
    "rss": Kind((60, 60.0), query=True),
    "reddit": Kind((100, 60.0), url="https://oauth.reddit.com", secret=True, bearer=False,
                   credentials="--client-id-env VAR and --client-secret-env VAR"),
}  # fmt: skip
PLATFORMS: tuple[Platform, ...] = tuple(KINDS)
REDDIT_AUTH = "https://www.reddit.com"  # where an app trades its id and secret for a token
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class InvalidSource(ValueError):
    """A source that cannot be added or used; the message names the problem."""


class Source(BaseModel):
    """Where and how to collect; ``rate`` requests per ``period_s`` is the throttle.

    ``token_env`` names the variable holding the access token (Reddit: the app's client id;
    Bluesky: the handle); ``secret_env`` the one holding Reddit's client secret or Bluesky's app
    password; ``auth_url`` where Reddit hands out tokens.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    platform: Platform
    base_url: str
    token_env: str | None = None
    secret_env: str | None = None
    auth_url: str | None = None
    rate: int = Field(gt=0)
    period_s: float = Field(gt=0)

    def token(self) -> str | None:
        """The credential, read when needed from the variable the source names."""
        return os.environ.get(self.token_env) or None if self.token_env else None

    def secret(self) -> str | None:
        return os.environ.get(self.secret_env) or None if self.secret_env else None


def parse_url(raw: str, schemes: tuple[str, ...] = ("http", "https"), feed: bool = False) -> str:
    """A base URL without trailing slash, query or fragment; a feed's address is kept whole."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in schemes or not parts.hostname:
        expected = " or ".join(f"{scheme}://host" for scheme in schemes)
        raise InvalidSource(f"invalid URL {raw[:80]!r}: expected {expected}")
    if parts.fragment or (parts.query and not feed):
        raise InvalidSource(f"invalid URL {raw[:80]!r}: no query or fragment, just the base")
    if feed:  # a feed's address is used as given, query included
        return parts.geturl()
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def parse_env(name: str) -> str:
    """The name of a set, non-empty environment variable (its value is not kept)."""
    if not _ENV.fullmatch(name):
        raise InvalidSource(f"invalid environment variable name {name[:40]!r}")
    if not os.environ.get(name):
        raise InvalidSource(f"environment variable {name} is not set")
    return name


def parse_rate(raw: str) -> tuple[int, float]:
    """'300/900' -> 300 requests per 900 seconds."""
    count, _, period = raw.partition("/")
    try:
        rate, seconds = int(count), float(period)
    except ValueError:
        raise InvalidSource(f"invalid rate {raw[:40]!r}: expected REQUESTS/SECONDS") from None
    if rate <= 0 or not 0 < seconds < float("inf"):
        raise InvalidSource(f"invalid rate {raw[:40]!r}: both parts must be positive")
    return rate, seconds


def make(
    platform: str,
    base_url: str | None,
    *,
    name: str | None = None,
    token_env: str | None = None,
    secret_env: str | None = None,
    auth_url: str | None = None,
    rate: str | None = None,
) -> Source:
    """A checked source; raises InvalidSource naming the first problem."""
    if platform not in PLATFORMS:
        raise InvalidSource(f"unknown platform {platform[:40]!r}; expected {', '.join(PLATFORMS)}")
    known = next(p for p in PLATFORMS if p == platform)  # the Literal, for type checkers
    kind = KINDS[known]
    if base_url is None and kind.url is None:
        raise InvalidSource(f"{known} needs a URL: give --instance or --url")
    url = parse_url(base_url or kind.url or "", kind.schemes, feed=kind.query)
    chosen = name or urlsplit(url).hostname or ""
    if not _NAME.fullmatch(chosen):
        raise InvalidSource(
            f"invalid source name {chosen[:40]!r}: use letters, digits, '.', '_' or '-'"
        )
    if kind.credentials and not (token_env and (secret_env or not kind.secret)):
        raise InvalidSource(f"{known} needs {kind.credentials}")
    count, period = parse_rate(rate) if rate else kind.rate
    env = parse_env(token_env) if token_env else None
    secret = parse_env(secret_env) if secret_env else None
    tokens_at = None
    if known == "reddit":  # a mirror given by --url hands out tokens too, unless told otherwise
        tokens_at = parse_url(auth_url or (url if base_url else REDDIT_AUTH))
    return Source(name=chosen, platform=known, base_url=url, token_env=env, secret_env=secret,
                  auth_url=tokens_at, rate=count, period_s=period)  # fmt: skip


async def add(redis: Redis, source: Source) -> None:
    if not await redis.hsetnx(keys.SOURCES, source.name, source.model_dump_json()):
        raise InvalidSource(f"a source named {source.name!r} exists; remove it first")


async def remove(redis: Redis, name: str) -> bool:
    """Forget a source with its cursors and health; False when there was none."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hdel(keys.SOURCES, name)
        pipe.delete(keys.cursors(name), keys.source_health(name))
        removed, _ = await pipe.execute()
    return bool(removed)


async def all_sources(redis: Redis) -> list[Source]:
    """Every source, by name; a stored entry this version cannot read is skipped."""
    stored = cast(dict[bytes, bytes], await redis.hgetall(keys.SOURCES))
    found = []
    for raw in stored.values():
        try:
            found.append(Source.model_validate_json(raw))
        except ValidationError:
            continue
    return sorted(found, key=lambda source: source.name)


async def record_success(redis: Redis, name: str, posts: int, newest_ms: int | None) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(keys.source_health(name), "last_success_at", time.time())
        pipe.hincrby(keys.source_health(name), "posts", posts)
        if newest_ms is not None:
            pipe.hset(keys.source_health(name), "newest_post_ms", newest_ms)
        await pipe.execute()


async def record_error(redis: Redis, name: str, error: str) -> None:
    mapping = {"last_error": error[:300], "last_error_at": time.time()}
    await redis.hset(keys.source_health(name), mapping=mapping)  # type: ignore[arg-type]  # str|float values


async def health(redis: Redis, name: str) -> dict[str, str]:
    stored = cast(dict[bytes, bytes], await redis.hgetall(keys.source_health(name)))
    return {text(k): text(v) for k, v in stored.items()}


async def cursors(redis: Redis, name: str) -> dict[str, str]:
    """Tag -> cursor JSON, as the source's collector saved it."""
    stored = cast(dict[bytes, bytes], await redis.hgetall(keys.cursors(name)))
    return {text(k): text(v) for k, v in stored.items()}


async def cursor(redis: Redis, name: str, tag: str) -> str | None:
    found = await redis.hget(keys.cursors(name), tag)
    return None if found is None else text(found)


async def save_cursor(redis: Redis, name: str, tag: str, cursor: str) -> None:
    await redis.hset(keys.cursors(name), tag, cursor)


class SourceState(BaseModel):
    """A source as ``sources list`` shows it: settings, health and each tag's cursor."""

    source: Source
    posts: int
    last_success_at: float | None
    last_error: str | None
    last_error_at: float | None
    lag_s: float | None  # a stream: how far behind it reads; else since its last success
    newest_post_ms: int | None
    cursors: dict[str, object]


async def states(redis: Redis) -> list[SourceState]:
    now = time.time()
    found = []
    for source in await all_sources(redis):
        seen = await health(redis, source.name)
        success = _maybe_float(seen.get("last_success_at"))
        newest = _maybe_float(seen.get("newest_post_ms"))
        kept = await cursors(redis, source.name)
        lag = None if success is None else max(0.0, now - success)
        if KINDS[source.platform].streaming and "*" in kept:  # the cursor: the last event's time
            lag = max(0.0, now - int(kept["*"]) / 1_000_000)
        found.append(
            SourceState(
                source=source,
                posts=int(seen.get("posts", 0)),
                last_success_at=success,
                last_error=seen.get("last_error"),
                last_error_at=_maybe_float(seen.get("last_error_at")),
                lag_s=lag,
                newest_post_ms=None if newest is None else int(newest),
                cursors={tag: _cursor_shown(raw) for tag, raw in kept.items()},
            )
        )
    return found


def _cursor_shown(raw: str) -> object:
    """A cursor as its collector saved it: JSON, or, when damaged, the text as it stands."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw


def _maybe_float(value: str | None) -> float | None:
    return None if value is None else float(value)
