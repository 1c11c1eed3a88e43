"""Alerts against a real Redis and a local webhook: delivered once, retried, recorded."""

import json

import redis as sync_redis
from redis.asyncio import Redis

from monitor import alert_delivery, alerts, queue, watchlist
from monitor.models import Post
from monitor.settings import Settings
from tests.conftest import Hook
from tests.factories import post
from tests.test_cli import hashmon, one_error_line
from workers.aggregator import Aggregator
from workers.alerter import Alerter

TAG = "irgcoutofiraq"


def campaign() -> list[Post]:
    """An hour of one post a minute by different people, then five accounts pasting one text."""
    calm = [post(f"c{m}", f"p{m}", [TAG], text=f"thought number {m} #{TAG}", at=m * 60)
            for m in range(70)]  # fmt: skip
    pasted = f"the irgc must go #{TAG}"
    cell = [post(f"x{n}{a}", f"cell{a}", [TAG], text=pasted, at=4200 + n * 20 + a)
            for n in range(3) for a in range(5)]  # fmt: skip
    return calm + cell


async def load(redis: Redis, settings: Settings) -> None:
    await watchlist.add(redis, "default", [TAG])
    await queue.ensure_group(redis)
    await queue.publish(redis, campaign(), batch=50)
    await Aggregator(redis, settings, name="agg").run_until_idle()


async def step(redis: Redis, settings: Settings) -> int:
    role = Alerter(redis, settings, name="alerter")
    role.stopping.set()  # one step: its wait returns at once
    delivered = await role.step()
    await role.close()
    return delivered


async def test_each_event_is_delivered_once_with_what_it_is(
    redis: Redis, settings: Settings, hook: Hook
) -> None:
    await load(redis, settings)
    rule = alerts.make(hook.url, "burst,coordination,people", "default", "0s", 5, False)
    await alerts.add(redis, rule)
    assert await step(redis, settings) == 4
    assert await step(redis, settings) == 0  # nothing new
    by_kind = {(body["kind"], body["details"].get("behaviour")): body  # type: ignore[attr-defined]
               for body in hook.bodies}  # fmt: skip
    assert sorted(by_kind, key=str) == [
        ("burst", None),
        ("coordination", "co-post"),
        ("coordination", "co-similar"),
        ("people", None),
    ]  # the cell's text has five words: co-similar too
    assert by_kind["burst", None]["details"]["start"] == "2019-11-27T13:10:00Z"  # type: ignore[index]
    cluster = by_kind["coordination", "co-post"]
    assert cluster["details"]["members"] == [f"cell{a}" for a in range(5)]  # type: ignore[index]
    assert "hashmon evidence '#irgcoutofiraq' cell" in str(cluster["summary"])
    assert by_kind["people", None]["details"]["people"] == 65  # type: ignore[index]
    deliveries = await alert_delivery.recent(redis)
    assert [d["delivered"] for d in deliveries] == ["1"] * 4


async def test_a_cooldown_holds_back_a_second_event_of_the_same_kind(
    redis: Redis, settings: Settings, hook: Hook
) -> None:
    await load(redis, settings)
    await alerts.add(redis, alerts.make(hook.url, "people", "default", "60m", 5, True))
    assert await step(redis, settings) == 1
    later = [post(f"late{n}", f"late{n}", [TAG], at=4300 + n) for n in range(3)]
    await queue.publish(redis, later, batch=50)
    await Aggregator(redis, settings, name="agg").run_until_idle()
    await alerts.add(redis, alerts.make(hook.url, "people", "default", "60m", 6, True))
    assert await step(redis, settings) == 1  # the new rule fires; the first one cools down
    assert all(set(body) == {"text"} for body in hook.bodies)  # Slack-compatible
    assert str(hook.bodies[0]["text"]).startswith("hashmon: #irgcoutofiraq: ")


async def test_failures_are_retried_and_recorded(
    redis: Redis, settings: Settings, hook: Hook
) -> None:
    settings = settings.model_copy(update={"http_backoff_s": 0.01, "http_attempts": 3})
    await load(redis, settings)
    hook.failures = 2
    await alerts.add(redis, alerts.make(hook.url, "people", "default", "0s", 5, False))
    assert await step(redis, settings) == 1
    [done] = await alert_delivery.recent(redis)
    assert (done["delivered"], done["attempts"], done["status"]) == ("1", "3", "200")
    await alerts.add(
        redis, alerts.make("http://127.0.0.1:9/none", "people", "default", "0s", 5, False)
    )
    assert await step(redis, settings) == 0  # unreachable: recorded, not fatal
    failed = (await alert_delivery.recent(redis))[0]
    assert failed["delivered"] == "0" and failed["attempts"] == "3" and failed["error"]


def test_alerts_from_the_cli(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, hook: Hook
) -> None:
    assert hashmon(cli_env, "watch", "add", "#IRGCOutOfIraq")[0] == 0  # the default list
    code, out = hashmon(cli_env, "alerts", "add", "webhook", hook.url, "--on", "burst,coordination")
    assert code == 0
    alert_id = out.split(":")[0]
    code, out = hashmon(cli_env, "alerts", "list", "--format", "json")
    assert code == 0 and json.loads(out)[0]["on"] == ["burst", "coordination"]
    code, out = hashmon(cli_env, "alerts", "test", alert_id)
    assert code == 0 and "delivered (HTTP 200)" in out
    assert hook.bodies[-1]["kind"] == "test"
    code, out = hashmon(cli_env, "alerts", "list", "--deliveries", "--format", "json")
    assert code == 0 and json.loads(out)[0]["delivered"] == "1"
    for args, message in [
        (["webhook", "ftp://x", "--on", "burst"], "invalid webhook 'ftp://x'"),
        (["webhook", hook.url, "--on", "bursts"], "invalid --on 'bursts'"),
        (["webhook", hook.url, "--on", "burst", "--cooldown", "later"], "invalid --cooldown"),
        (["email", hook.url, "--on", "burst"], "invalid kind 'email'"),
        (["webhook", hook.url, "--on", "burst", "--list", "bad name!"], "list"),
    ]:
        code, out = hashmon(cli_env, "alerts", "add", *args)
        assert code == 2 and message in one_error_line(out)
    assert hashmon(cli_env, "alerts", "remove", alert_id)[0] == 0
    code, out = hashmon(cli_env, "alerts", "test", alert_id)
    assert code == 1 and f"no alert '{alert_id}'" in one_error_line(out)
