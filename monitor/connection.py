"""One way to reach Redis, with redis-py's own retries for passing faults."""

import asyncio
from collections.abc import Sequence
from typing import Any, cast

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import (
    ConnectionError,
    OutOfMemoryError,
    ReadOnlyError,
    ResponseError,
    TimeoutError,
)

CLUSTER_SCHEME = "redis+cluster://"
# A reply may take seconds (an apply script over a dense batch, a large report's reads); the
# time limit only has to notice a peer that is gone. redis-py's own default is 5 s.
COMMAND_TIMEOUT_S = 120


def connect(url: str) -> Redis:
    """A client for redis://, rediss:// or unix:// URLs, or for a Redis Cluster through any of
    its nodes (redis+cluster://host:port); replies stay bytes (post ids are text)."""
    if url.startswith(CLUSTER_SCHEME):
        cluster = RedisCluster.from_url(
            "redis://" + url.removeprefix(CLUSTER_SCHEME),
            retry=Retry(ExponentialWithJitterBackoff(cap=5, base=0.05), 5),
            socket_timeout=COMMAND_TIMEOUT_S,
        )
        return cast(Redis, cluster)  # the commands hashmon uses have the same shape
    return Redis.from_url(
        url,
        retry=Retry(ExponentialWithJitterBackoff(cap=5, base=0.05), 5),
        retry_on_error=[ConnectionError, TimeoutError],
        health_check_interval=30,
        socket_timeout=COMMAND_TIMEOUT_S,
    )


def is_cluster(redis: Redis) -> bool:
    return isinstance(redis, RedisCluster)


def text(value: bytes | str) -> str:
    """A reply as text: our clients return bytes, redis-py's types allow str too."""
    return value.decode() if isinstance(value, bytes) else value


_TRANSIENT = ("OOM", "BUSY", "LOADING", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN")


def transient(error: ResponseError) -> bool:
    """A refusal that passes: memory limit, a busy or loading server, a failover; also when a
    script's command met it."""
    said = str(error)
    return (
        isinstance(error, OutOfMemoryError | ReadOnlyError)
        or said.startswith(_TRANSIENT)
        or any(f"-{code} " in said for code in _TRANSIENT)
    )


_SCRIPTS: dict[str, AsyncScript] = {}


def script(redis: Redis, source: str) -> AsyncScript:
    """A server-side script, registered once per process: whichever client or pipeline runs it,
    redis-py loads it on a server that lacks it."""
    if source not in _SCRIPTS:
        _SCRIPTS[source] = redis.register_script(source)
    return _SCRIPTS[source]


async def run_scripts(
    redis: Redis,
    script: AsyncScript,
    calls: Sequence[tuple[list[str], list[Any]]],  # Any: arguments of any type Redis takes
) -> list[Any]:  # Any: what each script returns
    """The script calls (keys, args) in one pipelined round trip; on a cluster, where redis-py
    pipelines no scripts, concurrently, each to the node of its keys' slot."""
    if is_cluster(redis):
        return list(await asyncio.gather(*(script(keys=k, args=a, client=redis) for k, a in calls)))
    pipe = redis.pipeline(transaction=False)
    for names, args in calls:
        await script(keys=names, args=args, client=pipe)
    return list(await pipe.execute())
