"""The API's heavy reads (a report, a network, evidence) run in worker threads, a few at a time,
within a time budget: a report over a large tag is seconds of CPU that would otherwise stall the
event loop, and with it /healthz and every other request.

Each build runs on its own event loop and Redis connection in a thread. One that outlives its
budget is answered with a 503 but finishes (a report it builds is kept for the next reader) and
holds its slot until then, so the work under way never exceeds the number of slots.
"""

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from redis.asyncio import Redis

from monitor.connection import connect

T = TypeVar("T")
Work = Callable[[Redis], Awaitable[T]]


class OverBudget(Exception):
    """The build did not finish in the request's budget; the message says what to do."""


SWITCH_S = 0.0005  # how long a build thread may hold the GIL while the event loop waits for it


class Builds:
    def __init__(self, redis_url: str, slots: int, budget_s: float) -> None:
        # Python's default (5 ms) makes each of a request's turns on the loop wait for a build
        # thread that long: /healthz took some 200 ms while two builds ran, 1 s at worst.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_S))
        self.redis_url, self.budget_s = redis_url, budget_s
        self._slots = asyncio.Semaphore(slots)
        self._threads = ThreadPoolExecutor(slots, thread_name_prefix="api-build")

    async def run(self, work: Work[T]) -> T:
        """``work(redis)`` on a worker thread; OverBudget when it cannot finish in time."""
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.budget_s):
                await self._slots.acquire()
        except TimeoutError:
            raise OverBudget(
                f"the server is busy: no build slot came free in {self.budget_s:g} s"
            ) from None
        running = asyncio.get_running_loop().run_in_executor(
            self._threads, _on_own_loop, self.redis_url, work
        )
        running.add_done_callback(lambda _: self._slots.release())
        try:
            async with asyncio.timeout(self.budget_s - (time.monotonic() - started)):
                return await asyncio.shield(running)
        except TimeoutError:
            hint = "ask again later, or for a shorter window"
            raise OverBudget(f"not built within {self.budget_s:g} s; {hint}") from None

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)


def _on_own_loop(redis_url: str, work: Work[T]) -> T:
    async def main() -> T:
        redis = connect(redis_url)
        try:
            return await work(redis)
        finally:
            await redis.aclose()

    return asyncio.run(main())
