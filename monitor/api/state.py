"""What every handler reaches through its application: the Redis client and the settings."""

from aiohttp import web
from redis.asyncio import Redis

from monitor.settings import Settings

REDIS = web.AppKey("redis", Redis)
SETTINGS = web.AppKey("settings", Settings)


def redis(request: web.Request) -> Redis:
    return request.app[REDIS]


def settings(request: web.Request) -> Settings:
    return request.app[SETTINGS]
