"""One source's HTTP: throttled at the platform's published rate, obedient to its rate-limit
headers, retrying what is transient and quarantining what is malformed."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp
import orjson
from asyncio_throttle.throttler import Throttler

from monitor import decoded, sources
from monitor.platforms import ratelimit
from monitor.settings import Settings
from monitor.sources import Source
from workers.role import backoff

log = logging.getLogger(__name__)

MAX_RATE_LIMITED = 20  # 429s in a row before a request is given up (each one is waited out)


class FetchError(Exception):
    """A request that failed for good: refused (4xx), or still failing after every retry."""


class Unreachable(FetchError):
    """The source's server cannot be reached: the source's other requests wait for the next pass,
    so an outage gives one warning per backoff, not one per retry of every tag."""


class Malformed(Exception):
    """A response that arrived but cannot be read; kept with its raw bytes for dead letters."""

    def __init__(self, reason: str, raw: bytes) -> None:
        super().__init__(reason)
        self.raw = raw


class Stopped(Exception):
    """The collector was asked to stop while this request waited."""


@dataclass(frozen=True)
class Page:
    """A response: decoded JSON (``get_json``) or None, and the Link header's targets by rel."""

    body: object
    raw: bytes
    links: dict[str, str]
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


class Client:
    """Requests to one source; ``stopping`` cuts every wait short (then Stopped is raised)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        source: Source,
        settings: Settings,
        stopping: asyncio.Event,
    ) -> None:
        self.session, self.source, self.settings, self.stopping = (
            session,
            source,
            settings,
            stopping,
        )
        self.throttle = Throttler(rate_limit=source.rate, period=source.period_s)
        self.read_limit = ratelimit.READERS.get(source.platform, ratelimit.unsaid)
        self.not_before = 0.0  # monotonic time the platform's window reopens, when it said so
        self.unreached = 0  # connection failures in a row, over every request to the source
        self.bearer = source.token() if sources.KINDS[source.platform].bearer else None

    async def get_json(self, url: str, params: Mapping[str, str] | None = None) -> Page:
        """GET and decode JSON."""
        page = await self.fetch(url, params)
        return Page(_decode(page.raw), page.raw, page.links, page.status, page.headers)

    async def fetch(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        form: Mapping[str, str] | None = None,
        json_body: object = None,
    ) -> Page:
        """GET (POST with ``form`` or ``json_body``) a 2xx or 304 response; 429 waits for the
        window, 5xx and network errors back off and retry, other 4xx raise FetchError; a server
        not reached after ``http_attempts`` tries in a row raises Unreachable, and once it has,
        the next failure does at once (until a response arrives)."""
        failures = limited = 0
        while True:
            await self._wait(self.not_before - time.monotonic())
            await self._throttled()
            try:
                status, headers_in, raw, links = await self._request(
                    url, params, headers, form, json_body
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                await self._unreached(f"{type(exc).__name__}: {exc}".strip().rstrip(":"))
                continue
            self.unreached = 0
            self._learn(headers_in)
            if status == 200 and self.source.platform == "reddit":
                status = _status_in_body(raw) or status  # Reddit sends some 429s as 200s
            if status == 429 and b"usage-capped" in raw:  # X's monthly cap: waiting won't help
                raise FetchError(f"HTTP 429: usage cap reached: {_error_message(raw)}")
            if status == 429:
                limited += 1
                if limited > MAX_RATE_LIMITED:
                    raise FetchError(f"HTTP 429 {MAX_RATE_LIMITED} times in a row")
                wait = self._rate_limited_wait(headers_in, limited)
                log.warning("%s: HTTP 429, waiting %.1fs", self.source.name, wait)
                self.not_before = max(self.not_before, time.monotonic() + wait)
                continue
            if status >= 500:
                failures += 1
                await self._retry(failures, f"{self.source.name}: HTTP {status}")
                continue
            if status >= 400:
                raise FetchError(f"HTTP {status}: {_error_message(raw)}")
            return Page(None, raw, links, status, headers_in)

    async def _throttled(self) -> None:
        """Take a slot of the published rate; a stop request ends the wait."""
        acquire = asyncio.ensure_future(self.throttle.acquire())  # type: ignore[no-untyped-call]  # the library has no annotations
        stop = asyncio.ensure_future(self.stopping.wait())
        done, _ = await asyncio.wait({acquire, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if acquire not in done:
            acquire.cancel()
            raise Stopped

    async def _request(
        self,
        url: str,
        params: Mapping[str, str] | None,
        extra: Mapping[str, str] | None,
        form: Mapping[str, str] | None,
        json_body: object,
    ) -> tuple[int, Mapping[str, str], bytes, dict[str, str]]:
        headers = {"Accept": "application/json"}
        if self.bearer:
            headers["Authorization"] = f"Bearer {self.bearer}"
        headers.update(extra or {})
        method = "GET" if form is None and json_body is None else "POST"
        async with self.session.request(
            method, url, params=params, headers=headers, data=form, json=json_body
        ) as response:
            raw = await response.read()
            links = {
                str(rel): str(link["url"]) for rel, link in response.links.items() if "url" in link
            }
            return response.status, response.headers, raw, links

    def _learn(self, headers: Mapping[str, str]) -> None:
        """An exhausted window (remaining 0) is waited out before the next request."""
        limit = self.read_limit(headers)
        if limit.remaining == 0 and limit.reset_s is not None:
            self.not_before = max(self.not_before, time.monotonic() + limit.reset_s)

    def _rate_limited_wait(self, headers: Mapping[str, str], attempt: int) -> float:
        told = ratelimit.retry_after(headers) or self.read_limit(headers).reset_s or 0.0
        return max(told, backoff(attempt, base=self.settings.http_backoff_s, cap=60.0))

    async def _unreached(self, reason: str) -> None:
        """One warning per backoff of the source, whichever of its requests failed."""
        self.unreached += 1
        if self.unreached >= self.settings.http_attempts:
            times = f"{self.unreached} time{'' if self.unreached == 1 else 's'}"
            raise Unreachable(f"unreachable: {reason} (failed {times} in a row)")
        delay = backoff(self.unreached, base=self.settings.http_backoff_s, cap=300.0)
        log.warning("%s: %s, retrying in %.1fs", self.source.name, reason, delay)
        await self._wait(delay)

    async def _retry(self, failures: int, what: str) -> None:
        if failures >= self.settings.http_attempts:
            raise FetchError(f"{what} (gave up after {failures} attempts)")
        delay = backoff(failures, base=self.settings.http_backoff_s, cap=300.0)
        log.warning("%s, retrying in %.1fs", what, delay)
        await self._wait(delay)

    async def _wait(self, seconds: float) -> None:
        if self.stopping.is_set():
            raise Stopped
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        if self.stopping.is_set():
            raise Stopped


def _decode(raw: bytes) -> object:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        shape = "an HTML page" if raw.lstrip()[:1] == b"<" else "invalid JSON"
        cut = " (truncated?)" if str(exc).startswith("unexpected end of data") else ""
        raise Malformed(f"{shape} instead of a JSON body{cut}", raw) from None


def _error_message(raw: bytes) -> str:
    """The platform's own error text when it sent JSON, else the start of the body."""
    with contextlib.suppress(orjson.JSONDecodeError):
        body = orjson.loads(raw)
        for key in ("error", "message", "detail", "title"):
            if message := decoded.string(body, key):
                return " ".join(message.split())[:200]
    return " ".join(raw[:120].decode(errors="replace").split()) or "empty body"


def _status_in_body(raw: bytes) -> int | None:
    """An error status a short JSON body gives as ``{"error": 429, "message": ...}``."""
    if len(raw) > 512 or not raw.lstrip().startswith(b"{"):
        return None
    with contextlib.suppress(orjson.JSONDecodeError):
        status = decoded.integer(orjson.loads(raw), "error")
        return status if status is not None and status >= 400 else None
    return None
