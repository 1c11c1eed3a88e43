"""What the aggregators have applied, for monitoring: posts by verdict, and how long entries
waited between publishing and being applied (a histogram), kept in Redis so that every process
serving /metrics reports the same figures."""

import time
from collections.abc import Iterable, Mapping
from typing import cast

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from redis.asyncio import Redis

from monitor import keys

BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


async def record(redis: Redis, verdicts: Mapping[str, int], entry_ids: Iterable[bytes]) -> None:
    """Count the posts by verdict, and each entry's wait from its XADD to now."""
    now_ms = time.time() * 1000
    waits = [max(0.0, now_ms - int(entry.split(b"-", 1)[0])) / 1000 for entry in entry_ids]
    async with redis.pipeline(transaction=False) as pipe:
        for verdict, n in verdicts.items():
            pipe.hincrby(keys.INGEST_STATS, f"posts:{verdict}", n)
        for wait in waits:
            bucket = next((b for b in BUCKETS_S if wait <= b), "+Inf")
            pipe.hincrby(keys.INGEST_STATS, f"wait_le:{bucket}", 1)
        if waits:
            pipe.hincrbyfloat(keys.INGEST_STATS, "wait_sum_s", sum(waits))
        await pipe.execute()


async def metrics(redis: Redis) -> list[Metric]:
    stored = {k.decode(): v.decode() for k, v in
              cast(dict[bytes, bytes], await redis.hgetall(keys.INGEST_STATS)).items()}  # fmt: skip
    posts = CounterMetricFamily("hashmon_posts_applied", "Posts the aggregators have applied",
                                labels=["verdict"])  # fmt: skip
    for name, value in sorted(stored.items()):
        if name.startswith("posts:"):
            posts.add_metric([name.removeprefix("posts:")], int(value))
    running, buckets = 0, []
    for bound in (*BUCKETS_S, "+Inf"):
        running += int(stored.get(f"wait_le:{bound}", 0))
        buckets.append((str(bound), running))
    wait = HistogramMetricFamily(
        "hashmon_aggregation_latency_seconds",
        "Time from an entry's publishing to its being applied",
        buckets=buckets, sum_value=float(stored.get("wait_sum_s", 0)),
    )  # fmt: skip
    return [posts, wait]
