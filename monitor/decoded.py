"""Typed reads of decoded JSON from platforms: a field of the wrong type reads as missing."""

from typing import Any

Json = dict[str, Any]  # Any: decoded JSON; every value is type-checked where it is read


def obj(value: object, key: str) -> Json:
    """The object under ``key``, or {} when it is missing or not an object."""
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else {}


def objs(value: object, key: str) -> list[Json]:
    """The objects of the list under ``key``; other items and a non-list read as none."""
    found = value.get(key) if isinstance(value, dict) else None
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def string(value: object, key: str) -> str | None:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def integer(value: object, key: str) -> int | None:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def items(value: object, key: str) -> list[object]:
    """The list under ``key``, or [] when it is missing or not a list."""
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, list) else []
