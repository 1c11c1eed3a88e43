"""Bad input, generated: whatever hypothesis makes, the tag rules, the importers, the CLI and the
API answer with a result or a one-line error, never a traceback or a 5xx, and lose nothing that
was already accepted."""

import json
import string
from pathlib import Path

import pytest
import redis as sync_redis
from aiohttp import ClientSession
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from monitor import hashtags, keys, watchlist
from monitor.importers.files import ImportFileError, open_archive
from tests.conftest import TOKEN
from tests.factories import post
from tests.test_cli import hashmon

FAST = settings(max_examples=300, deadline=None)
SLOW = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TAG = "irgcoutofiraq"

# Text as users and platforms write it: any script, marks, joiners, bidi controls, '#'.
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"])
    | st.sampled_from("#＃_\u200c\u200d\u202e\u0640 \t\n"),
    max_size=80,
)


@FAST
@given(texts)
def test_every_tag_found_in_text_is_a_fixed_point_of_the_rules(text: str) -> None:
    for normal in hashtags.carried(hashtags.extract(text)):
        assert hashtags.is_valid(normal)
        assert hashtags.normalise(normal) == normal
        assert hashtags.parse(f"#{normal}") == normal


@FAST
@given(texts)
def test_a_typed_tag_is_its_normal_form_or_a_one_line_error(raw: str) -> None:
    try:
        tag = hashtags.parse(raw)
    except hashtags.InvalidTag as exc:
        assert str(exc).startswith("invalid tag ") and "\n" not in str(exc)
    else:
        assert hashtags.is_valid(tag) and hashtags.parse(tag) == tag


def _good(n: int) -> bytes:
    return post(f"good{n}", f"u{n}", ["IRGCOutOfIraq"], at=n).model_dump_json().encode()


# One line each (no newline inside): broken JSON, JSON of the wrong shape, binary-looking bytes.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)
garbage = st.one_of(
    st.binary(max_size=60),
    texts.map(str.encode),
    json_values.map(lambda value: json.dumps(value, ensure_ascii=False).encode()),
    st.builds(lambda n, cut: _good(n)[:cut], st.integers(0, 999), st.integers(0, 200)),
    st.fixed_dictionaries({"platform": st.text(max_size=5), "id": json_values}).map(
        lambda value: json.dumps(value).encode()
    ),
).map(lambda line: line.replace(b"\n", b" ").replace(b"\r", b" "))
archives = st.lists(st.integers(0, 999).map(_good) | garbage, min_size=1, max_size=25)


def _write(directory: Path, lines: list[bytes]) -> Path:
    path = directory / "archive.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


GOOD = {_good(n): f"good{n}" for n in range(1_000)}


def _good_ids(lines: list[bytes]) -> list[str]:
    return [GOOD[line] for line in lines if line in GOOD]


@FAST
@given(archives, st.sampled_from(["auto", "jsonl"]))
def test_an_archive_keeps_every_good_line_and_names_each_bad_one(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], fmt: str
) -> None:
    path = _write(tmp_path_factory.mktemp("archive"), lines)
    try:
        archive = open_archive(path, fmt)  # type: ignore[arg-type]  # both are formats
    except ImportFileError as exc:  # refused as a whole (binary, a format not told, ...)
        assert "archive.jsonl" in str(exc) and "\n" not in str(exc)
        return
    read = [line for line, _ in archive.lines()]
    assert [p.id for line in read for p in line.posts] == _good_ids(lines)
    for line in read:
        assert (line.error is None) == bool(line.posts)
        assert line.error is None or "\n" not in line.error


@SLOW
@given(archives)
def test_import_of_a_mixed_archive_loses_no_good_post(
    cli_env: dict[str, str],
    sync_client: sync_redis.Redis,
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[bytes],
) -> None:
    sync_client.flushdb()
    path = _write(tmp_path_factory.mktemp("import"), lines)
    code, out = hashmon(cli_env, "import", str(path), "--format", "jsonl", "--tag", TAG)
    if code == 2:  # refused as a whole: one line, and nothing written
        assert len([line for line in out.splitlines() if line.startswith("error: ")]) == 1
        assert sync_client.zcard(keys.timeline(TAG)) == 0
        return
    good = set(_good_ids(lines))
    assert code == (0 if good else 1), out  # 1: every line rejected, nothing to import
    members: list[bytes] = sync_client.zrange(keys.timeline(TAG), 0, -1)  # type: ignore[assignment]
    stored = {member.decode().split(":", 1)[1] for member in members}
    assert stored == good


windows = st.one_of(
    texts, st.sampled_from(["24h", "7d", "90m", "0m", "-1h", "2019-11-27T12:00:00Z", "1e9h"])
)


@pytest.fixture
def five_posts(cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path) -> None:
    path = _write(tmp_path, [_good(n * 600) for n in range(5)])  # ten minutes apart
    assert hashmon(cli_env, "import", str(path), "--tag", TAG)[0] == 0


@SLOW
@given(since=windows, until=windows, top=st.integers(-5, 10**12).map(str) | texts)
@pytest.mark.usefixtures("five_posts")
def test_report_options_get_a_report_or_one_line(
    cli_env: dict[str, str], since: str, until: str, top: str
) -> None:
    code, out = hashmon(cli_env, "report", f"#{TAG}", "--since", since, "--until", until,
                        "--top", top, "--format", "json")  # fmt: skip
    if code == 0:
        assert 0 <= json.loads(out)["posts"]["total"] <= 5
    else:
        assert code == 2
        assert len([line for line in out.splitlines() if line.startswith("error: ")]) == 1, out


@SLOW
@given(tags=st.lists(texts, min_size=1, max_size=3), name=texts)
def test_watch_add_accepts_all_or_changes_nothing(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tags: list[str], name: str
) -> None:
    sync_client.flushdb()
    code, out = hashmon(cli_env, "watch", "add", *tags, "--list", name)
    if code == 0:
        assert sync_client.smembers(keys.watchlist(name)) == {
            hashtags.parse(t).encode() for t in tags
        }
    else:
        assert code == 2 and sync_client.keys("*") == [], out


NAMES = ["since", "until", "top", "format", "behaviour", "window", "min_weight", "text_rule",
         "threshold", "a", "b"]  # fmt: skip
params = st.dictionaries(
    st.sampled_from(NAMES),
    texts | st.integers(-10, 10**6).map(str),
    max_size=5,
)
ROUTES = [f"/api/tags/{TAG}/{name}" for name in ("report", "network", "evidence")]
paths = st.sampled_from([*ROUTES, "/api/watchlists/default/summary"])


@SLOW
@given(path=paths, query=params)
async def test_api_parameters_get_an_answer_or_a_json_error_naming_the_field(
    redis: Redis,
    api: tuple[ClientSession, str],
    path: str,
    query: dict[str, str],
) -> None:
    await watchlist.add(redis, "default", [TAG])
    client, base = api
    async with client.get(base + path, params=query) as response:
        status = response.status
        body = await response.json() if response.content_type == "application/json" else {}
    assert status in (200, 400, 404), (status, body)
    if status == 400:
        assert body["error"] and "\n" not in body["error"]
        assert body["field"] in {*query, "since/until", "behaviour", "a", "b"}  # the last: needed


@SLOW
@given(body=json_values, name=st.text(string.ascii_letters + "-_ ", max_size=12))
async def test_api_writes_accept_all_or_change_nothing(
    redis: Redis,
    api: tuple[ClientSession, str],
    body: object,
    name: str,
) -> None:
    client, base = api
    before = {n: await watchlist.tags(redis, n) for n in await watchlist.names(redis)}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{base}/api/watchlists/{name or 'x'}/tags"
    async with client.post(url, data=json.dumps(body), headers=auth) as response:
        status, answer = response.status, await response.json()
    assert status in (200, 400, 404), (status, answer)
    if status != 200:
        assert answer["error"] and answer.get("field") in {"body", "tags", "tag", "list", None}
        assert {n: await watchlist.tags(redis, n) for n in await watchlist.names(redis)} == before
