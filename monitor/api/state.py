"""What every handler reaches through its application: Redis, the settings, the build slots."""

from collections.abc import Awaitable, Callable

from aiohttp import web
from redis.asyncio import Redis

from monitor.api.builds import Builds
from monitor.settings import Settings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

REDIS = web.AppKey("redis", Redis)
SETTINGS = web.AppKey("settings", Settings)
BUILDS = web.AppKey("builds", Builds)


def redis(request: web.Request) -> Redis:
    return request.app[REDIS]


def settings(request: web.Request) -> Settings:
    return request.app[SETTINGS]


def builds(request: web.Request) -> Builds:
    return request.app[BUILDS]
