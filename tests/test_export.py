"""hashmon export posts: the rows a report counts, safe to open in a spreadsheet."""

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import redis as sync_redis

from tests.factories import post
from tests.test_cli import hashmon, one_error_line

FORMULA = '=HYPERLINK("http://evil.example","x")'
SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def test_export_has_one_row_per_post_the_report_counts(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    posts = [post(f"o{i}", f"u{i % 3}", ["a", "b"], at=i * 60) for i in range(5)]
    posts.append(post("r1", "f1", ["a"], kind="repost", ref="o0", ref_author="u0", at=30,
                      handle=FORMULA))  # fmt: skip
    archive = tmp_path / "posts.jsonl"
    archive.write_text("".join(p.model_dump_json() + "\n" for p in posts))
    assert hashmon(cli_env, "import", str(archive), "--tag", "#a")[0] == 0

    code, out = hashmon(cli_env, "export", "posts", "#a")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    report = json.loads(hashmon(cli_env, "report", "#a", "--format", "json")[1])
    assert len(rows) == report["posts"]["total"] == 6
    repost = next(r for r in rows if r["id"] == "r1")
    assert (repost["kind"], repost["referenced_id"], repost["tags"]) == ("repost", "o0", "a")
    assert repost["handle"] == "'" + FORMULA  # a spreadsheet shows it, does not run it
    assert rows[0]["created_at"] == "2019-11-27T12:00:00Z"  # oldest first

    target = tmp_path / "a.jsonl"
    code, out = hashmon(cli_env, "export", "posts", "a", "-f", "jsonl", "--since", "2m", "-o",
                        str(target))  # fmt: skip
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert code == 0 and "wrote 3 posts" in out
    assert [line["id"] for line in lines] == ["o2", "o3", "o4"]  # the last 2 minutes, inclusive
    assert lines[0]["hashtags"] == ["a", "b"] and lines[0]["author_handle"] == "useru2"
    assert lines[0]["text"] == "#a #b" and lines[0]["created_at"] == "2019-11-27T12:02:00Z"


def test_export_of_a_tag_without_posts_is_one_line(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    code, out = hashmon(cli_env, "export", "posts", "#nothing")
    assert code == 1 and "#nothing has no posts" in one_error_line(out)
    code, out = hashmon(cli_env, "export", "posts", "#a", "--since", "soon")
    assert code == 2 and "invalid time 'soon'" in one_error_line(out)


def test_parquet_and_volume_exports_hold_the_report_figures(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    posts = [post(f"o{i}", f"u{i % 3}", ["a"], at=i * 90) for i in range(8)]
    posts.append(post("r1", "f1", ["a"], kind="repost", ref="o0", ref_author="u0", at=30))
    archive = tmp_path / "posts.jsonl"
    archive.write_text("".join(p.model_dump_json() + "\n" for p in posts))
    assert hashmon(cli_env, "import", str(archive), "--tag", "#a")[0] == 0
    report = json.loads(hashmon(cli_env, "report", "#a", "--format", "json")[1])

    target = tmp_path / "a.parquet"
    assert hashmon(cli_env, "export", "posts", "a", "-f", "parquet", "-o", str(target))[0] == 0
    table = pq.read_table(target)
    assert table.num_rows == report["posts"]["total"] == 9
    assert str(table.schema.field("created_at").type) == "timestamp[ms, tz=UTC]"
    rows = table.to_pylist()
    assert rows[0]["created_at"] == datetime(2019, 11, 27, 12, 0, tzinfo=UTC)
    assert rows[0]["tags"] == ["a"] and {r["kind"] for r in rows} == {"original", "repost"}

    code, out = hashmon(cli_env, "export", "volume", "a")
    series = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["start"] for r in series] == [v["start"] for v in report["volume"]]
    assert sum(int(r["posts"]) for r in series) == 9
    assert [int(r["people"]) for r in series] == [v["people"] for v in report["volume"]]
    assert sum(int(r["repost"]) for r in series) == 1

    code, out = hashmon(cli_env, "export", "posts", "a", "-f", "parquet")
    assert code == 2 and "--format parquet needs --output FILE" in one_error_line(out)


def test_an_export_imports_as_the_same_posts_and_gives_the_same_report(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    assert hashmon(cli_env, "watch", "load", str(SEEDS / "watchlists.toml"))[0] == 0
    assert hashmon(cli_env, "import", str(SEEDS / "sample-campaign.jsonl"))[0] == 0
    before = hashmon(cli_env, "report", "#IRGCOutOfIraq", "--format", "json", "--top", "50")[1]
    exported = tmp_path / "irgc.jsonl"
    code, out = hashmon(cli_env, "export", "posts", "#IRGCOutOfIraq", "-f", "jsonl", "-o",
                        str(exported))  # fmt: skip
    assert code == 0 and "wrote 1,880 posts" in out

    sync_client.flushdb()  # a fresh data directory, as a colleague's
    assert hashmon(cli_env, "watch", "load", str(SEEDS / "watchlists.toml"))[0] == 0
    code, out = hashmon(cli_env, "import", str(exported))
    assert code == 0 and "1,880 posts read, 1,880 new" in out, out
    after = hashmon(cli_env, "report", "#IRGCOutOfIraq", "--format", "json", "--top", "50")[1]
    for key, value in json.loads(before).items():
        assert json.loads(after)[key] == value, key
    assert any(post["text"] for post in json.loads(after)["top_posts"])


def test_csv_cells_are_safe_whatever_the_post_says(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    hostile = f"{FORMULA}\x1b[31m \u202eevil"
    evil = post("e", "u", ["a"], text=hostile, links=["https://x.example/=1"])
    archive = tmp_path / "posts.jsonl"
    archive.write_text(evil.model_copy(update={"author_name": "@SUM(A1)"}).model_dump_json() + "\n")
    assert hashmon(cli_env, "import", str(archive), "--tag", "#a")[0] == 0
    code, out = hashmon(cli_env, "export", "posts", "#a")
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert row["text"] == "'" + f"{FORMULA}[31m evil" and row["name"] == "'@SUM(A1)"
    assert row["links"] == "https://x.example/=1" and row["id"] == "e"
