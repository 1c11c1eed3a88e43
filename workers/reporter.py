"""The reporter role: rebuilds each watched tag's standing reports after its state changes.

Builds run in a child process, because a report over a large tag is seconds of CPU that would
otherwise stall the aggregators, collectors and API sharing this process's event loop.
"""

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

from monitor import keys, watchlist
from monitor.connection import connect
from monitor.reports import ready
from workers.role import Role
from workers.serve import settle

log = logging.getLogger(__name__)

CLAIM_S = 600  # a reporter that dies mid-build holds its claim this long


def _build(url: str, tag: str, params: ready.Params) -> None:
    """Runs in the child process: build one report and keep it."""

    async def main() -> None:
        redis = connect(url)
        try:
            await ready.refresh(redis, tag, params)
        finally:
            await redis.aclose()

    asyncio.run(main())


def _start_child(parent: int) -> None:
    """The build process's start: settled (it has imported all that builds use), and watching
    its parent, whose pool cannot end it when the daemon is killed outright (SIGKILL, OOM):
    it would wait for work forever."""
    settle()
    threading.Thread(target=_exit_without, args=(parent,), name="parent", daemon=True).start()


def _exit_without(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


class Reporter(Role):
    role = "reporter"
    _pool: ProcessPoolExecutor | None = None

    async def prepare(self) -> None:
        if not self.settings.redis_url:
            raise ValueError("the reporter needs the Redis URL in its settings")
        if self._pool is None:
            spawn = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=spawn, initializer=_start_child, initargs=(os.getpid(),)
            )

    async def step(self) -> int:
        built = 0
        for tag in sorted(await watchlist.watched(self.redis)):
            built += await self._refresh(tag)
            if self.stopping.is_set():
                break
        await self.beat()
        if not built:
            await self._sleep(self.settings.report_refresh_s)
        return built

    async def _refresh(self, tag: str) -> int:
        revision = await ready.revision(self.redis, tag)
        wanted = await ready.stale(self.redis, tag)
        if revision is None or not wanted:
            return 0
        claim = keys.report_claim(tag, revision)
        if not await self.redis.set(claim, self.name, nx=True, ex=CLAIM_S):
            return 0
        loop, url = asyncio.get_running_loop(), str(self.settings.redis_url)
        try:
            for params in wanted:
                await loop.run_in_executor(self._pool, _build, url, tag, params)
        except Exception as exc:  # one tag's report must not stop the daemon's other roles
            log.exception("reports of #%s not rebuilt", tag)
            self.note_error(f"#{tag}: report not rebuilt: {type(exc).__name__}: {exc}")
            return 0
        log.info("reports of #%s rebuilt at revision %s", tag, revision.decode())
        return len(wanted)

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        await super().close()
