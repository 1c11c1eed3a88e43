"""An aggregator killed with SIGKILL in the middle of a 100k-post import loses nothing.

The import's own aggregator claims what the dead process left pending, and every report
equals the one of an undisturbed run, exactly.
"""

import asyncio
import os
import signal
from pathlib import Path

import pytest
import redis as sync_redis

from monitor import keys
from monitor.connection import connect, text
from monitor.models import Kind, Post
from monitor.reports.build import tag_report
from tests.factories import post
from tests.processes import environment, hashmon, wait_for

POSTS = 100_000
TAGS = ["irgcoutofiraq", "blacklistmois"]


def campaign() -> list[Post]:
    """Originals, reposts and replies by 5,000 accounts over about 28 hours, two tags; one post
    in ten is the bare hashtag, as a campaign's copies are, the others say something of their
    own."""
    posts = []
    for i in range(POSTS):
        kind: Kind = ("original", "repost", "reply", "quote")[i % 4]
        ref = str(i - 1 - i % 97) if kind != "original" and i > 100 else None
        tag = ("IRGCOutOfIraq", "BlackListMOIS")[i % 3 == 0]
        said = None if i % 10 == 0 else f"#{tag} number {i}"
        posts.append(
            post(str(i), f"u{(i * 7919) % 5000}", [tag], kind=kind if ref else "original", at=i,
                 ref=ref, ref_author=ref and "u1", text=said)
        )  # fmt: skip
    return posts


async def reports(url: str) -> dict[str, str]:
    redis = connect(url)
    try:
        return {tag: (await tag_report(redis, tag, top=50)).model_dump_json() for tag in TAGS}
    finally:
        await redis.aclose()


def run_import(env: dict[str, str], path: Path) -> str:
    importing = hashmon("import", str(path), "--tag", TAGS[0], "--tag", TAGS[1], env=env)
    out, err = importing.communicate(timeout=240)
    assert importing.returncode == 0, err
    return out


@pytest.mark.timeout(400)
def test_sigkill_mid_import_changes_no_figure(
    redis_url: str, sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    path = tmp_path / "campaign.jsonl"
    path.write_text("".join(p.model_dump_json() + "\n" for p in campaign()))
    env = environment(redis_url=redis_url, data_dir=str(tmp_path), claim_idle_ms="500",
                      read_block_ms="50")  # fmt: skip
    assert f"{POSTS:,} new" in run_import(env, path)
    undisturbed = asyncio.run(reports(redis_url))
    sync_client.flushdb()

    victim = hashmon("aggregate", env={**env, "HASHMON_READ_COUNT": "20"})
    wait_for(lambda: bool(sync_client.keys(keys.heartbeat_pattern("aggregator"))), what="start")
    beat = sync_client.keys(keys.heartbeat_pattern("aggregator"))[0]
    victim_name = text(beat).rsplit(":", 1)[-1]
    importing = hashmon("import", str(path), "--tag", TAGS[0], "--tag", TAGS[1], env=env)
    wait_for(lambda: sync_client.zcard(keys.timeline(TAGS[0])) > 5_000, what="progress")
    _kill_holding_entries(victim.pid, sync_client, victim_name)
    victim.communicate(timeout=10)
    assert victim.returncode == -signal.SIGKILL

    out, err = importing.communicate(timeout=300)
    assert importing.returncode == 0, err
    assert f"{POSTS:,} posts read" in out
    assert asyncio.run(reports(redis_url)) == undisturbed
    assert sync_client.xpending(keys.INGEST, keys.AGGREGATORS)["pending"] == 0


def _kill_holding_entries(pid: int, client: sync_redis.Redis, consumer: str) -> None:
    """Freeze the process; kill it only at a moment it holds unacknowledged entries."""
    for _ in range(200):
        os.kill(pid, signal.SIGSTOP)
        held = client.xpending_range(keys.INGEST, keys.AGGREGATORS, "-", "+", 1, consumer)
        if held:
            os.kill(pid, signal.SIGKILL)
            return
        os.kill(pid, signal.SIGCONT)
        asyncio.run(asyncio.sleep(0.005))
    raise AssertionError("the aggregator never held an entry")


def test_interrupted_import_keeps_what_it_published(
    redis_url: str, sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    path = tmp_path / "campaign.jsonl"
    posts = campaign()[:30_000]
    path.write_text("".join(p.model_dump_json() + "\n" for p in posts))
    env = environment(redis_url=redis_url, data_dir=str(tmp_path), claim_idle_ms="200",
                      read_block_ms="50")  # fmt: skip
    importing = hashmon("import", str(path), "--tag", TAGS[0], "--tag", TAGS[1], env=env)
    wait_for(lambda: sync_client.zcard(keys.timeline(TAGS[0])) > 1_000, what="progress")
    importing.send_signal(signal.SIGINT)
    _, err = importing.communicate(timeout=60)
    assert importing.returncode == 130, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: interrupted after ") and last.endswith(
        " posts were published; they stay queued for aggregation"
    )
    applied = sum(sync_client.zcard(keys.timeline(tag)) for tag in TAGS)
    assert applied < len(posts)  # stopped part-way

    again = hashmon("import", str(path), env=env)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert f"{len(posts):,} posts read" in out
    assert sum(sync_client.zcard(keys.timeline(tag)) for tag in TAGS) == len(posts)
    assert sync_client.xpending(keys.INGEST, keys.AGGREGATORS)["pending"] == 0
