"""Archive files a user names: refused up front when unusable, then read line by line.

A file is refused as a whole (``ImportFileError``) only for what makes every line useless: it is
missing, not a regular file, empty, binary, a JSON document spread over several lines, or of a
format that cannot be told. After that a bad line never stops the import: it becomes a rejected
``Line`` with a one-line reason, and the lines after it are still read.
"""

import codecs
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, NamedTuple, TypeVar, get_args

import orjson

from monitor.importers import canonical, twarc2
from monitor.models import Post

Format = Literal["auto", "twarc2", "jsonl"]
Resolved = Literal["twarc2", "jsonl"]

SNIFF_BYTES = 64 * 1024
_BOM = codecs.BOM_UTF8
_GZIP = b"\x1f\x8b"
_HINT = "give --format twarc2 or --format jsonl"
T = TypeVar("T")


class ImportFileError(Exception):
    """A file that cannot be imported at all; the message names the file and the problem."""


class Line(NamedTuple):
    """The result of one non-blank line: its posts, or the reason it was rejected."""

    number: int
    posts: list[Post]
    error: str | None = None


@dataclass(frozen=True)
class Archive:
    """A checked file and its resolved format; ``lines()`` streams it, so size is no limit."""

    path: Path
    format: Resolved
    size: int

    def lines(self) -> Iterator[tuple[Line, int]]:
        """Each non-blank line's result with the byte offset reached, for a progress bar."""
        parse = _PARSERS[self.format]
        offset = 0
        try:
            with self.path.open("rb") as file:
                for number, raw in enumerate(file, start=1):
                    offset += len(raw)
                    body = raw.removeprefix(_BOM) if number == 1 else raw
                    if body.strip():
                        yield _line(number, body, parse), offset
        except OSError as error:
            raise ImportFileError(f"{_shown(self.path)}: read failed: {error.strerror}") from None


def open_archive(path: Path, fmt: Format) -> Archive:
    """Check the file and settle its format before anything is read for import."""
    if fmt not in get_args(Format):
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(get_args(Format))}")
    size = _regular_size(path)
    _refuse_binary(path)
    number, first = _first_line(path)
    if first.strip() in (b"[", b"{"):
        raise ImportFileError(
            f"{_shown(path)}: a JSON document over several lines, not JSON Lines (one per line)"
        )
    resolved = _sniff(path, number, first) if fmt == "auto" else fmt
    return Archive(path, resolved, size)


def _regular_size(path: Path) -> int:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImportFileError(f"{_shown(path)}: no such file") from None
    except OSError as error:
        raise ImportFileError(f"{_shown(path)}: {error.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ImportFileError(f"{_shown(path)}: is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise ImportFileError(f"{_shown(path)}: not a regular file")
    return info.st_size


def _refuse_binary(path: Path) -> None:
    """A NUL byte or invalid UTF-8 near the start means this is no text file at all."""
    head = _read(path, lambda file: file.read(SNIFF_BYTES))
    if head.startswith(_GZIP):
        raise ImportFileError(f"{_shown(path)}: compressed (gzip); decompress it first")
    if b"\0" in head:
        raise ImportFileError(f"{_shown(path)}: binary file (NUL byte in the first 64 KiB)")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError:
        raise ImportFileError(f"{_shown(path)}: not UTF-8 text (in the first 64 KiB)") from None


def _first_line(path: Path) -> tuple[int, bytes]:
    """The first non-blank line and its number; an empty or all-blank file is refused."""

    def scan(file: BinaryIO) -> tuple[int, bytes] | None:
        for number, raw in enumerate(file, start=1):
            body = raw.removeprefix(_BOM) if number == 1 else raw
            if body.strip():
                return number, body
        return None

    found = _read(path, scan)
    if found is None:
        raise ImportFileError(f"{_shown(path)}: empty file")
    return found


def _sniff(path: Path, number: int, first: bytes) -> Resolved:
    try:
        obj = orjson.loads(first)
    except orjson.JSONDecodeError:
        raise ImportFileError(
            f"{_shown(path)}: cannot tell the format: line {number} is not JSON; {_HINT}"
        ) from None
    if canonical.looks_like(obj):
        return "jsonl"
    if twarc2.looks_like(obj):
        return "twarc2"
    raise ImportFileError(
        f"{_shown(path)}: cannot tell the format: line {number} is neither a twarc2 page "
        f"or tweet nor a post; {_HINT}"
    )


def _read(path: Path, use: Callable[[BinaryIO], T]) -> T:
    try:
        with path.open("rb") as file:
            return use(file)
    except OSError as error:
        raise ImportFileError(f"{_shown(path)}: {error.strerror}") from None


def _line(number: int, raw: bytes, parse: Callable[[bytes], list[Post]]) -> Line:
    try:
        return Line(number, parse(raw))
    except ValueError as error:
        reason = " ".join(str(error).split())[:200]
        return Line(number, [], f"line {number}: {reason}")


def _parse_twarc2(raw: bytes) -> list[Post]:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ValueError(_json_reason(error)) from None
    return twarc2.parse_line(obj)


def _parse_jsonl(raw: bytes) -> list[Post]:
    return [canonical.parse_line(raw)]


def _json_reason(error: orjson.JSONDecodeError) -> str:
    if error.msg.startswith("unexpected end of data"):
        return "invalid JSON (truncated?)"
    if "UTF-8" in error.msg:
        return "not UTF-8 text"
    return f"invalid JSON: {error.msg} at column {error.colno}"


_PARSERS: dict[Resolved, Callable[[bytes], list[Post]]] = {
    "twarc2": _parse_twarc2,
    "jsonl": _parse_jsonl,
}


def _shown(path: Path) -> str:
    """The path as printed in a message: control characters escaped, so it stays one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(path))
