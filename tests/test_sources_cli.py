"""hashmon sources and hashmon collect --once as a user runs them, against a fake instance."""

import json

import pytest
import redis as sync_redis

from monitor import keys
from tests.fakes import mastodon as fake
from tests.fakes.threaded import serving
from tests.test_cli import hashmon, one_error_line

TAG = "IRGCOutOfIraq"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mastodont", "--instance", "https://m.example"], "unknown platform 'mastodont'"),
        (["mastodon", "--instance", "m.example"], "invalid URL 'm.example': expected http://host or https://host"),
        (["mastodon", "--instance", "ftp://m.example"], "expected http://host or https://host"),
        (["mastodon", "--instance", "https://m.example/?a=1"], "no query or fragment"),
        (["mastodon", "--instance", "https://m.example", "--token-env", "HASHMON_TEST_UNSET"],
         "environment variable HASHMON_TEST_UNSET is not set"),
        (["mastodon", "--instance", "https://m.example", "--token-env", "A B"],
         "invalid environment variable name 'A B'"),
        (["mastodon", "--instance", "https://m.example", "--rate", "fast"], "invalid rate 'fast'"),
        (["mastodon", "--instance", "https://m.example", "--rate", "0/10"], "must be positive"),
        (["mastodon", "--instance", "https://m.example", "--name", "a b"], "invalid source name"),
    ],
)  # fmt: skip
def test_bad_sources_are_refused_in_one_line(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, args: list[str], message: str
) -> None:
    code, out = hashmon(cli_env, "sources", "add", *args)
    assert code == 2
    assert message in one_error_line(out)
    assert sync_client.hlen(keys.SOURCES) == 0


def test_a_token_is_named_never_stored(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    env = {**cli_env, "KOLEKTIVA_TOKEN": "s3cret-token"}
    args = ["sources", "add", "mastodon", "--instance", "https://kolektiva.example/"]
    code, out = hashmon(env, *args, "--token-env", "KOLEKTIVA_TOKEN")
    assert (code, out.strip()) == (0, "kolektiva.example: mastodon source at "
                                      "https://kolektiva.example added")  # fmt: skip
    code, out = hashmon(env, *args, "--token-env", "KOLEKTIVA_TOKEN")
    assert code == 2 and "exists; remove it first" in one_error_line(out)
    stored: dict[bytes, bytes] = sync_client.hgetall(keys.SOURCES)  # type: ignore[assignment]  # redis-py's sync stubs are loose
    assert all(b"s3cret" not in value for value in stored.values())
    assert json.loads(stored[b"kolektiva.example"])["token_env"] == "KOLEKTIVA_TOKEN"
    code, out = hashmon(env, "sources", "list", "--format", "json")
    assert "s3cret" not in out
    assert hashmon(env, "sources", "remove", "kolektiva.example")[0] == 0
    code, out = hashmon(env, "sources", "remove", "kolektiva.example")
    assert code == 1 and "no source named 'kolektiva.example'" in one_error_line(out)


def test_collect_once_then_report_and_source_health(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    state = fake.Instance()
    statuses = fake.campaign(70, TAG)
    for status in statuses:
        state.add(status)
    code, out = hashmon(cli_env, "collect", "--once")
    assert code == 1 and "no sources" in one_error_line(out)
    with serving(state.app()) as url:
        assert hashmon(cli_env, "watch", "add", f"#{TAG}")[0] == 0
        assert (
            hashmon(cli_env, "sources", "add", "mastodon", "--url", url, "--name", "home")[0] == 0
        )
        code, out = hashmon(cli_env, "collect", "--once")
    assert (code, out.strip()) == (0, "home: 70 posts, 0 errors")  # plural for 0, as for 2
    code, out = hashmon(cli_env, "report", f"#{TAG}", "--format", "json")
    report = json.loads(out)
    assert report["posts"]["total"] == 70
    assert report["platforms"] == {"mastodon": 70}
    assert report["people"] == len({s["account"]["uri"] for s in statuses})
    code, out = hashmon(cli_env, "sources", "list", "--format", "json")
    [listed] = json.loads(out)
    assert listed["posts"] == 70 and listed["last_error"] is None
    assert listed["cursors"][TAG.lower()]["newest"] == statuses[-1]["id"]
    code, out = hashmon(cli_env, "sources", "list")
    assert code == 0 and "home" in out and out.rstrip("\n").endswith("\t1 tag")


def test_collect_once_exits_1_when_a_source_fails(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    state = fake.Instance()
    state.faults = [fake.UNAUTHORIZED]
    with serving(state.app()) as url:
        hashmon(cli_env, "watch", "add", f"#{TAG}")
        hashmon(cli_env, "sources", "add", "mastodon", "--url", url, "--name", "home")
        code, out = hashmon(cli_env, "collect", "--once")
    assert code == 1
    assert "home: 0 posts, 1 error\n" in out
    assert "some sources failed" in one_error_line(out)
    [listed] = json.loads(hashmon(cli_env, "sources", "list", "--format", "json")[1])
    assert listed["last_error"] == "#irgcoutofiraq: HTTP 401: The access token is invalid"


def test_x_takes_its_bearer_token_from_the_named_variable(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    code, out = hashmon(cli_env, "sources", "add", "x")
    assert code == 2 and "x needs a token" in one_error_line(out)
    env = {**cli_env, "X_BEARER_TOKEN": "AAAA-secret"}
    code, out = hashmon(env, "sources", "add", "x", "--bearer-env", "X_BEARER_TOKEN")
    assert (code, out.strip()) == (0, "api.twitter.com: x source at https://api.twitter.com added")
    [stored] = sync_client.hvals(keys.SOURCES)
    assert json.loads(stored)["token_env"] == "X_BEARER_TOKEN" and b"AAAA" not in stored
