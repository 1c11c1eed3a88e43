"""The daemon stopped mid-collection (SIGTERM, or SIGKILL) and restarted: it resumes from its
cursors, and the report equals the one of an uninterrupted collection."""

import json
import signal
import subprocess
from pathlib import Path

import pytest
import redis as sync_redis

from monitor import keys
from tests.fakes import mastodon as fake
from tests.fakes.threaded import serving
from tests.processes import ended, environment, hashmon, wait_for

TAG = "IRGCOutOfIraq"
PAGES = 30


def finish(process: subprocess.Popen[str], args: tuple[str, ...] = ()) -> str:
    out, err = ended(process, timeout=60)
    assert process.returncode == 0, f"{args}: {err}"
    return out


def run(env: dict[str, str], *args: str) -> str:
    return finish(hashmon(*args, env=env), args)


def report(env: dict[str, str]) -> dict[str, object]:
    found = json.loads(run(env, "report", f"#{TAG}", "--format", "json"))
    found.pop("generated_by")
    return dict(found)


def timeline_requests(state: fake.Instance) -> list[str]:
    return [r for r in state.requests if "/timelines/tag/" in r]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_stopped_daemon_resumes_and_the_report_is_unchanged(
    redis_url: str, sync_client: sync_redis.Redis, tmp_path: Path, stop: signal.Signals
) -> None:
    state = fake.Instance(delay_s=0.03)
    for status in fake.campaign(PAGES * 40, TAG, replies=False):
        state.add(status)
    env = environment(
        redis_url=redis_url, data_dir=str(tmp_path), read_block_ms="50", heartbeat_s="0.2",
        claim_idle_ms="300", http_backoff_s="0.01", backfill_pages="1000", poll_interval_s="3600",
        collection_lease_s="1",  # a killed collector's lease: the restart waits this long
    )  # fmt: skip
    with serving(state.app()) as url:
        run(env, "watch", "add", f"#{TAG}")
        run(env, "sources", "add", "mastodon", "--url", url, "--name", "home")
        run(env, "collect", "--once")
        uninterrupted = report(env)
        assert uninterrupted["posts"]["total"] == PAGES * 40  # type: ignore[index]  # JSON

        sync_client.flushdb()
        state.requests.clear()
        run(env, "watch", "add", f"#{TAG}")
        run(env, "sources", "add", "mastodon", "--url", url, "--name", "home")
        daemon = hashmon("run", env=env)
        wait_for(lambda: len(timeline_requests(state)) >= PAGES // 3, what="a third collected")
        daemon.send_signal(stop)
        _, err = daemon.communicate(timeout=60)
        if stop == signal.SIGTERM:
            assert daemon.returncode == 0 and "draining" in err, err
        collected_before = len(timeline_requests(state))
        assert collected_before < PAGES, "stopped too late to prove anything"

        restarted = hashmon("run", env=env)
        timeline = keys.timeline(TAG.lower())
        wait_for(lambda: sync_client.zcard(timeline) == PAGES * 40, what="the rest", timeout=60)
        resumed = timeline_requests(state)[collected_before:]
        assert all("min_id=" in r or "max_id=" in r for r in resumed), resumed  # from its cursor
        assert len(resumed) <= PAGES - collected_before + 3  # at most one page again, + the ends
        restarted.send_signal(signal.SIGTERM)
        finish(restarted)

    assert report(env) == uninterrupted
