"""Cancellation that redis-py cannot lose. Its asyncio client swallows the CancelledError of a
cancel that lands during a command, now and then (redis/redis-py#2028, #2551; about half the
cancels of a task looping on GET here), and the task runs on. The request itself stays on the
task, so a loop that is ended by cancelling it checks for that at each turn."""

import asyncio


def stop_if_asked() -> None:
    """Raise CancelledError when the current task has been cancelled, even if a library caught
    the error that the cancel raised."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
