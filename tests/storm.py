"""Many clients sending hostile parameters to a running daemon's API, while /healthz is timed and
the daemon's memory sampled: what a test asserts and what ``make bench-api`` prints."""

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

import aiohttp
import psutil

HOSTILE_WINDOWS = [
    "999999999d", "9" * 70 + "d", "1e9h", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "36500d", "0m", "1s", "-1h",
    "2019-11-27T12:03:00Z", "24h", "7d", "%00", "\u202e1h", "2w", "1.5h", "1" * 64, "",
]  # fmt: skip
HOSTILE_NUMBERS = ["0", "-1", "1", "1000", "1001", "10" * 30, "1e3", "nan", "inf", "0x10", ""]


@dataclass
class Figures:
    statuses: Counter[int] = field(default_factory=Counter)
    health_s: list[float] = field(default_factory=list)
    health_failures: int = 0
    peak_rss: int = 0  # bytes, the daemon and its children
    seconds: float = 0.0


def hostile_url(base: str, tag: str, chance: random.Random) -> str:
    """A report, summary, network or evidence request with hostile values for its parameters."""
    paths = [f"/api/tags/{tag}/{name}" for name in ("report", "network", "evidence")]
    path = chance.choice([*paths, "/api/watchlists/default/summary"])
    values = {
        "since": chance.choice(HOSTILE_WINDOWS),
        "until": chance.choice([*HOSTILE_WINDOWS, None, None]),
        "top": chance.choice(HOSTILE_NUMBERS),
        "window": chance.choice([*HOSTILE_NUMBERS, "300", "60"]),
        "min_weight": chance.choice(HOSTILE_NUMBERS),
        "threshold": chance.choice(["0.8", "1", "0", "2", "1e-300", "nan"]),
        "behaviour": chance.choice(["co-post", "co-repost", "co-link", "co-reply", "co-similar"]),
        "a": "u1", "b": "u2",
    }  # fmt: skip
    chosen = {k: v for k, v in values.items() if v is not None and chance.random() < 0.7}
    chosen["behaviour"] = str(values["behaviour"])
    query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in chosen.items())
    return f"{base}{path}?{query}"


async def storm(
    base: str, pid: int, tag: str, clients: int = 20, requests: int = 25, seed: int = 0
) -> Figures:
    """``clients`` clients each send ``requests`` hostile requests, one after another."""
    found, done = Figures(), asyncio.Event()
    timeout = aiohttp.ClientTimeout(total=120)
    started = time.perf_counter()
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def client(number: int) -> None:
            chance = random.Random(seed * 1_000 + number)
            for _ in range(requests):
                async with session.get(hostile_url(base, tag, chance)) as response:
                    await response.read()
                    found.statuses[response.status] += 1

        watchers = [asyncio.create_task(_health(session, base, found, done)),
                    asyncio.create_task(_memory(pid, found, done))]  # fmt: skip
        try:
            await asyncio.gather(*(client(n) for n in range(clients)))
        finally:
            done.set()
            await asyncio.gather(*watchers)
    found.seconds = time.perf_counter() - started
    return found


async def _health(
    session: aiohttp.ClientSession, base: str, found: Figures, done: asyncio.Event
) -> None:
    while not done.is_set():
        started = time.perf_counter()
        try:
            async with session.get(f"{base}/healthz", timeout=aiohttp.ClientTimeout(10)) as r:
                await r.read()
            found.health_s.append(time.perf_counter() - started)
        except (TimeoutError, aiohttp.ClientError):
            found.health_failures += 1
        await asyncio.sleep(0.05)


async def _memory(pid: int, found: Figures, done: asyncio.Event) -> None:
    daemon = psutil.Process(pid)
    while not done.is_set():
        try:
            rss = sum(p.memory_info().rss for p in [daemon, *daemon.children(recursive=True)])
        except psutil.NoSuchProcess:  # a child that ended between the listing and the read
            continue
        found.peak_rss = max(found.peak_rss, rss)
        await asyncio.sleep(0.05)
