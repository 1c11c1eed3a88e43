"""A local Redis Cluster of three masters, started from the redis-server binary the project
ships with, the slots split evenly: for the cluster test and the benchmark at scale."""

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis as sync_redis

from monitor.embedded import server_binary
from tests.processes import wait_for

SLOTS = 16_384


def free_port() -> int:
    """A free port whose cluster bus port (+10000) is a port too."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port < 55_000:
            return port


def _pings(node: sync_redis.Redis) -> bool:
    try:
        return bool(node.ping())
    except sync_redis.ConnectionError:
        return False


@contextlib.contextmanager
def local_cluster(directory: Path, masters: int = 3) -> Iterator[list[int]]:
    """Yields the nodes' ports once the cluster's state is ok; stops the nodes on exit."""
    ports, processes = [free_port() for _ in range(masters)], []
    for port in ports:
        home = directory / f"node-{port}"
        home.mkdir(parents=True)
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
                "CLUSTER", "ADDSLOTS", *range(n * SLOTS // masters, (n + 1) * SLOTS // masters)
            )
        for node in nodes[1:]:
            node.execute_command("CLUSTER", "MEET", "127.0.0.1", ports[0])  # type: ignore[no-untyped-call]
        wait_for(lambda: all(n.cluster("info")["cluster_state"] == "ok" for n in nodes),
                 what="cluster state ok")  # fmt: skip
        time.sleep(0.2)  # every node has heard of every other's slots
        yield ports
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
