"""The CLI as a new user meets it: one-line errors, exit codes, and Redis unchanged on bad input."""

import json
import os
from pathlib import Path

import pytest
import redis as sync_redis
from typer.testing import CliRunner

from monitor.cli import app

runner = CliRunner()


def hashmon(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env, prog_name="hashmon")
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def one_error_line(output: str) -> str:
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output
    return errors[0]


def test_watch_add_list_remove(cli_env: dict[str, str], sync_client: sync_redis.Redis) -> None:
    assert hashmon(cli_env, "watch", "add", "#IRGCOutOfIraq", "#BlackListMOIS")[0] == 0
    assert hashmon(cli_env, "watch", "add", "#IraqProtests", "--list", "iraq-2019")[0] == 0
    code, out = hashmon(cli_env, "watch", "list")
    title, header, *rows = out.splitlines()  # piped: tab-separated, under a title and header
    assert (code, title, header, rows) == (
        0,
        "watchlist default: 2 tags",
        "tag",
        ["#blacklistmois", "#irgcoutofiraq"],
    )
    code, out = hashmon(cli_env, "watch", "list", "--list", "iraq-2019", "--format", "json")
    assert json.loads(out) == {"list": "iraq-2019", "tags": ["iraqprotests"]}
    code, out = hashmon(cli_env, "watch", "lists", "--format", "json")
    assert json.loads(out) == {"default": 2, "iraq-2019": 1}
    code, out = hashmon(cli_env, "watch", "remove", "#IRAQPROTESTS", "--list", "iraq-2019")
    assert (code, "1 removed" in out) == (0, True)
    assert json.loads(hashmon(cli_env, "watch", "lists", "--format", "json")[1]) == {"default": 2}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["watch", "add", "#ok", ""], "invalid tag '': empty"),
        (["watch", "add", "#ok", "#"], "invalid tag '#': empty"),
        (["watch", "add", "#ok", "two words"], "contains white space"),
        (["watch", "add", "#ok", "?!..."], "only letters"),
        (["watch", "add", "#ok", "x" * 500], "longer than 100 characters"),
        (["watch", "add", "#ok", "--list", "bad name"], "invalid list name 'bad name'"),
        (["import", "nowhere.jsonl", "--tag", "y" * 500], "longer than 100 characters"),
        (["report", "#ok", "--since", "yesterday"], "invalid time 'yesterday'"),
        (["report"], "give a TAG or --list NAME"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, args: list[str], message: str
) -> None:
    code, out = hashmon(cli_env, *args)
    assert code == 2
    assert message in one_error_line(out)
    assert sync_client.keys("*") == []


def test_report_on_unknown_or_empty_tag_fails(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    code, out = hashmon(cli_env, "report", "#Nowhere")
    assert code == 1
    assert one_error_line(out) == "error: #nowhere is not on any watchlist"
    hashmon(cli_env, "watch", "add", "#quiet")
    code, out = hashmon(cli_env, "report", "#quiet")
    assert (code, one_error_line(out)) == (1, "error: #quiet has no posts yet")


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def test_unusable_files_are_refused_whole(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    users = b'{"id": "1", "username": "a", "name": "A"}\n{"id": "2", "username": "b"}\n'
    cases = {
        str(tmp_path / "missing.jsonl"): "no such file",
        write(tmp_path / "empty.jsonl", b""): "empty",
        write(tmp_path / "binary.jsonl", os.urandom(2048) + b"\x00" * 16): "binary",
        write(tmp_path / "users.jsonl", users): "cannot tell the format",
    }
    for path, problem in cases.items():
        code, out = hashmon(cli_env, "import", path, "--tag", "t")
        assert code == 2, out
        assert problem in one_error_line(out) and path.split("/")[-1] in out
    assert sync_client.keys("*") == []  # not even the --tag was added


def test_users_forced_as_twarc2_are_all_rejected(cli_env: dict[str, str], tmp_path: Path) -> None:
    users = write(tmp_path / "users.jsonl", b'{"id": "1", "username": "a"}\n' * 3)
    code, out = hashmon(cli_env, "import", users, "--format", "twarc2", "--tag", "t")
    assert code == 1
    assert "line 1: not a twarc2 page or tweet" in out
    assert one_error_line(out) == "error: no posts imported: all 3 lines were rejected"


def test_unusable_data_directory_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    env = {"HASHMON_REDIS_URL": "", "HASHMON_DATA_DIR": str(blocker / "data")}
    code, out = hashmon(env, "watch", "list")
    assert code == 1
    assert one_error_line(out).startswith(f"error: cannot use data directory {blocker / 'data'}")


def test_bad_setting_is_one_line(cli_env: dict[str, str]) -> None:
    code, out = hashmon({**cli_env, "HASHMON_READ_COUNT": "0"}, "watch", "lists")
    assert code == 2
    assert one_error_line(out) == (
        "error: setting read_count (HASHMON_READ_COUNT or read_count in hashmon.toml): "
        "Input should be greater than 0"
    )


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("retention_days = [\n", "error: hashmon.toml: invalid TOML: "),
        ("bogus = 1\n", "error: setting bogus (HASHMON_BOGUS or bogus in hashmon.toml): Extra"),
    ],
)
def test_bad_settings_file_is_one_line(
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    toml: str,
    message: str,
) -> None:
    (tmp_path / "hashmon.toml").write_text(toml)
    monkeypatch.chdir(tmp_path)  # the settings file is read from the working directory
    code, out = hashmon(cli_env, "watch", "lists")
    assert code == 2
    assert one_error_line(out).startswith(message)


def test_deadletters_lists_what_was_set_aside(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    sync_client.xadd(
        "hashmon:deadletter", {"source": "ingest:1-0", "reason": "bad", "raw": b"\x1b[31mx"}
    )
    code, out = hashmon(cli_env, "deadletters", "--format", "json")
    assert code == 0
    assert json.loads(out)["total"] == 1
    assert json.loads(out)["letters"][0]["reason"] == "bad"
    code, out = hashmon(cli_env, "deadletters")
    assert code == 0 and "1 dead letter\n" in out and "ingest:1-0" in out
    assert "\x1b" not in out  # control characters from hostile payloads are not replayed


def test_status_counts_the_queue_and_dead_letters(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    code, out = hashmon(cli_env, "status", "--format", "json")
    assert code == 0
    assert json.loads(out) == {
        "roles": [], "stream_length": 0, "shard_lengths": [0], "pending": 0, "waiting": 0,
        "oldest_waiting_s": None, "dead_letters": 0, "watched_tags": 0, "conditions": [],
    }  # fmt: skip
    sync_client.xgroup_create("hashmon:ingest", "aggregators", id="0", mkstream=True)
    sync_client.xadd("hashmon:ingest", {"posts": b"[]"})
    sync_client.xadd("hashmon:ingest", {"posts": b"[]"})
    sync_client.xreadgroup("aggregators", "gone", {"hashmon:ingest": ">"}, count=1)
    sync_client.xadd("hashmon:deadletter", {"source": "s", "reason": "r", "raw": b""})
    hashmon(cli_env, "watch", "add", "#a", "#b")
    status = json.loads(hashmon(cli_env, "status", "--format", "json")[1])
    waiting = status.pop("oldest_waiting_s")
    assert status == {
        "roles": [], "stream_length": 2, "shard_lengths": [2], "pending": 1, "waiting": 2,
        "dead_letters": 1, "watched_tags": 2, "conditions": [],
    }  # fmt: skip
    assert 0 <= waiting < 60  # the entry still pending, published a moment ago
    code, out = hashmon(cli_env, "status", "--check")
    assert code == 1 and one_error_line(out) == "error: no aggregator is running"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["watch", "add", "-x"], "error: No such option: -x (see 'hashmon watch add --help')"),
        (["report", "#a", "--top", "many"], "error: Invalid value for '--top': Input should be a "
         "valid integer, unable to parse string as an integer (see 'hashmon report --help')"),
        (["watch", "add"], "error: Missing argument 'tags'. (see 'hashmon watch add --help')"),
        (["reprot"], "error: No such command 'reprot'. Did you mean 'report', 'export'? "
         "(see 'hashmon --help')"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line(cli_env: dict[str, str], args: list[str], message: str) -> None:
    code, out = hashmon(cli_env, *args)
    assert (code, out.strip()) == (2, message)
