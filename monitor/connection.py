"""One way to reach Redis, with redis-py's own retries for passing faults."""

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError, TimeoutError


def connect(url: str) -> Redis:
    """A client for redis://, rediss:// or unix:// URLs; replies stay bytes (post ids are text)."""
    return Redis.from_url(
        url,
        retry=Retry(ExponentialWithJitterBackoff(cap=5, base=0.05), 5),
        retry_on_error=[ConnectionError, TimeoutError],
        health_check_interval=30,
    )


def text(value: bytes | str) -> str:
    """A reply as text: our clients return bytes, redis-py's types allow str too."""
    return value.decode() if isinstance(value, bytes) else value
