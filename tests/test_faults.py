"""Faults the daemon lives through: its Redis killed in the middle of a run (AOF on) and back
after a moment or after 30 s; aggregators far behind; Redis at its memory limit. Collectors and
aggregators wait and retry, and the final report equals the one of an undisturbed run: nothing
lost, nothing counted twice."""

import asyncio
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as sync_redis
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from monitor import deadletter, health, keys, sources, watchlist
from monitor.connection import connect
from monitor.embedded import server_binary
from monitor.settings import Settings
from tests.fakes import mastodon as fake
from tests.fakes.threaded import serving
from tests.processes import environment, hashmon, wait_for
from tests.test_cli import hashmon as cli
from tests.test_cli import one_error_line
from tests.test_collect_mastodon import expected, figures
from tests.test_collect_restart import PAGES, TAG, finish, report, run, timeline_requests
from workers.aggregator import Aggregator
from workers.collectors.collector import Collector


class RedisServer:
    """A redis-server of our own, in the foreground so that it can be killed, with AOF on."""

    def __init__(self, directory: Path) -> None:
        self.dir, self.socket = directory, directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir()

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [server_binary(), "--port", "0", "--unixsocket", str(self.socket), "--dir",
             str(self.dir), "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self.responds, what="redis-server")

    def responds(self) -> bool:
        try:
            with sync_redis.Redis(unix_socket_path=str(self.socket)) as client:
                return bool(client.ping())
        except (sync_redis.ConnectionError, OSError):
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def client(self) -> sync_redis.Redis:
        return sync_redis.Redis(unix_socket_path=str(self.socket))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    found = RedisServer(tmp_path / "redis")
    found.start()
    yield found
    if found.process is not None and found.process.poll() is None:
        found.process.terminate()
        found.process.wait(timeout=30)


@pytest.mark.parametrize("down_s", [1, 30], ids=["restarted", "unreachable-30s"])
def test_redis_killed_mid_run_loses_nothing(
    server: RedisServer, tmp_path: Path, down_s: int
) -> None:
    state = fake.Instance(delay_s=0.03)
    for status in fake.campaign(PAGES * 40, TAG, replies=False):
        state.add(status)
    env = environment(
        redis_url=server.url, data_dir=str(tmp_path), read_block_ms="50", heartbeat_s="0.2",
        claim_idle_ms="300", http_backoff_s="0.01", backfill_pages="1000", poll_interval_s="0.5",
        collection_lease_s="2",
    )  # fmt: skip
    with serving(state.app()) as url:
        run(env, "watch", "add", f"#{TAG}")
        run(env, "sources", "add", "mastodon", "--url", url, "--name", "home")
        run(env, "collect", "--once")
        undisturbed = report(env)

        server.client().flushall()
        state.requests.clear()
        run(env, "watch", "add", f"#{TAG}")
        run(env, "sources", "add", "mastodon", "--url", url, "--name", "home")
        daemon = hashmon("run", "--roles", "aggregator,collector", env=env)
        wait_for(lambda: len(timeline_requests(state)) >= PAGES // 3, what="a third collected")
        server.kill()
        time.sleep(down_s)
        assert daemon.poll() is None, "the daemon gave up while Redis was away"
        server.start()
        timeline = keys.timeline(TAG.lower())
        wait_for(lambda: server.client().zcard(timeline) == PAGES * 40, what="all", timeout=120)
        daemon.send_signal(signal.SIGTERM)
        finish(daemon)
    assert report(env) == undisturbed


def _instance(statuses: int) -> tuple[fake.Instance, list[fake.Json]]:
    """A fake instance holding a campaign of that many statuses on TAG."""
    state = fake.Instance()
    made = fake.campaign(statuses, TAG, replies=False)
    for status in made:
        state.add(status)
    return state, made


async def _campaign_source(redis: Redis, url: str) -> None:
    await watchlist.add(redis, "default", [TAG.lower()])
    await sources.add(redis, sources.make("mastodon", url, name="home"))


async def _held_back(redis: Redis, task: "asyncio.Task[object]", max_backlog: int) -> list[str]:
    """Once publishing has stalled: the conditions status reports, the collector still at it."""
    for _ in range(60):
        before = await redis.xlen(keys.INGEST)
        await asyncio.sleep(0.5)
        conditions = (await health.status(redis, max_backlog)).conditions
        if conditions and await redis.xlen(keys.INGEST) == before:
            assert not task.done(), "the collector returned instead of waiting"
            return conditions
    raise AssertionError("publishing was never held back")


async def test_collection_waits_for_aggregators_far_behind(
    redis: Redis, settings: Settings
) -> None:
    state, statuses = _instance(200)
    settings = settings.model_copy(
        update={"max_stream_backlog": 3, "publish_batch": 10, "backfill_pages": 100}
    )
    async with TestServer(state.app(), host="127.0.0.1") as server:
        await _campaign_source(redis, str(server.make_url("")).rstrip("/"))
        collector = Collector(redis, settings, name="c")
        collecting = asyncio.create_task(collector.collect_once())
        [condition] = await _held_back(redis, collecting, 3)
        assert condition.startswith("backpressure: the ingest stream holds 4 entries (max 3)")
        aggregator = Aggregator(redis, settings, name="a")
        aggregating = asyncio.create_task(aggregator.run())
        [done] = await collecting
        aggregator.stopping.set()
        await aggregating
        await aggregator.run_until_idle()
        await collector.close()
        await aggregator.close()
    assert done.posts == 200
    assert await figures(redis) == expected(statuses)


async def test_redis_at_its_memory_limit_holds_posts_back(
    server: RedisServer, tmp_path: Path
) -> None:
    state, statuses = _instance(400)
    settings = Settings(redis_url=server.url, data_dir=tmp_path / "data", read_block_ms=20,
                        claim_idle_ms=200, heartbeat_s=0.2, backfill_pages=100)  # fmt: skip
    redis = connect(server.url)
    collector, aggregator = Collector(redis, settings, name="c"), Aggregator(redis, settings)
    tasks: list[asyncio.Task[object]] = []
    try:
        async with TestServer(state.app(), host="127.0.0.1") as fake_server:
            await _campaign_source(redis, str(fake_server.make_url("")).rstrip("/"))
            used = int((await redis.info("memory"))["used_memory"])
            await redis.config_set("maxmemory", used + 100_000)
            collecting = asyncio.create_task(collector.collect_once())
            tasks.append(collecting)
            conditions = await _held_back(redis, collecting, settings.max_stream_backlog)
            [condition] = conditions
            assert condition.startswith("Redis is at ") and "% of its memory limit" in condition
            tasks.append(asyncio.create_task(aggregator.run()))
            await asyncio.sleep(1.0)  # it meets the same refusals: its entries stay pending
            assert await deadletter.count(redis) == 0
            await redis.config_set("maxmemory", 0)
            [done] = await collecting
            while await redis.zcard(keys.timeline(TAG.lower())) < 400:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert done.posts == 400 and await deadletter.count(redis) == 0
        assert await figures(redis) == expected(statuses)
    finally:
        aggregator.stopping.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await collector.close()
        await aggregator.close()
        await redis.aclose()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 KiB file system (tmpfs), for a disk that fills up in the middle of an export."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.usefixtures("sync_client")
def test_a_disk_that_fills_up_mid_export_leaves_the_old_file(
    cli_env: dict[str, str], small_disk: Path
) -> None:
    sample = Path(__file__).parents[1] / "seeds" / "sample-campaign.jsonl"
    assert cli(cli_env, "import", str(sample), "--tag", TAG)[0] == 0
    previous = small_disk / "posts.csv"
    previous.write_text("an earlier export\n")
    for fmt in ("csv", "jsonl"):
        code, out = cli(cli_env, "export", "posts", f"#{TAG}", "-f", fmt, "-o", str(previous))
        assert code == 2 and one_error_line(out) == (
            f"error: cannot write {previous}: No space left on device; nothing was written"
        )
        assert previous.read_text() == "an earlier export\n"
        assert [p.name for p in small_disk.iterdir()] == ["posts.csv"]  # no partial file
    code, out = cli(cli_env, "export", "volume", f"#{TAG}", "--since", "1h", "-o", str(previous))
    assert code == 0 and previous.read_text().startswith("start,posts,")
