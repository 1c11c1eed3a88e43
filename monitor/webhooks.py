"""POSTing to a webhook: passing failures retried, the outcome returned rather than raised.

A connection error, a timeout, a 5xx or a 429 is retried after a doubling delay; any other 4xx
is final. Alerts and digests both deliver this way.
"""

import asyncio
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    attempts: int
    status: int | None
    error: str | None


async def post(
    session: aiohttp.ClientSession, url: str, body: bytes, content_type: str,
    attempts: int = 3, backoff_s: float = 1.0,
) -> Outcome:  # fmt: skip
    status: int | None = None
    error: str | None = None
    tried = 0
    for tried in range(1, attempts + 1):
        try:
            posting = session.post(url, data=body, headers={"Content-Type": content_type})
            async with posting as response:
                status, error = response.status, None
                if response.status < 400:
                    break
                error = f"HTTP {response.status}"
                if response.status < 500 and response.status != 429:
                    break
        except (aiohttp.ClientError, TimeoutError) as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"[:200]
        if tried < attempts:
            await asyncio.sleep(backoff_s * 2 ** (tried - 1))
    return Outcome(error is None, tried, status, error)
