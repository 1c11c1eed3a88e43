"""deploy/: systemd units verified by systemd-analyze, the compose file against the compose-spec
schema, the Kubernetes manifests against the Kubernetes API schemas, each role a real command;
and the readiness protocol the units rely on, spoken by a real hashmon process."""

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import redis as sync_redis
import yaml

from monitor import encodings, keys
from monitor.cli.daemon import ROLES
from tests.processes import environment, hashmon, wait_for

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
BIN = Path(sys.executable).parent
KUBERNETES = "1.31"


def _verify_units(directory: Path) -> list[str]:
    """systemd-analyze's complaints about the units in a directory, one per line."""
    names = ["hashmon.service", "hashmon.target", *(f"hashmon@{role}.service" for role in ROLES)]
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *names],
        env={**os.environ, "SYSTEMD_UNIT_PATH": f"{directory}:"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return [line for line in done.stderr.splitlines() if "hashmon" in line]


def _rendered(tmp_path: Path, change: tuple[str, str] = ("", "")) -> Path:
    """The units as installed: hashmon from this environment's prefix instead of /opt/hashmon."""
    tmp_path.mkdir()
    for unit in (DEPLOY / "systemd").iterdir():
        body = unit.read_text().replace("/opt/hashmon/bin/hashmon", str(BIN / "hashmon"))
        (tmp_path / unit.name).write_text(body.replace(*change) if change[0] else body)
    return tmp_path


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_units_verify_clean(tmp_path: Path) -> None:
    assert _verify_units(_rendered(tmp_path / "good")) == []
    broken = _rendered(tmp_path / "broken", ("Type=notify", "Type=notifying"))
    assert any("Failed to parse service type" in line for line in _verify_units(broken))


def test_the_target_starts_each_role_once() -> None:
    target = (DEPLOY / "systemd" / "hashmon.target").read_text()
    lines = [line.removeprefix("Wants=") for line in target.splitlines() if "Wants=" in line]
    wanted = [unit for line in lines for unit in line.split()]
    assert wanted == [f"hashmon@{role}.service" for role in ROLES]
    assert "--roles %i" in (DEPLOY / "systemd" / "hashmon@.service").read_text()


def _manifests() -> list[dict[str, Any]]:
    return [
        doc
        for name in ("redis.yaml", "hashmon.yaml")
        for doc in yaml.safe_load_all((DEPLOY / "kubernetes" / name).read_text())
    ]


def _roles(args: list[str]) -> list[str]:
    assert args[:2] == ["run", "--roles"], args
    return args[2].split(",")


def test_kubernetes_manifests_are_valid_and_run_every_role() -> None:
    docs = _manifests()
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    containers = [d["spec"]["template"]["spec"]["containers"][0] for d in deployments]
    assert sorted(r for c in containers for r in _roles(c["args"])) == sorted(ROLES)
    redis = next(d for d in docs if d["kind"] == "Service" and "redis" in d["metadata"]["name"])
    for container in containers:
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["HASHMON_REDIS_URL"] == f"redis://{redis['metadata']['name']}:6379/0"
    broken = dict(deployments[0], spec=dict(deployments[0]["spec"], replicas="two"))
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_kubernetes_redis_has_the_production_settings() -> None:
    conf = {}
    for line in (DEPLOY / "redis.conf").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition(" ")
            conf[name] = value.strip('"')
    [redis] = [d for d in _manifests() if d["kind"] == "StatefulSet"]
    args = redis["spec"]["template"]["spec"]["containers"][0]["args"]
    given = dict(zip(args[::2], args[1::2], strict=True))
    for name in ("appendonly", "appendfsync", "aof-use-rdb-preamble", "save", "maxmemory",
                 "maxmemory-policy", *encodings.WANTED):  # fmt: skip
        assert given[f"--{name}"] == conf[name], name
    assert {name: int(conf[name]) for name in encodings.WANTED} == encodings.WANTED


def _check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_compose_file_is_valid_and_runs_every_role(tmp_path: Path) -> None:
    path = DEPLOY / "docker-compose.yml"
    assert _check_compose(path).returncode == 0
    services = yaml.safe_load(path.read_text())["services"]
    commands = [s["command"] for name, s in services.items() if name != "redis"]
    assert sorted(r for c in commands for r in _roles(c)) == sorted(ROLES)
    assert services["api"]["ports"] == ["127.0.0.1:8750:8750"]  # the host's loopback only
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(path.read_text().replace("    ports:", "    port:"))
    checked = _check_compose(broken)
    assert checked.returncode == 1 and "'port' was unexpected" in checked.stdout


def test_an_unknown_role_is_one_line(tmp_path: Path) -> None:
    env = environment(redis_url="redis://127.0.0.1:1/0", data_dir=str(tmp_path))
    process = hashmon("run", "--roles", "aggregator,reporters", env=env)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert err.strip() == (
        "error: --roles: unknown role 'reporters'; choose from " + ", ".join(ROLES)
    )


def test_readiness_watchdog_and_stopping_reach_systemd(
    redis_url: str, sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(tmp_path / "notify"))
        listener.settimeout(30)
        env = environment(redis_url=redis_url, data_dir=str(tmp_path), read_block_ms="50")
        env |= {"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "200000"}
        daemon = hashmon("run", "--roles", "aggregator", env=env)
        try:
            assert listener.recv(256) == b"READY=1"
            assert sync_client.exists(keys.INGEST)  # prepared: the consumer group is there
            assert [listener.recv(256) for _ in range(3)] == [b"WATCHDOG=1"] * 3
            daemon.send_signal(signal.SIGTERM)
            wait_for(lambda: listener.recv(256) == b"STOPPING=1", what="STOPPING=1")
            _, err = daemon.communicate(timeout=30)
            assert daemon.returncode == 0, err
        finally:
            daemon.kill()
            daemon.wait(timeout=30)
