"""Report windows: durations count back from a tag's newest post, ISO times are absolute.

A window is whole UTC minutes, inclusive at both ends, so that minute volume and per-post figures
cover exactly the same posts: ``--since 24h`` on a tag whose newest post is at T covers the minutes
from the one holding T - 24h to the one holding T. A window is clipped to the retained posts, the
minutes from the oldest to the newest: beyond them it would hold nothing but empty buckets, so a
request's work is bounded by what the tag retains, whatever window it names.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)", re.IGNORECASE)
MINUTE_MS = 60_000
_UNIT_S = {"s": 1, "m": 60, "min": 60, "h": 3_600, "d": 86_400, "w": 604_800}
MAX_DURATION_S = 100 * 366 * 86_400  # a century: anything longer is a slip of the keyboard
MAX_LENGTH = 64  # characters of a --since/--until value


class InvalidWindow(ValueError):
    """A --since/--until value that is neither a duration nor an ISO time."""


@dataclass(frozen=True)
class Window:
    start_ms: int
    end_ms: int

    @classmethod
    def minutes(cls, start_ms: int, end_ms: int) -> "Window":
        """From the start of start's minute to the last millisecond of end's minute."""
        return cls(start_ms - start_ms % MINUTE_MS, end_ms - end_ms % MINUTE_MS + MINUTE_MS - 1)

    @property
    def length_ms(self) -> int:
        return self.end_ms - self.start_ms + 1

    def previous(self) -> "Window":
        """The window of the same length just before this one."""
        return Window(self.start_ms - self.length_ms, self.start_ms - 1)


def parse_duration(text: str) -> timedelta | None:
    """'90m', '24h', '7d', '2w', '1.5h' -> timedelta; None when it is not a duration."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        return None
    seconds = float(match.group(1)) * _UNIT_S[match.group(2).lower()]
    if not seconds <= MAX_DURATION_S:  # also inf, from a number too long for a float
        raise InvalidWindow(f"duration {text[:20]!r} is longer than a century")
    return timedelta(seconds=seconds)


def parse_instant(text: str, newest_ms: int) -> int:
    """A duration before the newest post, or an ISO 8601 time (UTC unless it says otherwise)."""
    if len(text) > MAX_LENGTH:
        raise InvalidWindow(f"invalid time {text[:20]!r}...: longer than {MAX_LENGTH} characters")
    if (duration := parse_duration(text)) is not None:
        return newest_ms - int(duration.total_seconds() * 1000)
    try:
        instant = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidWindow(
            f"invalid time {text!r}: give a duration such as 24h, 7d, 90m, or an ISO time"
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return int(instant.timestamp() * 1000)


def check(text: str | None) -> None:
    """Refuse a malformed value before anything else happens."""
    if text is not None:
        parse_instant(text, 0)


def resolve(since: str | None, until: str | None, oldest_ms: int, newest_ms: int) -> Window:
    """The window a report covers, clipped to the retained posts; with neither bound, all."""
    end = parse_instant(until, newest_ms) if until else newest_ms
    start = parse_instant(since, newest_ms) if since else oldest_ms
    if start > newest_ms:
        raise InvalidWindow(f"--since {since} is after the newest post, {iso(newest_ms)}")
    if end < oldest_ms:
        raise InvalidWindow(f"--until {until} is before the oldest post retained, {iso(oldest_ms)}")
    if start > end:
        raise InvalidWindow("empty window: --since is after --until")
    return Window.minutes(max(start, oldest_ms), min(end, newest_ms))


def iso(ms: int) -> str:
    """UTC ISO 8601 with a Z, to the millisecond when the time has one."""
    spec = "milliseconds" if ms % 1000 else "seconds"
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec=spec).replace("+00:00", "Z")
