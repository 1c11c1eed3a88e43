"""URLs shown to anyone who can reach the API lose what may be secret in them: the user and
password, and the query string (a feed's address may carry its key there)."""

import re
from urllib.parse import urlsplit

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]*[^\s'\"<>.,:;)]", re.IGNORECASE)
HIDDEN = "…"


def url(address: str) -> str:
    """``https://user:pw@host/feed?key=k`` -> ``https://host/feed?…``."""
    try:
        parts = urlsplit(address)
        host, port = parts.hostname or "", parts.port
    except ValueError:  # not a URL after all (a bad port, an open bracket)
        return HIDDEN
    netloc = f"[{host}]" if ":" in host else host
    netloc += f":{port}" if port is not None else ""
    query = f"?{HIDDEN}" if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}"


def urls_in(text: str) -> str:
    """Every URL in a message (an error a platform or a library wrote) with its secrets hidden."""
    return _URL.sub(lambda match: url(match.group()), text)
