"""Faults the daemon lives through: its Redis killed in the middle of a run (AOF on) and back
after a moment or after 30 s. Collectors and aggregators keep retrying, and the final report
equals the one of an undisturbed run: nothing lost, nothing counted twice."""

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as sync_redis

from monitor import keys
from monitor.embedded import server_binary
from tests.fakes import mastodon as fake
from tests.fakes.threaded import serving
from tests.processes import environment, hashmon, wait_for
from tests.test_collect_restart import PAGES, TAG, finish, report, run, timeline_requests


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
