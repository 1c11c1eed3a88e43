"""Where `-o` writes. A regular file (or a new one) is written whole or not at all, through a
temporary file renamed over it (monitor.atomic). A device, a FIFO or `-` (stdout) cannot be
replaced by a rename, so it is written directly. A symlink's target is written, the link kept."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO, cast

from monitor import atomic

STDOUT = "-"


def is_stdout(target: Path) -> bool:
    return str(target) == STDOUT


def replaces(target: Path) -> bool:
    """Whether writing to `target` goes through a rename, so that a failure leaves it as it was.

    OSError when its metadata cannot be read (a symlink loop, a folder not searchable)."""
    if is_stdout(target):
        return False
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return True  # a new file, or a dangling symlink's target
    return stat.S_ISREG(mode)


@contextlib.contextmanager
def _opened(target: Path, binary: bool) -> Iterator[IO[Any]]:
    mode, encoding, newline = ("wb", None, None) if binary else ("w", "utf-8", "")
    if is_stdout(target):
        stream: IO[Any] = sys.stdout.buffer if binary else sys.stdout
        yield stream
        stream.flush()
        return
    real = Path(os.path.realpath(target))  # a symlink's target; the link itself stays
    if not replaces(real):
        with open(real, mode, encoding=encoding, newline=newline) as stream:
            yield stream
        return
    with (
        atomic.replacing(real) as partial,
        open(partial, mode, encoding=encoding, newline=newline) as stream,
    ):
        yield stream


def binary(target: Path) -> contextlib.AbstractContextManager[BinaryIO]:
    return cast("contextlib.AbstractContextManager[BinaryIO]", _opened(target, binary=True))


def text(target: Path) -> contextlib.AbstractContextManager[TextIO]:
    """UTF-8, lines as written (CSV ends its own lines)."""
    return cast("contextlib.AbstractContextManager[TextIO]", _opened(target, binary=False))
