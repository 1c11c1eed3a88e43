"""Writes need the configured bearer token; with none configured, writes are refused, not open."""

import hmac

import orjson
from aiohttp import web

from monitor.api import state


def require_token(request: web.Request) -> None:
    token = state.settings(request).api_token
    if token is None:
        raise _json_error(web.HTTPForbidden, "writes are disabled: set HASHMON_API_TOKEN")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise _json_error(web.HTTPUnauthorized, "a valid bearer token is needed to write")


def _json_error(kind: type[web.HTTPException], message: str) -> web.HTTPException:
    return kind(text=orjson.dumps({"error": message}).decode(), content_type="application/json")
