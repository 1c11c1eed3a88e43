"""Jetstream ingest for the benchmark: a recorded stream replayed by a local WebSocket server in
its own process, read by the real reader (filter on tags, attribute reposts, publish).

The recording is firehose-like: most posts carry no watched tag, a share of the events are
reposts, a few are identity and account events. Its last event lies in the future, so that the
reader, run once, stops as soon as it has read everything.
"""

import asyncio
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson
from redis.asyncio import Redis

from monitor import sources, watchlist
from monitor.settings import Settings
from tests.fakes import jetstream as fake
from workers.collectors.jetstream import JetstreamReader
from workers.collectors.sink import into_redis

WATCHED_SHARE = 0.2  # of posts: the rest are the firehose's other talk
REPOST_SHARE = 0.25  # of events
ROOT = Path(__file__).resolve().parents[1]
TAGS = ("IRGCOutOfIraq", "BlackListMOIS", "BlackListIRGC", "IRGCTerrorists")
OTHER = ("cats", "football", "news", "art", "music")
TEXTS = (
    "سپاه پاسداران باید از عراق بیرون برود. مردم یک‌صدا می‌گویند",
    "الحرس الثوري يجب أن يخرج من العراق",
    "The IRGC must leave Iraq, say the protesters in Baghdad today",
)


@dataclass(frozen=True)
class StreamRun:
    events: int
    posts_read: int  # post events the filter looked at
    published: int  # posts and attributed reposts that carried a watched tag
    seconds: float
    cpu_s: float  # this process: reading, filtering, publishing

    @property
    def posts_per_s(self) -> float:
        return self.posts_read / self.seconds


def record(path: Path, events: int, seed: int = 7) -> int:
    """Write the recording; returns how many of its events are posts."""
    rng = random.Random(seed)
    start_us = 1_764_000_000_000_000
    posts: list[str] = []
    count = 0
    with path.open("wb") as out:
        for n in range(events - 1):
            did = f"did:plc:user{rng.randrange(5_000)}"
            at = start_us + n * 1_000
            roll = rng.random()
            if roll < REPOST_SHARE and posts:
                event = fake.repost(did, f"r{n}", rng.choice(posts), at)
            elif roll < REPOST_SHARE + 0.02:
                event = fake.identity(did, f"user{n}.bsky.social", at)
            else:
                tag = rng.choice(TAGS) if rng.random() < WATCHED_SHARE else rng.choice(OTHER)
                event = fake.post(did, f"p{n}", f"{rng.choice(TEXTS)} #{tag}", at,
                                  facet_tags=[tag])  # fmt: skip
                posts.append(fake.at_uri(did, f"p{n}"))
                count += 1
            out.write(orjson.dumps(event) + b"\n")
        end = 4_102_444_800_000_000  # 2100-01-01: later than any run starts, so it ends the run
        out.write(orjson.dumps(fake.account("did:plc:end", end)) + b"\n")
    return count


async def measure(redis: Redis, settings: Settings, frames: Path, posts: int) -> StreamRun:
    """Serve the recording from another process and read it once through the real reader."""
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.jetstream", str(frames),
        stdout=asyncio.subprocess.PIPE, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url = (await server.stdout.readline()).decode().strip()
        return await _read(redis, settings, url, posts)
    finally:
        server.terminate()
        await server.wait()


async def _read(redis: Redis, settings: Settings, url: str, posts: int) -> StreamRun:
    await watchlist.add(redis, watchlist.DEFAULT, watchlist.parse_tags(TAGS))
    source = sources.make("bluesky-jetstream", url, name="bench-jetstream")
    await sources.add(redis, source)
    stopping = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        sink = into_redis(redis, source.name, settings)  # as the daemon's
        reader = JetstreamReader(redis, session, source, settings, sink, stopping)
        started, cpu = time.perf_counter(), time.process_time()
        result = await reader.run(once=True)
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    return StreamRun(result.events, posts, result.posts, seconds, cpu_s)
