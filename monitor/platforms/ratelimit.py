"""What a response says about the platform's rate limit: requests left, and when the window resets.

Each platform words it differently (README of the platform fixtures): Mastodon sends
``X-RateLimit-Reset`` as an ISO time, Bluesky ``RateLimit-Reset`` and X ``x-rate-limit-reset`` as
unix seconds, Reddit ``x-ratelimit-reset`` as seconds from now. Absolute times are read against
the response's own ``Date``, so a skewed local clock does not stretch or cut the wait.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

Headers = Mapping[str, str]  # case-insensitive in aiohttp (CIMultiDictProxy)


@dataclass(frozen=True)
class Limit:
    """Requests left in the window (None: not said) and seconds until it resets."""

    remaining: int | None
    reset_s: float | None


def mastodon(headers: Headers) -> Limit:
    return Limit(_number(headers, "X-RateLimit-Remaining"), _until(headers, "X-RateLimit-Reset"))


def bluesky(headers: Headers) -> Limit:
    return Limit(_number(headers, "RateLimit-Remaining"), _until_epoch(headers, "RateLimit-Reset"))


def x(headers: Headers) -> Limit:
    return Limit(
        _number(headers, "x-rate-limit-remaining"), _until_epoch(headers, "x-rate-limit-reset")
    )


def reddit(headers: Headers) -> Limit:
    return Limit(_number(headers, "x-ratelimit-remaining"), _seconds(headers, "x-ratelimit-reset"))


def unsaid(headers: Headers) -> Limit:
    """Feeds and other servers that say nothing of their limits until they answer 429."""
    return Limit(None, None)


Reader = Callable[[Headers], Limit]
READERS: dict[str, Reader] = {
    "mastodon": mastodon,
    "bluesky-search": bluesky,
    "x": x,
    "reddit": reddit,
}


def retry_after(headers: Headers) -> float | None:
    """``Retry-After`` in seconds, whether sent as seconds or as an HTTP date."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    seconds = _float(value)
    if seconds is not None:
        return max(0.0, seconds)
    return _between(_server_now(headers), _http_date(value))


def _number(headers: Headers, name: str) -> int | None:
    value = _float(headers.get(name))
    return None if value is None else int(value)  # Reddit sends "996.0"


def _seconds(headers: Headers, name: str) -> float | None:
    value = _float(headers.get(name))
    return None if value is None else max(0.0, value)


def _until(headers: Headers, name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
    return _between(_server_now(headers), moment)


def _until_epoch(headers: Headers, name: str) -> float | None:
    return _between(_server_now(headers), _float(headers.get(name)))


def _server_now(headers: Headers) -> float:
    return _http_date(headers.get("Date")) or time.time()


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def _between(now: float, moment: float | None) -> float | None:
    return None if moment is None else max(0.0, moment - now)


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None  # no NaN, inf
