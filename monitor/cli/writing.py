"""`-o FILE` (or stdout) for the commands that write files: where it goes is monitor.outfile's
rule, and a write error is one line naming the path and the reason, never a traceback."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from monitor import outfile
from monitor.cli import consoles
from monitor.cli.common import fail

STDOUT = Path(outfile.STDOUT)


def target(output: Path | None) -> Path:
    """No -o means stdout, as does `-o -`."""
    return STDOUT if output is None else output


@contextlib.contextmanager
def reported(path: Path) -> Iterator[None]:
    """An OSError while writing `path` becomes 'error: cannot write PATH: REASON', exit 2."""
    whole = False
    try:
        whole = outfile.replaces(path)
        yield
    except OSError as exc:
        if outfile.is_stdout(path) and exc.errno == errno.EPIPE:
            _drop_stdout()
        name = "stdout" if outfile.is_stdout(path) else str(path)
        kept = "; nothing was written" if whole else ""
        fail(f"cannot write {name}: {exc.strerror or exc}{kept}")


@contextlib.contextmanager
def text_to(output: Path | None) -> Iterator[TextIO]:
    path = target(output)
    with reported(path), outfile.text(path) as stream:
        yield stream


@contextlib.contextmanager
def binary_to(output: Path | None) -> Iterator[BinaryIO]:
    path = target(output)
    with reported(path), outfile.binary(path) as stream:
        yield stream


def write_text(output: Path | None, rendered: str) -> None:
    with text_to(output) as stream:
        stream.write(rendered)
    wrote(output)


def wrote(output: Path | None, what: str = "") -> None:
    """Say on stderr what went to a file (nothing when it went to stdout)."""
    if output is not None and not outfile.is_stdout(output):
        consoles.err.print(f"wrote {what}{' to ' if what else ''}{output}", markup=False)


def _drop_stdout() -> None:
    """Once the reader of stdout is gone, point it at /dev/null, so that Python's own flush
    at exit does not fail a second time with a traceback."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
