"""Digests: a watchlist's summary written once per period, whichever process gets there first."""

import asyncio
import json
from pathlib import Path

import aiohttp
import redis as sync_redis
from redis.asyncio import Redis

from monitor import alert_delivery, digests, keys, queue, watchlist
from monitor.settings import Settings
from tests.conftest import Hook
from tests.factories import T0, post
from tests.test_cli import hashmon, one_error_line
from workers.aggregator import Aggregator
from workers.digester import Digester

DAY = 86_400.0


def files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def load(redis: Redis, settings: Settings) -> None:
    await watchlist.add(redis, "iraq-2019", ["irgcoutofiraq", "blacklistmois"])
    posts = [post(f"p{i}", f"u{i % 5}", ["IRGCOutOfIraq"], at=i * 60) for i in range(20)]
    posts += [post(f"m{i}", f"u{i}", ["BlackListMOIS"], at=i * 30) for i in range(4)]
    await queue.ensure_group(redis)
    await queue.publish(redis, posts, batch=100)
    await Aggregator(redis, settings, name="agg").run_until_idle()


async def test_a_digest_is_written_once_per_period(
    redis: Redis, settings: Settings, tmp_path: Path
) -> None:
    await load(redis, settings)
    digest = digests.make("iraq-2019", "24h", "md", str(tmp_path))
    await digests.add(redis, digest)
    now = T0.timestamp() + 3_600

    first = await digests.write_due(redis, digest, now)
    assert first == str(tmp_path / "iraq-2019-20191127T0000Z.md")
    assert "| \\#IRGCOutOfIraq | 20 | 5 |" in await asyncio.to_thread(Path(first).read_text)
    assert await digests.write_due(redis, digest, now + 600) is None  # same period: claimed
    later = await digests.write_due(redis, digest, now + DAY)
    assert later is not None and Path(later).name == "iraq-2019-20191128T0000Z.md"
    assert files(tmp_path) == [Path(first).name, Path(later).name]


async def test_a_digest_can_go_to_a_webhook(redis: Redis, settings: Settings, hook: Hook) -> None:
    await load(redis, settings)
    digest = digests.make("iraq-2019", "1h", "json", hook.url)
    assert (digest.id, digest.target) == ("iraq-2019.json@webhook", hook.url)
    async with aiohttp.ClientSession() as session:
        sent = await digests.write_due(redis, digest, T0.timestamp(), session)
        assert sent == hook.url
        assert await digests.write_due(redis, digest, T0.timestamp() + 60, session) is None
    [body] = hook.bodies
    assert body["list"] == "iraq-2019" and len(body["rows"]) == 2  # type: ignore[arg-type]
    [delivery] = await alert_delivery.recent(redis)
    assert (delivery["alert"], delivery["delivered"]) == ("digest:iraq-2019.json@webhook", "1")


async def test_the_daemon_role_writes_what_is_due(
    redis: Redis, settings: Settings, tmp_path: Path
) -> None:
    await load(redis, settings)
    await digests.add(redis, digests.make("iraq-2019", "1h", "html", str(tmp_path)))
    role = Digester(redis, settings, name="d")
    role.stopping.set()  # one step: it writes, then its wait returns at once
    await role.step()
    await role.close()
    [written] = files(tmp_path)
    assert written.endswith(".html") and "Watchlist iraq-2019" in (tmp_path / written).read_text()
    assert role.done == 1


def test_digests_from_the_cli(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    assert hashmon(cli_env, "watch", "add", "#IraqProtests", "--list", "iraq-2019")[0] == 0
    args = ["digests", "add", "--list", "iraq-2019", "--to", str(tmp_path)]
    assert hashmon(cli_env, *args, "--every", "24h")[0] == 0
    code, out = hashmon(cli_env, "digests", "list", "--format", "json")
    [listed] = json.loads(out)
    assert code == 0 and (listed["id"], listed["every_s"]) == ("iraq-2019.html", 86400.0)
    for bad, message in [(["--every", "soon"], "invalid --every 'soon'"),
                         (["--every", "10s"], "at least 1m"),
                         (["--format", "pdf"], "invalid --format 'pdf'")]:  # fmt: skip
        code, out = hashmon(cli_env, *args, *bad)
        assert code == 2 and message in one_error_line(out)
    (tmp_path / "file").write_text("")
    code, out = hashmon(cli_env, "digests", "add", "--list", "iraq-2019", "--to",
                        str(tmp_path / "file"))  # fmt: skip
    assert code == 2 and "not a folder this user can write to" in one_error_line(out)
    assert hashmon(cli_env, "digests", "remove", "iraq-2019.html")[0] == 0
    code, out = hashmon(cli_env, "digests", "remove", "iraq-2019.html")
    assert code == 1 and "no digest 'iraq-2019.html'" in one_error_line(out)


async def test_a_digest_stored_by_another_version_is_skipped(
    redis: Redis, settings: Settings, tmp_path: Path
) -> None:
    await load(redis, settings)
    await digests.add(redis, digests.make("iraq-2019", "1h", "md", str(tmp_path)))
    await redis.hset(keys.DIGESTS, "old.md", '{"list": "x", "every": "daily"}')
    assert [d.id for d in await digests.all_digests(redis)] == ["iraq-2019.md"]
