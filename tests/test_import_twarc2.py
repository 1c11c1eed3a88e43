"""Real twarc2 files through the whole pipeline: import, stream, aggregate, report.

Figures are checked against an independent count of each file made with plain json, and a
second import of the same file must change no figure.
"""

import json
from collections import defaultdict
from pathlib import Path

import pytest
import redis as sync_redis
from typer.testing import CliRunner

from monitor import hashtags
from monitor.cli import app
from tests.conftest import SHARED

REAL = [
    pytest.param(path, id=path.name)
    for path in sorted(
        [*SHARED.glob("data/twarc2/*.jsonl"), *SHARED.glob("platforms/fixtures/twarc2/*.jsonl")]
    )
] or [pytest.param(None, marks=pytest.mark.skip(reason=f"no twarc2 files under {SHARED}"))]
runner = CliRunner()


# Any: decoded JSON, walked as plain dicts so the count owes nothing to the importer.
def independent_count(path: Path) -> dict[str, tuple[int, int]]:
    """Normalised tag -> (distinct tweets, distinct authors), with the retweet rule."""
    posts: dict[str, set[str]] = defaultdict(set)
    people: dict[str, set[str]] = defaultdict(set)
    for raw in path.read_bytes().splitlines():
        try:
            page = json.loads(raw)
        except ValueError:
            continue  # the truncated last line: rejected, counted apart
        if "data" in page:
            data = page["data"] if isinstance(page["data"], list) else [page["data"]]
            included = {t["id"]: t for t in (page.get("includes") or {}).get("tweets", [])}
        elif "id" in page:
            data = [page]
            included = {r["id"]: r for r in page.get("referenced_tweets", []) if "text" in r}
        else:
            continue
        for tweet in data:
            retweeted = [r["id"] for r in tweet.get("referenced_tweets", [])
                         if r["type"] == "retweeted"]  # fmt: skip
            source = included[retweeted[0]] if retweeted and retweeted[0] in included else tweet
            for entity in source.get("entities", {}).get("hashtags", []):
                tag = hashtags.normalise(entity["tag"])
                posts[tag].add(tweet["id"])
                people[tag].add(tweet["author_id"])
    return {tag: (len(posts[tag]), len(people[tag])) for tag in posts}


def report(env: dict[str, str], tag: str) -> dict[str, object]:
    result = runner.invoke(app, ["report", tag, "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    loaded: dict[str, object] = json.loads(result.output)
    return loaded


@pytest.mark.parametrize("path", REAL)
def test_import_matches_an_independent_count_and_is_idempotent(
    path: Path, cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    env = {**cli_env, "HASHMON_RETENTION_DAYS": "100000"}  # keep every year of the archive
    expected = independent_count(path)
    tags = sorted(expected) or ["unused"]  # a file without tags must still import cleanly
    assert runner.invoke(app, ["watch", "add", *tags], env=env).exit_code == 0
    first = runner.invoke(app, ["import", str(path)], env=env)
    assert first.exit_code == 0, first.output
    if not expected:
        assert " 0 new," in first.output and "0 lines rejected" in first.output, first.output
        return
    reports = {tag: report(env, tag) for tag in tags}
    for tag, (posts, people) in expected.items():
        figures = reports[tag]
        assert (figures["posts"]["total"], figures["people"]) == (posts, people), tag  # type: ignore[index]
    again = runner.invoke(app, ["import", str(path)], env=env)
    assert again.exit_code == 0 and " 0 new," in again.output, again.output
    assert {tag: report(env, tag) for tag in tags} == reports


def test_truncated_last_line_is_rejected_and_the_rest_imported(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    path = SHARED / "platforms" / "fixtures" / "twarc2" / "searches_truncated.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared is not beside this clone)")
    result = runner.invoke(app, ["import", str(path), "--tag", "#IRGCOutOfIraq"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "searches_truncated.jsonl:line 2: invalid JSON (truncated?)" in result.output
    assert "1 line rejected" in result.output
    assert sync_client.zcard("hashmon:{irgcoutofiraq}:timeline") > 0
