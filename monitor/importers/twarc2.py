"""twarc2 output files: raw search pages, stream objects or flattened tweets, one per line.

``twarc2 search|searches`` writes one raw API page per line (``data`` list, ``includes``, ``meta``,
``__twarc``); ``twarc2 stream`` one stream object (``data`` is one tweet, ``matching_rules``);
``twarc2 flatten`` one tweet with its expansions inlined. Error-only lines (a stream disconnect,
a page of errors) carry no tweets. Duplicates across pages are kept: dedupe happens downstream.
"""

from typing import Literal

from monitor import xv2
from monitor.models import Post

NOT_TWARC2 = "not a twarc2 page or tweet"

Shape = Literal["page", "flat", "errors"]


def parse_line(obj: object) -> list[Post]:
    """The posts in one decoded line; ValueError for a line that is no twarc2 output."""
    shape = _shape(obj)
    if shape is None or not isinstance(obj, dict):
        raise ValueError(NOT_TWARC2)
    if shape == "page":
        return xv2.posts_from_page(obj)
    if shape == "flat":
        return [xv2.post_from_flat(obj)]
    return []


def looks_like(obj: object) -> bool:
    """Whether a decoded line has the shape of twarc2 output, for format sniffing."""
    return _shape(obj) is not None


def _shape(obj: object) -> Shape | None:
    """Which kind of twarc2 line this is; a Post line (it has ``platform``) is none of them."""
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("data"), list | dict):
        return "page"
    if "data" in obj or "platform" in obj:
        return None
    if "id" in obj and "text" in obj:
        return "flat"
    if "errors" in obj:
        return "errors"
    return None
