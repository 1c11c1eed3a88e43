"""The application: routes, shared state, and errors as JSON naming what was wrong."""

import logging
from collections.abc import AsyncIterator

import orjson
from aiohttp import web
from redis.asyncio import Redis

from monitor import hashtags, sources, timewindow, watchlist
from monitor.api import (
    guard,
    routes_health,
    routes_network,
    routes_pages,
    routes_reports,
    routes_watch,
)
from monitor.api.builds import Builds, OverBudget
from monitor.api.state import BUILDS, REDIS, SETTINGS, Handler
from monitor.reports.build import NoData
from monitor.reports.summary import EmptyList
from monitor.settings import Settings

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # bytes: a write names a few tags, a form one

_BAD_INPUT: dict[type[Exception], str] = {
    hashtags.InvalidTag: "tag",
    watchlist.InvalidListName: "list",
    timewindow.InvalidWindow: "since/until",
    sources.InvalidSource: "source",
}


def make_app(redis: Redis, settings: Settings) -> web.Application:
    app = web.Application(middlewares=[guard.check_host, _errors], client_max_size=MAX_BODY)
    app[REDIS], app[SETTINGS] = redis, settings
    for module in (routes_watch, routes_reports, routes_network, routes_health, routes_pages):
        app.router.add_routes(module.routes)
    app.on_response_prepare.append(guard.add_headers)
    app.cleanup_ctx.append(_builds)
    return app


async def _builds(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if not settings.redis_url:
        raise ValueError("the API needs the Redis URL in its settings")
    app[BUILDS] = Builds(settings.redis_url, settings.api_builds, settings.api_budget_s)
    yield
    app[BUILDS].close()


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bad input is a 4xx with ``{"error": ..., "field": ...}``; nothing to show is a 404; a build
    over its budget a 503; never a traceback."""
    try:
        return await handler(request)
    except web.HTTPMethodNotAllowed as exc:
        allowed = ", ".join(sorted({*exc.allowed_methods, "OPTIONS"}))
        if request.method == "OPTIONS":
            return web.Response(status=204, headers={"Allow": allowed})
        return _json({"error": f"{request.method} is not allowed here"}, 405, {"Allow": allowed})
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type in ("application/json", "text/html"):
            raise  # redirects, and errors that already say what went wrong
        return _json({"error": exc.reason}, exc.status)
    except (NoData, EmptyList) as exc:
        return _json({"error": str(exc)}, 404)
    except OverBudget as exc:
        return _json({"error": str(exc), "field": "since/until"}, 503, {"Retry-After": "10"})
    except tuple(_BAD_INPUT) as exc:
        field = next(name for kind, name in _BAD_INPUT.items() if isinstance(exc, kind))
        return _json({"error": str(exc), "field": field}, 400)


def _json(body: dict[str, str], status: int, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=orjson.dumps(body).decode(), status=status,
                        content_type="application/json", headers=headers)  # fmt: skip
