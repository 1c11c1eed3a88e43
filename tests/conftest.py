"""Fixtures: a real Redis (HASHMON_REDIS_URL, flushed; else the project's embedded server)."""

import asyncio
import faulthandler
import os
import signal
import threading
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import redis as sync_redis
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from redis.asyncio import Redis

from monitor import keys, stacks
from monitor.api.app import make_app
from monitor.connection import COMMAND_TIMEOUT_S, connect
from monitor.embedded import EmbeddedRedis
from monitor.settings import Settings
from tests.factories import post
from tests.fakes.threaded import serving
from tests.processes import end_leftovers, ended, environment, free_port, hashmon, wait_for

TOKEN = "s3cret-token"  # the API token the api fixture's server is configured with
SHARED = Path(__file__).resolve().parents[2] / "shared"


def pytest_configure(config: pytest.Config) -> None:
    """xdist workers start with COLUMNS and LINES set to the controller's terminal; the CLI's
    consoles would take that width for good, where each test's own environment should rule."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        os.environ.pop("COLUMNS", None)
        os.environ.pop("LINES", None)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """HASHMON_REDIS_URL (a throwaway database: it is flushed), else our own embedded server.

    Parallel test processes each flush their own database: the one in the URL, plus the
    process's number."""
    if url := os.environ.get("HASHMON_REDIS_URL"):
        yield _database(url, worker_id)
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


def _database(url: str, worker_id: str) -> str:
    """The URL with its database number moved on by the xdist worker's number (gw0, gw1...)."""
    if worker_id == "master":
        return url
    step = int(worker_id.removeprefix("gw"))
    parts = urlsplit(url)
    if parts.scheme == "unix":  # unix:///path/redis.sock?db=N
        query = parse_qs(parts.query)
        query["db"] = [str(int(query.get("db", ["0"])[0]) + step)]
        return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    return urlunsplit(parts._replace(path=f"/{int(parts.path.strip('/') or 0) + step}"))


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = connect(redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
def sync_client(redis_url: str) -> Iterator["sync_redis.Redis"]:
    """For tests of commands that run their own event loop (the CLI)."""
    client = sync_redis.Redis.from_url(redis_url, socket_timeout=COMMAND_TIMEOUT_S)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def settings(redis_url: str, tmp_path: Path) -> Settings:
    return Settings(
        redis_url=redis_url,
        data_dir=tmp_path / "data",
        read_block_ms=20,
        claim_idle_ms=200,
        heartbeat_s=0.2,
        publish_batch=50,
    )


@pytest.fixture
async def api(redis: Redis, settings: Settings) -> AsyncIterator[tuple[ClientSession, str]]:
    """A client and the base URL of the HTTP API on the test Redis, writes allowed with TOKEN."""
    configured = settings.model_copy(update={"api_token": SecretStr(TOKEN)})
    async with TestServer(make_app(redis, configured), host="127.0.0.1") as server, \
            ClientSession() as client:  # fmt: skip
        yield client, str(server.make_url("")).rstrip("/")


@pytest.fixture
def cli_env(redis_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for CLI runs against the test Redis."""
    return {
        "HASHMON_REDIS_URL": redis_url,
        "HASHMON_DATA_DIR": str(tmp_path / "data"),
        "HASHMON_READ_BLOCK_MS": "20",
        "HASHMON_PUBLISH_BATCH": "50",
    }


API_DAEMON_POSTS = 600  # on one tag, by 40 accounts, over 6.6 hours


@pytest.fixture
def api_daemon(
    redis_url: str, tmp_path: Path, sync_client: sync_redis.Redis
) -> Iterator[tuple[str, int]]:
    """`hashmon run` (aggregator and API, writes with TOKEN) on a free port, with one tag's posts
    imported: its base URL and process id."""
    env = environment(redis_url=redis_url, data_dir=str(tmp_path / "data"), api_token=TOKEN,
                      read_block_ms="50", heartbeat_s="0.2")  # fmt: skip
    archive = tmp_path / "posts.jsonl"
    text = "#IRGCOutOfIraq copy {}".format
    posts = [post(f"p{n}", f"u{n % 40}", ["IRGCOutOfIraq"], at=n * 40, text=text(n % 7))
             for n in range(API_DAEMON_POSTS)]  # fmt: skip
    archive.write_text("".join(p.model_dump_json() + "\n" for p in posts))
    _, said = ended(hashmon("import", str(archive), "--tag", "irgcoutofiraq", env=env), 120)
    assert sync_client.zcard(keys.timeline("irgcoutofiraq")) == API_DAEMON_POSTS, said
    port = free_port()
    daemon = hashmon("run", "--roles", "api,aggregator", env={**env, "HASHMON_API_PORT": str(port)},
                     log=tmp_path / "run.log")  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{base}/healthz") as response:
                return bool(response.status == 200)
        except OSError:
            return False

    wait_for(healthy, timeout=60, what="the daemon's API")
    yield base, daemon.pid
    daemon.terminate()
    daemon.wait(timeout=30)


@pytest.fixture(autouse=True)
def _no_leftover_processes() -> Iterator[None]:
    yield
    end_leftovers()


@pytest.fixture(autouse=True)
def _stacks_before_the_time_limit(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that nears its time limit prints its asyncio tasks' stacks (monitor.stacks):
    the limit's own report shows threads only, and an async test's thread waits in the loop.
    SIGUSR2, as the commands a test runs in-process take SIGUSR1 for themselves."""
    marker = request.node.get_closest_marker("timeout")
    limit = float(marker.args[0] if marker else request.config.getini("timeout"))
    if limit <= 5:  # none, or too short to matter
        yield
        return
    timer = threading.Timer(limit - 5, os.kill, (os.getpid(), signal.SIGUSR2))
    timer.daemon = True
    previous = signal.signal(signal.SIGUSR2, _print_stacks)
    timer.start()
    yield
    timer.cancel()
    signal.signal(signal.SIGUSR2, previous)


def _print_stacks(signum: int, frame: object) -> None:
    try:
        stacks.dump(asyncio.get_running_loop())
    except RuntimeError:  # a test without a running loop: its threads
        faulthandler.dump_traceback(all_threads=True)


@dataclass
class Hook:
    """A webhook that answers 500 to its first ``failures`` requests, then 200."""

    url: str = ""
    failures: int = 0
    bodies: list[dict[str, object]] = field(default_factory=list)
    requests: int = 0


@pytest.fixture
def hook() -> Iterator[Hook]:
    """Served from a thread: the CLI runs its own event loop."""
    found = Hook()

    async def receive(request: web.Request) -> web.Response:
        found.requests += 1
        if found.requests <= found.failures:
            return web.Response(status=500)
        found.bodies.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    with serving(app) as base:
        found.url = f"{base}/hook"
        yield found
