"""What every response carries and every request must show, whatever route answers it.

Headers: no sniffing, no referrer, no framing, and a strict default CSP on anything that has none
of its own (JSON and error pages too). Host: an API on loopback answers only to loopback names
and the configured ones, so a page on another site whose name was rebound to 127.0.0.1 cannot
read it (DNS rebinding); an API bound elsewhere checks the Host only when names are configured.
"""

import ipaddress

import orjson
from aiohttp import web

from monitor.api import state
from monitor.api.state import Handler

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "127.0.0.1", "::1"})


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: runs for every response, errors and redirects included."""
    response.headers.update(HEADERS)
    response.headers.setdefault("Content-Security-Policy", DEFAULT_CSP)


@web.middleware
async def check_host(request: web.Request, handler: Handler) -> web.StreamResponse:
    allowed = _allowed(request)
    host = (request.url.host or "").lower()
    if allowed is not None and host not in allowed:
        hint = "set HASHMON_API_ALLOWED_HOSTS to serve it"
        body = {"error": f"host {host[:60]!r} is not served here: {hint}", "field": "Host"}
        return web.Response(
            text=orjson.dumps(body).decode(), status=400, content_type="application/json"
        )
    return await handler(request)


def _allowed(request: web.Request) -> frozenset[str] | None:
    """The names served, or None when any is (bound beyond loopback, none configured)."""
    settings = state.settings(request)
    if settings.api_allowed_hosts:
        return frozenset(settings.api_allowed_hosts)
    bound = settings.api_host.lower().strip("[]")
    return LOOPBACK_NAMES | {bound} if _is_loopback(bound) else None


def _is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
