"""The shape every long-running role shares: run() loops over step() until asked to stop."""

import abc
import asyncio
import contextlib
import logging
import os
import random
import socket
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from monitor import keys
from monitor.settings import Settings

log = logging.getLogger(__name__)


def backoff(attempt: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    """Capped exponential delay with full jitter, so roles hit by one outage spread out."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


def default_name(role: str) -> str:
    return f"{role}-{socket.gethostname()}-{os.getpid()}"


class Role(abc.ABC):
    """A loop with one job; ``step`` does one unit of work and returns how much it did."""

    role = "role"

    def __init__(self, redis: Redis, settings: Settings, name: str | None = None) -> None:
        self.redis = redis
        self.settings = settings
        self.name = name or default_name(self.role)
        self.stopping = asyncio.Event()
        self.prepared = asyncio.Event()  # set once prepare() has returned
        self.last_error: tuple[float, str] | None = None  # (unix time, what), for hashmon status
        self.done = 0
        self._last_beat = 0.0

    async def prepare(self) -> None:
        """Set up what the role needs before its first step (idempotent); most need nothing."""
        return None

    @abc.abstractmethod
    async def step(self) -> int:
        """One unit of work; returns how much it did (0: nothing to do)."""

    async def run(self) -> None:
        """Step until stopping is set; transient Redis and network errors wait and retry."""
        failures = 0
        while not self.stopping.is_set():
            try:
                if not self.prepared.is_set():  # Redis may be away or full when a role starts
                    await self.prepare()
                    self.prepared.set()
                self.done += await self.step()
                failures = 0
            except (RedisError, OSError) as exc:
                failures += 1
                delay = backoff(failures, base=0.5, cap=30.0)
                log.warning("%s: %s, retrying in %.1fs", self.name, exc, delay)
                self.note_error(f"{type(exc).__name__}: {exc}")
                await self._sleep(delay)

    async def run_until_idle(self) -> int:
        """Step until a step finds nothing to do; how tests and one-shot commands drive a role."""
        await self.prepare()
        self.prepared.set()
        total = 0
        while done := await self.step():
            total += done
        self.done += total
        return total

    def note_error(self, what: str) -> None:
        """Remember the latest error; the next heartbeat carries it to hashmon status."""
        self.last_error = (time.time(), " ".join(what.split())[:300])

    async def beat(self, force: bool = False) -> None:
        """Record liveness and counters under a key that expires when the role stops beating."""
        now = time.monotonic()
        if not force and now - self._last_beat < self.settings.heartbeat_s:
            return
        self._last_beat = now
        key = keys.heartbeat(self.role, self.name)
        ttl = max(1, round(3 * self.settings.heartbeat_s))
        async with self.redis.pipeline(transaction=False) as pipe:  # two slots on a cluster
            pipe.hset(key, mapping={"done": self.done, "at": time.time()})
            if self.last_error is not None:
                when, what = self.last_error
                pipe.hset(key, mapping={"error_at": when, "error": what})
            pipe.expire(key, ttl)
            pipe.zadd(keys.ROLES, {f"{self.role}:{self.name}": time.time() + ttl})
            await pipe.execute()

    async def close(self) -> None:
        """Release what the role holds; the heartbeat goes so the role no longer counts as alive."""
        await self.redis.delete(keys.heartbeat(self.role, self.name))
        await self.redis.zrem(keys.ROLES, f"{self.role}:{self.name}")

    async def _sleep(self, seconds: float) -> None:
        """Wait until stopping or for ``seconds``, beating meanwhile, so that a role between
        long steps (the digester checks every 30 s) still shows as alive."""
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0 and not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                wait = min(left, self.settings.heartbeat_s)
                await asyncio.wait_for(self.stopping.wait(), timeout=wait)
            with contextlib.suppress(RedisError, OSError):  # Redis away: the retry loop reports it
                await self.beat()
