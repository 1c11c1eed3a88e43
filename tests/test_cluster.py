"""The same code against a Redis Cluster: a local cluster of three masters, started from the
redis-server binary the project ships with, gives the same report as a single Redis."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as sync_redis

from monitor import keys
from tests.local_cluster import local_cluster
from tests.test_cli import hashmon

SAMPLE = Path(__file__).parents[1] / "seeds" / "sample-campaign.jsonl"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """Yields a redis+cluster:// URL naming one node of a local three-master cluster."""
    with local_cluster(tmp_path) as ports:
        yield f"redis+cluster://127.0.0.1:{ports[1]}"


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
    on_cluster = cli_env | {"HASHMON_REDIS_URL": cluster, "HASHMON_INGEST_SHARDS": "3"}
    assert _report(on_cluster) == single
    assert single["posts"]["total"] == 1_880  # type: ignore[index]  # JSON
    code, out = hashmon(on_cluster, "status", "--format", "json")
    assert code == 0 and json.loads(out)["watched_tags"] == 2
    assert len(json.loads(out)["shard_lengths"]) == 3

    shards = [keys.ingest(shard) for shard in range(3)]
    with sync_redis.RedisCluster.from_url(cluster.replace("redis+cluster", "redis")) as client:
        try:
            holders = {client.get_node_from_key(shard).name for shard in shards}
            assert len(holders) == 3  # a node each
            for shard in shards:  # each was published to, and its entries were all applied
                [group] = client.xinfo_groups(shard)
                assert group["last-delivered-id"] != b"0-0" and group["pending"] == 0
        finally:
            client.disconnect_connection_pools()  # close() leaves the nodes' pools connected
