"""hashmon sources load and hashmon run --sources: the seed file, checked whole, loaded once."""

import json
from pathlib import Path

import pytest
import redis as sync_redis

from monitor import keys
from tests.test_cli import hashmon, one_error_line

SEED = Path(__file__).resolve().parents[1] / "seeds" / "sources.toml"


def stored(client: sync_redis.Redis) -> dict[str, dict[str, object]]:
    found: dict[bytes, bytes] = client.hgetall(keys.SOURCES)  # type: ignore[assignment]  # redis-py's sync stubs are loose
    return {name.decode(): json.loads(value) for name, value in found.items()}


def test_the_seed_file_holds_the_credential_free_sources(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    code, out = hashmon(cli_env, "sources", "load", str(SEED))
    assert (code, out.strip()) == (0, f"{SEED}: 4 added, 0 already there")
    found = stored(sync_client)
    assert {name: (s["platform"], s["base_url"]) for name, s in found.items()} == {
        "bluesky-jetstream": ("bluesky-jetstream", "wss://jetstream2.us-east.bsky.network"),
        "mastodon.social": ("mastodon", "https://mastodon.social"),
        "mastodon.online": ("mastodon", "https://mastodon.online"),
        "infosec.exchange": ("mastodon", "https://infosec.exchange"),
    }
    assert all(s["token_env"] is None and s["secret_env"] is None for s in found.values())


def test_loading_twice_adds_nothing_and_keeps_what_was_stored(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    args = ["sources", "add", "mastodon", "--instance", "https://mastodon.social", "--rate", "9/60"]
    assert hashmon(cli_env, *args)[0] == 0
    sync_client.hset(keys.cursors("mastodon.social"), "irgcoutofiraq", '{"newest": "7"}')
    code, out = hashmon(cli_env, "sources", "load", str(SEED))
    assert (code, out.strip()) == (0, f"{SEED}: 3 added, 1 already there")
    first = stored(sync_client)
    code, out = hashmon(cli_env, "sources", "load", str(SEED))
    assert (code, out.strip()) == (0, f"{SEED}: 0 added, 4 already there")
    assert stored(sync_client) == first and len(first) == 4
    assert first["mastodon.social"]["rate"] == 9  # the user's edit stands
    assert sync_client.hget(keys.cursors("mastodon.social"), "irgcoutofiraq") == b'{"newest": "7"}'


GOOD = '[sources.home]\nkind = "mastodon"\nurl = "https://m.example"\n'


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[sources.home\nkind = 1", "invalid TOML: "),
        ('[sources.bad]\nkind = "mastodont"\n', "sources.bad: unknown kind 'mastodont'; expected"),
        ("[sources.bad]\nurl = 'https://m.example'\n", "sources.bad: no kind; one of mastodon"),
        ('[sources.bad]\nkind = "mastodon"\nurl = "m.example"\n',
         "sources.bad: invalid URL 'm.example': expected http://host or https://host"),
        ('[sources.bad]\nkind = "mastodon"\n', 'sources.bad: mastodon needs url = "https://..."'),
        ('[sources.bad]\nkind = "mastodon"\nurl = "https://b.example"\ntoken = "x"\n',
         "sources.bad: unknown field 'token'"),
        ('[sources.bad]\nkind = "x"\n', "sources.bad: x needs credentials"),
        ('[sources.bad]\nkind = "mastodon"\nurl = "https://b.example"\nrate = 5\n',
         "sources.bad.rate: a string is expected"),
        ('[sources."b a d"]\nkind = "mastodon"\nurl = "https://b.example"\n',
         "invalid source name 'b a d'"),
    ],
)  # fmt: skip
def test_a_bad_file_is_one_line_naming_it_and_nothing_stored_is_lost(
    cli_env: dict[str, str],
    sync_client: sync_redis.Redis,
    tmp_path: Path,
    text: str,
    problem: str,
) -> None:
    assert hashmon(cli_env, "sources", "load", str(SEED))[0] == 0
    before = stored(sync_client)
    path = tmp_path / "sources.toml"
    path.write_text(GOOD + text)  # a good source first: it is not stored either
    code, out = hashmon(cli_env, "sources", "load", str(path))
    line = one_error_line(out)
    assert code == 2 and line.startswith(f"error: {path}: ") and problem in line, line
    assert stored(sync_client) == before


def test_a_missing_or_empty_file_is_one_line(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    code, out = hashmon(cli_env, "sources", "load", "nowhere.toml")
    assert (code, one_error_line(out)) == (2, "error: nowhere.toml: no such file")
    (tmp_path / "lists.toml").write_text('[lists.default]\ntags = ["#a"]\n')
    code, out = hashmon(cli_env, "sources", "load", str(tmp_path / "lists.toml"))
    assert (code, one_error_line(out)) == (
        2,
        f"error: {tmp_path}/lists.toml: no [sources.NAME] tables",
    )
    assert sync_client.hlen(keys.SOURCES) == 0


def test_run_checks_its_sources_file_before_starting(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[sources.bad]\nkind = "gopher"\n')
    code, out = hashmon(cli_env, "run", "--sources", str(path))
    assert code == 2 and "sources.bad: unknown kind 'gopher'" in one_error_line(out)
    assert sync_client.keys("*") == []
