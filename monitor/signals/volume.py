"""Volume: posts per minute bucket, split by kind and by platform, kept exact by the apply script.

Buckets are UTC minutes (``created_at // 60 s``); reports roll them up to hours or days.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from redis.asyncio import Redis

from monitor import keys
from monitor.connection import text
from monitor.timewindow import Window


@dataclass
class Minute:
    kinds: Counter[str] = field(default_factory=Counter)
    platforms: Counter[str] = field(default_factory=Counter)

    @property
    def posts(self) -> int:
        return sum(self.kinds.values())


async def minutes(redis: Redis, tag: str, window: Window | None = None) -> dict[int, Minute]:
    """Minute number -> its counts, for the minutes whose start lies in the window."""
    found: dict[int, Minute] = defaultdict(Minute)
    low, high = (window.start_ms // 60_000, window.end_ms // 60_000) if window else (0, 2**62)
    for raw_field, raw_count in (await redis.hgetall(keys.volume(tag))).items():
        name = text(raw_field)
        split = max(name.find(":"), name.find("@"))  # a field holds exactly one of them
        minute = int(name[:split])
        if low <= minute <= high:
            target = found[minute].kinds if name[split] == ":" else found[minute].platforms
            target[name[split + 1 :]] += int(raw_count)
    return dict(found)


def within(minutes: dict[int, Minute], window: Window) -> dict[int, Minute]:
    """The minutes of an already-read volume that lie in a window."""
    low, high = window.start_ms // 60_000, window.end_ms // 60_000
    return {minute: counts for minute, counts in minutes.items() if low <= minute <= high}
