"""Writes need the configured bearer token; with none configured, writes are refused, not open."""

import hmac

import orjson
from aiohttp import web
from pydantic import SecretStr

from monitor.api import state

DISABLED = "writes are disabled: set HASHMON_API_TOKEN"
_CHALLENGE = 'Bearer realm="hashmon"'


def configured(request: web.Request) -> SecretStr | None:
    """The token, unless writes are disabled: a blank one would match a blank header."""
    token = state.settings(request).api_token
    return token if token is not None and token.get_secret_value().strip() else None


def matches(token: SecretStr, given: str) -> bool:
    return hmac.compare_digest(given.encode(), token.get_secret_value().encode())


def require_token(request: web.Request) -> None:
    """``Authorization: Bearer TOKEN``, the scheme in any case (RFC 9110), the token exact."""
    token = configured(request)
    if token is None:
        raise _json_error(web.HTTPForbidden, DISABLED)
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        raise _json_error(web.HTTPUnauthorized, "a bearer token is needed to write", _CHALLENGE)
    if not matches(token, given.strip()):
        challenge = f'{_CHALLENGE}, error="invalid_token"'
        raise _json_error(web.HTTPUnauthorized, "the bearer token is not the API's", challenge)


def _json_error(
    kind: type[web.HTTPException], message: str, challenge: str | None = None
) -> web.HTTPException:
    headers = {"WWW-Authenticate": challenge} if challenge else None
    body = orjson.dumps({"error": message}).decode()
    return kind(text=body, content_type="application/json", headers=headers)
