"""SIGUSR1 prints what a hashmon process is doing, for one that seems stuck: the stack of each
of its asyncio tasks and of each of its threads, on stderr. It goes on running."""

import asyncio
import faulthandler
import signal
import sys


def on_request() -> None:
    """From now on, in the running event loop."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, dump, loop)


def dump(loop: asyncio.AbstractEventLoop) -> None:
    tasks = sorted(asyncio.all_tasks(loop), key=lambda task: task.get_name())
    sys.stderr.write(f"hashmon: {len(tasks)} tasks, then the threads\n")
    for task in tasks:
        task.print_stack(file=sys.stderr)
    sys.stderr.flush()
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
