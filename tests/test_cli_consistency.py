"""The small things a user trips on: one shape for every list command, words in the right number,
watchlists that must exist, the real reason in each error, and a status that says what runs."""

import json
from pathlib import Path

import pytest
import redis as sync_redis

from monitor import keys
from tests.test_cli import hashmon, one_error_line

EMPTY = [
    (["watch", "list"], "no tags on watchlist 'default' yet: add one with hashmon watch add TAG",
     {"list": "default", "tags": []}),
    (["watch", "lists"], "no watchlists yet: add one with hashmon watch add TAG", {}),
    (["sources", "list"], "no sources yet: add one with hashmon sources add", []),
    (["alerts", "list"], "no alerts yet: add one with hashmon alerts add", []),
    (["alerts", "list", "--deliveries"], "no deliveries yet", []),
    (["digests", "list"], "no digests yet: add one with hashmon digests add", []),
    (["deadletters"], "no dead letters", {"total": 0, "letters": []}),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message", "data"), EMPTY)
def test_an_empty_list_is_a_message_and_exit_0(
    cli_env: dict[str, str],
    sync_client: sync_redis.Redis,
    args: list[str],
    message: str,
    data: object,
) -> None:
    code, out = hashmon(cli_env, *args)
    assert (code, out.startswith(message), out.count("\n")) == (0, True, 1), out
    code, out = hashmon(cli_env, *args, "--format", "json")
    assert (code, json.loads(out)) == (0, data)


def test_every_list_is_a_table_or_json(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    assert hashmon(cli_env, "watch", "add", "#IRGCOutOfIraq")[0] == 0
    assert hashmon(cli_env, "sources", "add", "mastodon", "--url", "https://m.example")[0] == 0
    hook = "https://h.example/x"
    assert hashmon(cli_env, "alerts", "add", "webhook", hook, "--on", "burst")[0] == 0
    assert hashmon(cli_env, "digests", "add", "--list", "default", "--to", str(tmp_path))[0] == 0
    sync_client.xadd(keys.DEADLETTER, {"source": "s", "reason": "r", "raw": b"{}"})
    shown = {
        ("watch", "list"): "#irgcoutofiraq",
        ("watch", "lists"): "default",
        ("sources", "list"): "m.example",
        ("alerts", "list"): "https://h.example/x",
        ("digests", "list"): "default.html",
        ("deadletters",): "r",
    }
    for args, cell in shown.items():
        code, out = hashmon(cli_env, *args)  # piped: a title, a header, tab-separated rows
        rows = [line.split("\t") for line in out.splitlines()[2:]]
        assert code == 0 and any(cell in field for row in rows for field in row), out
        assert not any(line.lstrip().startswith(("{", "[")) for line in out.splitlines()), out
        code, out = hashmon(cli_env, *args, "--format", "json")
        assert code == 0 and cell.lstrip("#") in json.dumps(json.loads(out)), out


def test_counts_are_in_the_right_number(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    one = tmp_path / "one.toml"
    one.write_text('[lists.iraq]\ntags = ["#Iraq"]\n')
    code, out = hashmon(cli_env, "watch", "load", str(one))
    assert (code, out.strip()) == (0, f"{one}: 1 tag on 1 list")
    code, out = hashmon(cli_env, "watch", "lists")
    assert out.startswith("1 watchlist\n") and "1 watchlists" not in out
    code, out = hashmon(cli_env, "watch", "list", "--list", "iraq")
    assert out.startswith("watchlist iraq: 1 tag\n")
    sync_client.xadd(keys.DEADLETTER, {"source": "s", "reason": "r", "raw": b""})
    assert hashmon(cli_env, "deadletters")[1].startswith("1 dead letter\n")
    sync_client.xadd(keys.ingest(0), {"posts": b"[]"})
    code, out = hashmon(cli_env, "status")
    assert "queue: 1 entry waiting, 0 of them delivered" in out and "entries" not in out


@pytest.mark.parametrize(
    "args",
    [
        ["alerts", "add", "webhook", "https://h.example/x", "--on", "burst", "--list", "irak"],
        ["digests", "add", "--list", "irak", "--to", "{tmp}/new"],
    ],
)
def test_alerts_and_digests_refuse_a_watchlist_that_does_not_exist(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path, args: list[str]
) -> None:
    args = [arg.format(tmp=tmp_path) for arg in args]
    code, out = hashmon(cli_env, *args)
    assert code == 2 and one_error_line(out).startswith(
        "error: no watchlist 'irak' (there is none yet); add tags to it first"
    )
    hashmon(cli_env, "watch", "add", "#Iraq", "--list", "iraq")
    hashmon(cli_env, "watch", "add", "#IRGCOutOfIraq")
    before = sync_client.keys("*")
    code, out = hashmon(cli_env, *args)
    assert code == 2 and "no watchlist 'irak' (the lists are default, iraq)" in one_error_line(out)
    assert sync_client.keys("*") == before and not (tmp_path / "new").exists()


def test_digests_add_makes_its_folder(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    hashmon(cli_env, "watch", "add", "#Iraq")
    folder = tmp_path / "reports" / "daily"
    code, out = hashmon(cli_env, "digests", "add", "--list", "default", "--to", str(folder))
    assert (code, out.strip()) == (0, f"default.html: every 24h to {folder}")
    assert folder.is_dir()
    (tmp_path / "file").write_text("")
    code, out = hashmon(cli_env, "digests", "add", "--list", "default", "--to",
                        str(tmp_path / "file" / "sub"))  # fmt: skip
    assert code == 2 and "cannot be made, as" in one_error_line(out)


@pytest.mark.parametrize("tag", ["##Iraq", "#＃Iraq", "###"])
def test_a_tag_with_two_hashes_is_refused(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tag: str
) -> None:
    code, out = hashmon(cli_env, "watch", "add", tag)
    assert code == 2 and one_error_line(out).startswith(
        f"error: invalid tag {tag!r}: one '#' at most, at the start"
    )
    assert sync_client.keys("*") == []


def test_status_without_a_daemon_says_so_and_counts_only_what_waits(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    sync_client.xgroup_create(keys.ingest(0), keys.AGGREGATORS, id="0", mkstream=True)
    entry = sync_client.xadd(keys.ingest(0), {"posts": b"[]"})
    sync_client.xreadgroup(keys.AGGREGATORS, "gone", {keys.ingest(0): ">"}, count=1)
    sync_client.xack(keys.ingest(0), keys.AGGREGATORS, entry)  # applied, not yet trimmed
    code, out = hashmon(cli_env | {"COLUMNS": "200"}, "status")
    assert code == 0
    assert out.startswith("no hashmon daemon is running (no role has a live heartbeat)")
    assert "queue: 0 entries waiting, 0 of them delivered;" in out and "┃" not in out
    status = json.loads(hashmon(cli_env, "status", "--format", "json")[1])
    assert (status["stream_length"], status["waiting"], status["pending"]) == (1, 0, 0)
