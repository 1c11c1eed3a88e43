"""Sources that cannot be reached: one warning per backoff of each source, not one per retry of
every tag; and a collector that says at start what it collects."""

import logging
import os
import pty
import subprocess
import sys
from collections import Counter

import pytest
import redis as sync_redis
from redis.asyncio import Redis

from monitor import sources, watchlist
from monitor.settings import Settings
from tests.processes import environment, free_port
from workers.collectors.collector import Collector
from workers.collectors.once import collect_once

TAGS = ["irgcoutofiraq", "blacklistmois", "blacklistirgc", "irgcterrorists"]
ATTEMPTS = 3


@pytest.fixture
def offline(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"http_attempts": ATTEMPTS, "http_backoff_s": 0.01, "poll_interval_s": 0.01}
    )


async def add_unreachable(redis: Redis, streamed: bool = True) -> list[str]:
    port = free_port()  # nothing listens: refused
    made = [sources.make("mastodon", f"http://127.0.0.1:{port}", name=f"m{n}") for n in range(3)]
    if streamed:
        made.append(sources.make("bluesky-jetstream", f"ws://127.0.0.1:{port}", name="jet"))
    for source in made:
        await sources.add(redis, source)
    await watchlist.add(redis, "default", TAGS)
    return [source.name for source in made]


def warnings_by_source(records: list[logging.LogRecord]) -> Counter[str]:
    return Counter(r.getMessage().split(":")[0] for r in records if r.levelno == logging.WARNING)


async def test_an_offline_pass_warns_once_per_backoff_of_each_source(
    redis: Redis, offline: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    names = await add_unreachable(redis)
    caplog.set_level(logging.INFO)
    results = await collect_once(redis, offline)
    # ATTEMPTS - 1 backoffs and the failure, per source: before, a Mastodon source warned
    # ATTEMPTS times for each of its 4 tags (12 each, 39 in all); now 12 in all
    assert warnings_by_source(caplog.records) == dict.fromkeys(names, ATTEMPTS)
    assert [(r.source, r.posts, r.errors) for r in results] == [
        (name, 0, 1) for name in sorted(names)
    ]
    [state] = [s for s in await sources.states(redis) if s.source.name == "m0"]
    assert state.last_error is not None and state.last_error.startswith("unreachable: ")


async def test_a_source_still_down_warns_once_a_pass(
    redis: Redis, offline: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    names = await add_unreachable(redis, streamed=False)
    collector = Collector(redis, offline, name="c")
    caplog.set_level(logging.WARNING)
    await collector.step()
    assert warnings_by_source(caplog.records) == dict.fromkeys(names, ATTEMPTS)
    caplog.clear()
    await collector.step()  # given up on: no retries until a response arrives
    assert warnings_by_source(caplog.records) == dict.fromkeys(names, 1)
    await collector.close()


async def test_the_collector_says_which_sources_and_tags_it_runs(
    redis: Redis, offline: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="workers.collectors.collector")
    collector = Collector(redis, offline.model_copy(update={"http_attempts": 1}), name="c")
    await collector.step()
    assert [r.getMessage() for r in caplog.records] == [
        "collector: no sources, nothing is collected; add one with 'hashmon sources add' or "
        "'hashmon sources load seeds/sources.toml'"
    ]
    caplog.clear()
    port = free_port()  # nothing listens: refused
    await sources.add(redis, sources.make("bluesky-jetstream", f"ws://127.0.0.1:{port}"))
    await sources.add(redis, sources.make("mastodon", f"http://127.0.0.1:{port}", name="m"))
    await collector.step()
    await watchlist.add(redis, "default", TAGS)
    await collector.step()
    await collector.step()  # nothing changed: nothing said
    said = [r for r in caplog.records if r.getMessage().startswith("collector: ")]
    assert [(r.levelname, r.getMessage()) for r in said] == [
        ("WARNING", "collector: 2 sources (bluesky-jetstream 127.0.0.1, mastodon m), no watched "
                    "tags: nothing is collected"),
        ("INFO", "collector: 2 sources (bluesky-jetstream 127.0.0.1, mastodon m), 4 tags "
                 "(#blacklistirgc, #blacklistmois, #irgcoutofiraq, #irgcterrorists)"),
    ]  # fmt: skip
    await collector.close()


def test_collect_once_in_a_terminal_shows_each_level_once(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    """Under a terminal the log lines go through rich, which shows the level in a column of its
    own: the message must not carry it again."""
    port = free_port()  # nothing listens: refused
    env = environment(**{k.removeprefix("HASHMON_").lower(): v for k, v in cli_env.items()})
    env |= {"HASHMON_HTTP_ATTEMPTS": str(ATTEMPTS), "HASHMON_HTTP_BACKOFF_S": "0.01",
            "COLUMNS": "300", "TERM": "xterm"}  # fmt: skip
    run = [sys.executable, "-m", "monitor"]
    source = ["--instance", f"http://127.0.0.1:{port}", "--name", "home"]
    for args in (["watch", "add", *TAGS], ["sources", "add", "mastodon", *source]):
        subprocess.run([*run, *args], env=env, check=True, capture_output=True, timeout=60)
    primary, secondary = pty.openpty()
    with subprocess.Popen(
        [*run, "collect", "--once"], env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=secondary,
    ) as process:  # fmt: skip
        os.close(secondary)
        shown = _read_all(primary)
        assert process.wait(timeout=60) == 1
    lines = [line for line in shown.splitlines() if "WARNING" in line]
    assert len(lines) == ATTEMPTS, shown  # two backoffs and the failure, not one per tag
    assert all(line.count("WARNING") == 1 for line in lines), shown
    assert sum("INFO" in line for line in shown.splitlines()) >= 1, shown


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65_536)
        except OSError:  # the terminal's other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode(errors="replace")
