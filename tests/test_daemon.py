"""hashmon run and the embedded Redis as real processes: signals, watchlist changes, no orphans."""

import asyncio
import json
import signal
import socket
from pathlib import Path

import psutil
import redis as sync_redis

from monitor import keys, queue
from monitor.cli.daemon import ROLES
from monitor.connection import connect
from monitor.reports import ready
from tests.factories import post
from tests.processes import environment, hashmon, wait_for

ROOT = Path(__file__).resolve().parents[1]


async def publish(url: str, posts: list) -> None:  # type: ignore[type-arg]  # list of Post
    redis = connect(url)
    try:
        await queue.publish(redis, posts, batch=100)
    finally:
        await redis.aclose()


def test_run_follows_watchlist_changes_and_drains_on_sigterm(
    redis_url: str, sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    env = environment(redis_url=redis_url, data_dir=str(tmp_path), read_block_ms="50",
                      heartbeat_s="0.2", report_refresh_s="0.2")  # fmt: skip
    daemon = hashmon("run", "--watchlists", str(ROOT / "seeds" / "watchlists.toml"), env=env)

    def beating() -> set[str]:
        found: list[bytes] = sync_client.keys("hashmon:heartbeat:*")  # type: ignore[assignment]
        return {key.decode().split(":")[2] for key in found}

    wait_for(lambda: beating() == set(ROLES), what="every role's heartbeat")
    assert sync_client.smembers(keys.watchlist("default")) == {
        b"irgcoutofiraq",
        b"blacklistmois",
        b"blacklistirgc",
        b"irgcterrorists",
    }
    probe = hashmon("status", "--check", "--format", "json", env=env)
    out, _ = probe.communicate(timeout=30)
    assert probe.returncode == 0
    assert [r["role"] for r in json.loads(out)["roles"]] == list(ROLES)  # each once, in order
    added = hashmon("watch", "add", "#IraqProtests", "--list", "iraq-2019", env=env)
    assert added.communicate(timeout=30)[0].startswith("iraq-2019: 1 added")
    asyncio.run(publish(redis_url, [post(str(i), f"u{i}", ["IraqProtests"]) for i in range(10)]))
    timeline = keys.timeline("iraqprotests")
    wait_for(lambda: sync_client.zcard(timeline) == 10, what="the new tag's posts")
    revision, kept = keys.revision("iraqprotests"), keys.reports("iraqprotests")

    def built() -> list[bytes]:
        return sync_client.hmget(kept, ["revision", ready.Params().field])  # type: ignore[return-value]

    wait_for(lambda: built()[0] == sync_client.get(revision), what="the reporter's report")
    report = json.loads(built()[1])
    assert (report["posts"]["total"], report["people"]) == (10, 10)

    many = [post(f"m{i}", f"u{i % 50}", ["IRGCOutOfIraq"], at=i) for i in range(20_000)]
    asyncio.run(publish(redis_url, many))
    daemon.send_signal(signal.SIGTERM)
    _, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err
    assert "draining" in err
    assert sync_client.keys(keys.heartbeat_pattern("aggregator")) == []
    probe = hashmon("status", "--check", env=env)
    _, err = probe.communicate(timeout=30)
    assert (probe.returncode, err.strip()) == (1, "error: no aggregator is running")
    done = sync_client.zcard(keys.timeline("irgcoutofiraq"))
    pending = sync_client.xpending(keys.INGEST, keys.AGGREGATORS)["pending"]
    undelivered = sync_client.xlen(keys.INGEST) > 0
    assert done == 20_000 or pending or undelivered  # finished, or left for the next run

    again = hashmon("aggregate", env=env)
    wait_for(lambda: sync_client.zcard(keys.timeline("irgcoutofiraq")) == 20_000, timeout=120,
             what="rest")  # fmt: skip
    again.send_signal(signal.SIGINT)
    again.communicate(timeout=30)
    assert again.returncode == 0


def test_sigusr1_prints_what_the_daemon_is_doing(
    redis_url: str, sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    env = environment(redis_url=redis_url, data_dir=str(tmp_path), read_block_ms="50",
                      heartbeat_s="0.2")  # fmt: skip
    log = tmp_path / "run.log"
    daemon = hashmon("run", "--roles", "aggregator", env=env, log=log)
    wait_for(lambda: bool(sync_client.keys(keys.heartbeat_pattern("aggregator"))),
             what="the aggregator's heartbeat")  # fmt: skip
    daemon.send_signal(signal.SIGUSR1)
    wait_for(lambda: "Current thread" in log.read_text(), what="the stacks")
    said = log.read_text()
    assert f"Stack for <Task pending name='aggregator-{socket.gethostname()}-{daemon.pid}'" in said
    assert "workers/role.py" in said  # where its stack is
    assert daemon.poll() is None  # it goes on
    daemon.send_signal(signal.SIGTERM)
    daemon.communicate(timeout=30)
    assert daemon.returncode == 0


def _ended(process: psutil.Process) -> bool:
    """Gone, or a zombie that nobody reaps (the tests' init may not)."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_daemon_killed_outright_leaves_no_build_process(
    redis_url: str, sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    env = environment(redis_url=redis_url, data_dir=str(tmp_path), read_block_ms="50",
                      report_refresh_s="0.1")  # fmt: skip
    added = hashmon("watch", "add", "#IraqProtests", env=env)
    assert added.communicate(timeout=60)[0].startswith("default: 1 added")
    # its output to a file: a child left behind would hold a pipe open, and reading it would hang
    daemon = hashmon("run", "--roles", "aggregator,reporter", env=env, log=tmp_path / "run.log")
    asyncio.run(publish(redis_url, [post(str(i), f"u{i}", ["IraqProtests"]) for i in range(10)]))
    revision, kept = keys.revision("iraqprotests"), keys.reports("iraqprotests")
    wait_for(lambda: sync_client.hget(kept, "revision") == sync_client.get(revision) is not None,
             what="the reporter's first build")  # fmt: skip
    children = psutil.Process(daemon.pid).children(recursive=True)
    assert any("spawn_main" in " ".join(child.cmdline()) for child in children)  # the builder

    daemon.send_signal(signal.SIGKILL)
    daemon.communicate(timeout=30)
    wait_for(lambda: all(_ended(child) for child in children), timeout=15,
             what="the build process to end with the daemon")  # fmt: skip


def test_embedded_server_is_shared_and_leaves_no_orphan(tmp_path: Path) -> None:
    data = tmp_path / "d"
    env = environment(data_dir=str(data), read_block_ms="50")
    pidfile, socket = data / "redis.pid", data / "redis.sock"

    first = hashmon("watch", "add", "#IRGCOutOfIraq", env=env)
    assert first.communicate(timeout=60)[0].startswith("default: 1 added")
    assert not pidfile.exists() and not socket.exists()  # stopped when the command ended

    daemon = hashmon("run", env=env)
    wait_for(lambda: socket.exists() and pidfile.exists(), what="the daemon's server")
    server_pid = int(pidfile.read_text())
    second = hashmon("watch", "add", "#BlackListMOIS", env=env)
    assert second.communicate(timeout=60)[0].startswith("default: 1 added")
    assert pidfile.exists() and int(pidfile.read_text()) == server_pid  # still the daemon's
    client = sync_redis.Redis(unix_socket_path=str(socket))
    assert client.smembers(keys.watchlist("default")) == {b"irgcoutofiraq", b"blacklistmois"}
    client.close()

    daemon.send_signal(signal.SIGTERM)
    daemon.communicate(timeout=30)
    assert daemon.returncode == 0
    wait_for(lambda: not pidfile.exists(), timeout=10, what="the server to stop")
    listed = hashmon("watch", "list", env=env)
    _, _, *rows = listed.communicate(timeout=60)[0].splitlines()  # piped: title, header, rows
    assert rows == ["#blacklistmois", "#irgcoutofiraq"]
    assert (data / "appendonlydir").exists() or list(data.glob("*.aof"))  # kept on disk
