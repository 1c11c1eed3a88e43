"""Files written whole or not at all: a full disk, an error or a crash mid-way leaves the
previous file (or none) in place, never a truncated one a reader would take for complete."""

import contextlib
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target`` to write to; it becomes ``target`` when the block
    ends without an error, and is removed otherwise."""
    partial = target.with_name(f".{target.name}.partial")
    try:
        yield partial
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
