"""The same code against a Redis Cluster: a local cluster of three masters, started from the
redis-server binary the project ships with, gives the same report as a single Redis."""

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as sync_redis

from monitor.embedded import server_binary
from tests.processes import wait_for
from tests.test_cli import hashmon

SAMPLE = Path(__file__).parents[1] / "seeds" / "sample-campaign.jsonl"
SLOTS = 16_384


def _free_port() -> int:
    """A free port whose cluster bus port (+10000) is a port too."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port < 55_000:
            return port


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """Three masters, the slots split evenly; yields a redis+cluster:// URL naming one node."""
    ports, processes = [_free_port() for _ in range(3)], []
    for port in ports:
        home = tmp_path / f"node-{port}"
        home.mkdir()
        processes.append(subprocess.Popen(
            [server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled",
             "yes", "--cluster-config-file", "nodes.conf", "--dir", str(home), "--save", ""],
            stdout=subprocess.DEVNULL,
        ))  # fmt: skip
    nodes = [sync_redis.Redis(port=port) for port in ports]
    try:
        wait_for(lambda: all(_pings(node) for node in nodes), what="cluster nodes")
        for n, node in enumerate(nodes):
            node.execute_command(  # type: ignore[no-untyped-call]
                "CLUSTER", "ADDSLOTS", *range(n * SLOTS // 3, (n + 1) * SLOTS // 3)
            )
        for node in nodes[1:]:
            node.execute_command("CLUSTER", "MEET", "127.0.0.1", ports[0])  # type: ignore[no-untyped-call]
        wait_for(lambda: all(n.cluster("info")["cluster_state"] == "ok" for n in nodes),
                 what="cluster state ok")  # fmt: skip
        time.sleep(0.2)  # every node has heard of every other's slots
        yield f"redis+cluster://127.0.0.1:{ports[1]}"
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def _pings(node: sync_redis.Redis) -> bool:
    try:
        return bool(node.ping())
    except sync_redis.ConnectionError:
        return False


def _report(env: dict[str, str]) -> dict[str, object]:
    assert hashmon(env, "watch", "add", "#IRGCOutOfIraq", "#BlackListMOIS")[0] == 0
    code, out = hashmon(env, "import", str(SAMPLE))
    assert code == 0, out
    code, out = hashmon(env, "report", "#IRGCOutOfIraq", "--format", "json", "--top", "20")
    assert code == 0, out
    found = dict(json.loads(out))
    code, network = hashmon(env, "network", "#IRGCOutOfIraq", "--behaviour", "co-post")
    assert code == 0, network
    return found | {"network": network}


def test_a_cluster_gives_the_same_report_as_one_redis(
    cluster: str, cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    single = _report(cli_env)
    clustered = _report(cli_env | {"HASHMON_REDIS_URL": cluster})
    assert clustered == single
    assert single["posts"]["total"] == 1_880  # type: ignore[index]  # JSON
    code, out = hashmon(cli_env | {"HASHMON_REDIS_URL": cluster}, "status", "--format", "json")
    assert code == 0 and json.loads(out)["watched_tags"] == 2
