"""Runs roles until a signal: the first SIGINT/SIGTERM drains, a second one cancels."""

import asyncio
import gc
import logging
import signal
from collections.abc import Sequence

from monitor import sdnotify
from workers.role import Role

log = logging.getLogger(__name__)

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Stopper:
    """Turns signals into a drain, then into cancellation."""

    def __init__(self, roles: Sequence[Role], runs: list["asyncio.Task[None]"], grace_s: float):
        self.roles, self.runs, self.grace_s = roles, runs, grace_s

    def drain(self) -> None:
        if not any(role.stopping.is_set() for role in self.roles):
            sdnotify.notify("STOPPING=1")
        for role in self.roles:
            role.stopping.set()

    def cancel(self) -> None:
        for run in self.runs:
            run.cancel()

    def on_signal(self, sig: signal.Signals) -> None:
        if any(role.stopping.is_set() for role in self.roles):
            self.cancel()
            return
        log.info("%s, draining (grace %.0fs)", sig.name, self.grace_s)
        self.drain()
        asyncio.get_running_loop().call_later(self.grace_s, self.cancel)


async def _tell_systemd(roles: Sequence[Role]) -> None:
    """READY=1 once every role is prepared, then WATCHDOG=1 while the event loop turns."""
    await asyncio.gather(*(role.prepared.wait() for role in roles))
    sdnotify.notify("READY=1")
    log.info("ready: %s", ", ".join(role.name for role in roles))
    if (every := sdnotify.watchdog_interval_s()) is None:
        return
    while True:
        sdnotify.notify("WATCHDOG=1")
        await asyncio.sleep(every)


def settle() -> None:
    """Move every object alive now, the imported modules' above all, out of the garbage
    collector's sight (gc.freeze): they live as long as the process, and each full collection
    walked them all, about 30 ms every few report builds."""
    gc.freeze()


async def serve(roles: Sequence[Role], grace_s: float) -> None:
    """Run every role until all have stopped; a crash in one stops the others and is re-raised."""
    settle()  # the roles are made
    loop = asyncio.get_running_loop()
    runs = [asyncio.create_task(role.run(), name=role.name) for role in roles]
    systemd = asyncio.create_task(_tell_systemd(roles))
    stopper = _Stopper(roles, runs, grace_s)
    for sig in HANDLED_SIGNALS:
        loop.add_signal_handler(sig, stopper.on_signal, sig)
    try:
        await asyncio.wait(runs, return_when=asyncio.FIRST_EXCEPTION)
        stopper.drain()  # one role crashed, or all finished: the others drain too
        await asyncio.wait(runs)
    finally:
        systemd.cancel()
        for sig in HANDLED_SIGNALS:
            loop.remove_signal_handler(sig)
        stopper.cancel()  # no-op unless serve() itself was cancelled
        await asyncio.wait(runs)
        for role in roles:
            await role.close()
    for run in runs:
        if not run.cancelled():
            run.result()  # re-raise a crash with its traceback
