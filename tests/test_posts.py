"""Reading posts: the posts a report counts, newest first, filtered, paged, with their words."""

import csv
import io
import json
from pathlib import Path

import pytest
import redis as sync_redis
from aiohttp import ClientSession
from redis.asyncio import Redis

from monitor import watchlist
from monitor.models import Post
from monitor.settings import Settings
from tests.factories import post
from tests.test_aggregator import aggregate
from tests.test_cli import hashmon, one_error_line

FORMULA = '=HYPERLINK("https://evil.example")'


def campaign() -> list[Post]:
    """Twelve posts of #a a minute apart by three accounts; the Persian ones use Arabic letters
    (ي, ك) where others type Persian ones (ی, ک)."""
    texts = ["#a The IRGC out of Iraq", "#a سپاه تروريست است", FORMULA + " #a", "#a nothing here"]
    posts = [post(f"p{n}", f"u{n % 3}", ["a"], at=n * 60, text=texts[n % 4]) for n in range(12)]
    posts.append(post("r", "u9", ["a"], kind="repost", ref="p0", at=30, text=texts[0]))
    return posts


def load(cli_env: dict[str, str], tmp_path: Path) -> None:
    archive = tmp_path / "posts.jsonl"
    archive.write_text("".join(p.model_dump_json() + "\n" for p in campaign()))
    assert hashmon(cli_env, "import", str(archive), "--tag", "#a")[0] == 0


def listed(cli_env: dict[str, str], *args: str) -> dict[str, object]:
    code, out = hashmon(cli_env, "posts", "#a", *args, "--format", "json")
    assert code == 0, out
    found: dict[str, object] = json.loads(out)
    return found


def ids(page: dict[str, object]) -> list[str]:
    return [p["id"] for p in page["posts"]]  # type: ignore[attr-defined]


def test_posts_are_listed_newest_first_and_filtered(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    load(cli_env, tmp_path)
    every = listed(cli_env)
    assert ids(every) == [*(f"p{n}" for n in range(11, 0, -1)), "r", "p0"]  # r at 30 s
    first = every["posts"][0]  # type: ignore[index]
    assert (first["text"], first["handle"], first["time"]) == (
        "#a nothing here", "useru2", "2019-11-27T12:11:00Z"
    )  # fmt: skip
    assert ids(listed(cli_env, "--text", "irgc")) == ["p8", "p4", "r", "p0"]  # any case
    assert ids(listed(cli_env, "--text", "تروریست")) == ["p9", "p5", "p1"]  # ی finds ي
    assert ids(listed(cli_env, "--account", "@USERU1")) == ["p10", "p7", "p4", "p1"]
    assert ids(listed(cli_env, "--kind", "repost")) == ["r"]
    assert ids(listed(cli_env, "--since", "2m")) == ["p11", "p10", "p9"]


def test_pages_cover_every_post_once(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    load(cli_env, tmp_path)
    seen: list[str] = []
    cursor: object = None
    for _ in range(10):
        page = listed(cli_env, "--limit", "5", *(["--cursor", str(cursor)] if cursor else []))
        seen += ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids(listed(cli_env)) and len(seen) == len(set(seen)) == 13


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--kind", "boost"], 2, "--kind 'boost': one of original, repost, quote, reply"),
        (["--cursor", "yesterday"], 2, "invalid cursor 'yesterday'"),
        (["--text", "  "], 2, "--text: give at least one word"),
        (["--account", "@nobody"], 1, "no account @nobody posted #a"),
        (["--limit", "501"], 2, "less than or equal to 500"),
        (["--since", "99999999d"], 2, "longer than a century"),
    ],
)
def test_bad_filters_are_one_line(
    cli_env: dict[str, str],
    sync_client: sync_redis.Redis,
    tmp_path: Path,
    args: list[str],
    code: int,
    message: str,
) -> None:
    load(cli_env, tmp_path)
    said, out = hashmon(cli_env, "posts", "#a", *args)
    assert said == code and message in one_error_line(out), out


def test_csv_and_table_are_safe(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    load(cli_env, tmp_path)
    code, out = hashmon(cli_env, "posts", "#a", "--text", "hyperlink", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["id"] for r in rows] == ["p10", "p6", "p2"]
    assert rows[0]["text"] == "'" + FORMULA + " #a"
    code, out = hashmon(cli_env, "posts", "#a", "--limit", "3")
    lines = out.splitlines()  # piped: tab-separated, under a title
    header = lines.index("time\tby\tkind\tsaid\tpost")
    assert lines[header - 1] == "#a: newest first" and len(lines[header + 1 :][:3]) == 3
    assert "more: --cursor " in out


async def test_the_api_lists_the_same_posts(
    redis: Redis, settings: Settings, api: tuple[ClientSession, str]
) -> None:
    await watchlist.add(redis, "default", ["a"])
    await aggregate(redis, settings, campaign(), batch=50)
    client, base = api
    async with client.get(f"{base}/api/tags/a/posts?text=IRGC&limit=2") as response:
        page = await response.json()
    assert response.status == 200 and ids(page) == ["p8", "p4"]
    async with client.get(f"{base}/api/tags/a/posts?text=IRGC&cursor={page['next_cursor']}") as r:
        assert ids(await r.json()) == ["r", "p0"]
    for query, status, field in (("cursor=x:y", 400, "cursor"), ("kind=boost", 400, "kind"),
                                 ("account=@nobody", 404, "account")):  # fmt: skip
        async with client.get(f"{base}/api/tags/a/posts?{query}") as response:
            assert (response.status, (await response.json())["field"]) == (status, field)
