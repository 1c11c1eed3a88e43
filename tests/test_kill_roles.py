"""SIGKILL at random moments: a collector, an aggregator and the API (with the reporter) are
each killed and restarted while a campaign is collected, and the final report, read through the
restarted API, equals the one of an undisturbed collection: nothing lost, nothing counted twice.

The moments are drawn from a seed that the test prints; ``HASHMON_SOAK_SEED`` repeats a run.
``HASHMON_SOAK_POSTS`` and ``HASHMON_SOAK_KILLS`` size it: ``make soak`` runs 200,000 posts.
"""

import functools
import json
import os
import random
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis as sync_redis

from monitor import keys
from tests.fakes import mastodon as fake
from tests.fakes.threaded import serving
from tests.local_cluster import free_port
from tests.processes import ended, environment, hashmon, wait_for

TAG = "IRGCOutOfIraq"
POSTS = int(os.environ.get("HASHMON_SOAK_POSTS", "3000"))
KILLS = int(os.environ.get("HASHMON_SOAK_KILLS", "6"))
# A local fake: no need for the instance's published 300 requests per 5 minutes.
SOURCE = ("sources", "add", "mastodon", "--name", "home", "--rate", "100/1", "--url")
ROLES = {"collector": "collector", "aggregator": "aggregator", "api": "api,reporter"}


def run(env: dict[str, str], *args: str) -> str:
    process = hashmon(*args, env=env)
    out, err = ended(process, timeout=max(120, POSTS // 200))
    assert process.returncode == 0, f"{args}: {err}"
    return out


def _nothing_pending(client: sync_redis.Redis) -> bool:
    return int(client.xpending(keys.INGEST, keys.AGGREGATORS)["pending"]) == 0


def api_report(base: str) -> dict[str, object] | None:
    """The JSON report from the API; None while the API is down or starting."""
    url = f"{base}/api/tags/{TAG.lower()}/report?format=json"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            found = dict(json.loads(response.read()))
    except (urllib.error.URLError, ConnectionError):
        return None
    found.pop("generated_by")
    return found


def varied(statuses: list[fake.Json], seed: int) -> list[fake.Json]:
    """Nine in ten statuses get words of their own in front of the shared text, as organic talk
    does; the tenth stays a near copy of the others, as a campaign's does."""
    words = random.Random(seed)
    vocabulary = [f"w{n}" for n in range(50_000)]
    for n, status in enumerate(statuses):
        if n % 10:
            own = " ".join(words.choices(vocabulary, k=12))
            status["content"] = f"<p>{own}</p>{status['content']}"
    return statuses


def _applied_at_least(client: sync_redis.Redis, timeline: str, posts: float) -> bool:
    return client.zcard(timeline) >= posts


@pytest.mark.timeout(max(300, POSTS // 40))
def test_roles_killed_at_random_moments_change_no_figure(
    redis_url: str, sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    seed = int(os.environ.get("HASHMON_SOAK_SEED", random.randrange(2**32)))
    again = f"(to repeat: HASHMON_SOAK_SEED={seed})"  # in every failure message
    chance = random.Random(seed)
    state = fake.Instance(delay_s=0.01)
    for status in varied(fake.campaign(POSTS, TAG, replies=False, step_s=1.0), seed):
        state.add(status)
    port = free_port()
    env = environment(
        redis_url=redis_url, data_dir=str(tmp_path), read_block_ms="50", heartbeat_s="0.2",
        claim_idle_ms="300", http_backoff_s="0.01", backfill_pages="100000",
        poll_interval_s="0.5", collection_lease_s="1", report_refresh_s="0.5",
        api_port=str(port),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    timeline = keys.timeline(TAG.lower())
    with serving(state.app()) as url:
        run(env, "watch", "add", f"#{TAG}")
        run(env, *SOURCE, url)
        run(env, "collect", "--once")
        undisturbed = json.loads(run(env, "report", f"#{TAG}", "--format", "json"))
        undisturbed.pop("generated_by")
        assert undisturbed["posts"]["total"] == POSTS

        sync_client.flushdb()
        run(env, "watch", "add", f"#{TAG}")
        run(env, *SOURCE, url)
        logs = {role: tmp_path / f"{role}.log" for role in ROLES}
        running = {r: hashmon("run", "--roles", ROLES[r], env=env, log=logs[r]) for r in ROLES}
        # each role is killed in turn, once a share of the posts (drawn at random) is applied
        moments = sorted(chance.uniform(0.05, 0.9) * POSTS for _ in range(KILLS))
        patience = max(120, POSTS // 100)  # seconds
        for n, moment in enumerate(moments):
            wait_for(functools.partial(_applied_at_least, sync_client, timeline, moment),
                     what=f"{moment:.0f} posts {again}", timeout=patience)  # fmt: skip
            victim = list(ROLES)[n % len(ROLES)]
            running[victim].send_signal(signal.SIGKILL)
            running[victim].communicate(timeout=30)
            assert running[victim].returncode == -signal.SIGKILL, again
            running[victim] = hashmon("run", "--roles", ROLES[victim], env=env, log=logs[victim])
        wait_for(lambda: sync_client.zcard(timeline) == POSTS, what=f"every post {again}",
                 timeout=patience)  # fmt: skip
        # a killed aggregator's entries may hold posts counted whose pairs are not kept yet
        wait_for(lambda: _nothing_pending(sync_client), what=f"no entry pending {again}",
                 timeout=patience)  # fmt: skip
        wait_for(lambda: api_report(base) is not None, what="the API", timeout=60)
        assert api_report(base) == undisturbed, again
        for process in running.values():
            process.send_signal(signal.SIGTERM)
        for process in running.values():
            process.communicate(timeout=60)
            assert process.returncode == 0, again

    status = json.loads(run(env, "status", "--format", "json"))
    assert (status["pending"], status["dead_letters"]) == (0, 0), again
