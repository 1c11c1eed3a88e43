"""The application: routes, shared state, and errors as JSON naming what was wrong."""

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from redis.asyncio import Redis

from monitor import hashtags, sources, timewindow, watchlist
from monitor.api import routes_health, routes_network, routes_pages, routes_reports, routes_watch
from monitor.api.state import REDIS, SETTINGS
from monitor.reports.build import NoData
from monitor.reports.summary import EmptyList
from monitor.settings import Settings

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_BAD_INPUT: dict[type[Exception], str] = {
    hashtags.InvalidTag: "tag",
    watchlist.InvalidListName: "list",
    timewindow.InvalidWindow: "since/until",
    sources.InvalidSource: "source",
}


def make_app(redis: Redis, settings: Settings) -> web.Application:
    app = web.Application(middlewares=[_errors])
    app[REDIS], app[SETTINGS] = redis, settings
    for module in (routes_watch, routes_reports, routes_network, routes_health, routes_pages):
        app.router.add_routes(module.routes)
    return app


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bad input is a 4xx with ``{"error": ..., "field": ...}``; nothing to show is a 404."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type in ("application/json", "text/html"):
            raise  # redirects, and errors that already say what went wrong
        return web.json_response({"error": exc.reason}, status=exc.status)
    except (NoData, EmptyList) as exc:
        return web.json_response({"error": str(exc)}, status=404)
    except tuple(_BAD_INPUT) as exc:
        field = next(name for kind, name in _BAD_INPUT.items() if isinstance(exc, kind))
        return web.json_response({"error": str(exc), "field": field}, status=400)
