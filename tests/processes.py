"""Running hashmon as real processes, as a user or a service manager would."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def environment(**settings: str) -> dict[str, str]:
    """This environment without any HASHMON_* variable, plus the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HASHMON_")}
    env["HASHMON_API_PORT"] = "0"  # daemons under test listen on a free port, never the default
    env.update({f"HASHMON_{k.upper()}": v for k, v in settings.items()})
    return env


def _as_in_a_terminal() -> None:
    """Background jobs start with SIGINT ignored; a user's terminal delivers it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


STARTED: list[subprocess.Popen[str]] = []  # ended by conftest after each test, if still running


def end_leftovers() -> None:
    """Kill what a failed test left running, so it cannot consume the next test's entries."""
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
        process.communicate()


def hashmon(
    *args: str, env: dict[str, str], cwd: Path | None = None, log: Path | None = None
) -> subprocess.Popen[str]:
    """``python -m monitor ARGS``; its output is piped, or appended to ``log`` for a long run
    (whose output would fill a pipe that nobody reads until the end, and stall it)."""
    output = subprocess.PIPE if log is None else log.open("a")
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", *args],
        env=env,
        cwd=cwd,
        stdout=output,
        stderr=output,
        text=True,
        preexec_fn=_as_in_a_terminal,
    )
    if log is not None:
        output.close()  # type: ignore[union-attr]  # the child has its own copy
    STARTED.append(process)
    return process


def ended(process: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """Its output once it ends. One still running after ``timeout`` is asked what it is doing
    (SIGUSR1: monitor.stacks), then killed, and the failure shows its stacks."""
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)
        time.sleep(2)
        process.kill()
        _, err = process.communicate()
        said = err[-20_000:] if err else "(its output went to its log file)"
        command = " ".join(map(str, process.args[3:]))  # type: ignore[index]  # a list here
        late = f"hashmon {command}: still running after {timeout:.0f} s"
        raise AssertionError(f"{late}\n{said}") from None


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def free_port() -> int:
    """A local port free now: bound, then closed (also: one where a connection is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
