"""hashmon network and hashmon evidence through the command line: formats, and bad input."""

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest
import redis as sync_redis

from tests.factories import post
from tests.test_cli import hashmon, one_error_line

FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture
def imported(cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path) -> None:
    """Accounts 1 and 2 post the same text three times within seconds; 3 once, a minute off."""
    text = "Leave now #IRGCOutOfIraq"
    posts = [post(f"{n}{who}", who, ["IRGCOutOfIraq"], text=text, at=n * 600 + int(who),
                  handle=FORMULA if who == "2" else None)
             for n in range(3) for who in "12"]  # fmt: skip
    posts.append(post("x3", "3", ["IRGCOutOfIraq"], text=text, at=90))
    archive = tmp_path / "posts.jsonl"
    archive.write_text("".join(p.model_dump_json() + "\n" for p in posts))
    assert hashmon(cli_env, "import", str(archive), "--tag", "IRGCOutOfIraq")[0] == 0


@pytest.mark.usefixtures("imported")
def test_network_csv_has_both_directions_with_ids_and_handles(cli_env: dict[str, str]) -> None:
    code, out = hashmon(cli_env, "network", "#IRGCOutOfIraq", "-b", "co-post")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["source"], r["target"], r["behaviour"], r["weight"]) for r in rows] == [
        ("1", "2", "co-post", "3"), ("2", "1", "co-post", "3"),
    ]  # fmt: skip
    assert rows[0]["source_handle"] == "user1"
    assert rows[0]["target_handle"] == "'" + FORMULA  # neutralised for spreadsheets
    code, out = hashmon(cli_env, "network", "#IRGCOutOfIraq", "-b", "co-post", "--window", "90",
                        "--min-weight", "1")  # fmt: skip
    assert {(r["source"], r["target"]) for r in csv.DictReader(io.StringIO(out))} == {
        ("1", "2"), ("2", "1"), ("1", "3"), ("3", "1"), ("2", "3"), ("3", "2"),
    }  # fmt: skip


@pytest.mark.usefixtures("imported")
def test_network_json_gexf_and_graphml_hold_the_same_edges(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    code, out = hashmon(cli_env, "network", "IRGCOutOfIraq", "-b", "co-post", "-f", "json")
    found = json.loads(out)
    assert code == 0 and found["parameters"]["window_s"] == 60
    assert found["clusters"] == [
        {"size": 2, "members": ["1", "2"], "weight": 6, "evidence_pairs": 3, "posts": 6}
    ]
    for fmt in ("gexf", "graphml"):
        target = tmp_path / f"net.{fmt}"
        assert hashmon(cli_env, "network", "IRGCOutOfIraq", "-b", "co-post", "-f", fmt,
                       "-o", str(target))[0] == 0  # fmt: skip
        ET.parse(target)  # well-formed XML
        graph = nx.read_gexf(target) if fmt == "gexf" else nx.read_graphml(target)
        assert sorted((a, b, d["weight"]) for a, b, d in graph.edges(data=True)) == [
            ("1", "2", 3), ("2", "1", 3),
        ]  # fmt: skip


@pytest.mark.usefixtures("imported")
def test_evidence_lists_the_posts_behind_an_edge(cli_env: dict[str, str]) -> None:
    code, out = hashmon(cli_env, "evidence", "IRGCOutOfIraq", "2", "1", "-b", "co-post", "--json")
    pairs = json.loads(out)
    assert code == 0
    assert [(p["first"]["post"], p["second"]["post"], p["dt_s"]) for p in pairs] == [
        ("x:01", "x:02", 1.0), ("x:11", "x:12", 1.0), ("x:21", "x:22", 1.0),
    ]  # fmt: skip
    assert {p["shared"] for p in pairs} == {"leave now #irgcoutofiraq"}
    code, out = hashmon(cli_env, "evidence", "IRGCOutOfIraq", "1", "2")
    assert code == 0 and "co-post: 3 matching pairs" in out
    code, out = hashmon(cli_env, "evidence", "IRGCOutOfIraq", "1", "nobody")
    assert code == 1 and one_error_line(out) == "error: no account nobody posted #irgcoutofiraq"


@pytest.mark.usefixtures("imported")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--window", "301"], "--window 301: must be 0 to 300 seconds"),
        (["--threshold", "0.5"], "--threshold 0.5: must be 0.8 to 1"),
        (["--min-weight", "0"], "--min-weight 0: must be at least 1"),
        (["--since", "yesterday-ish"], "invalid time 'yesterday-ish'"),
    ],
)
def test_bad_parameters_are_one_line_errors(
    cli_env: dict[str, str], args: list[str], message: str
) -> None:
    code, out = hashmon(cli_env, "network", "IRGCOutOfIraq", "-b", "co-similar", *args)
    assert code == 2 and message in one_error_line(out)


def test_a_tag_without_posts_has_no_network(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    code, out = hashmon(cli_env, "network", "#nothing", "-b", "co-post")
    assert code == 1 and "#nothing has no posts" in one_error_line(out)
    code, out = hashmon(cli_env, "network", "#nothing", "-b", "co-posting")
    assert code == 2 and "co-posting" in out


@pytest.mark.usefixtures("imported")
def test_evidence_says_why_it_found_nothing(cli_env: dict[str, str]) -> None:
    code, out = hashmon(cli_env, "evidence", "IRGCOutOfIraq", "1", "3", "-b", "co-reply")
    assert code == 1 and one_error_line(out) == (
        "error: no matching posts between x:1 (@user1) and x:3 (@user3) on #irgcoutofiraq: both "
        "posted, never within 60 s in the same way"
    )
    code, out = hashmon(cli_env, "evidence", "IRGCOutOfIraq", "1", "3", "--since", "5m")
    assert code == 1 and one_error_line(out).endswith(
        "#irgcoutofiraq: x:3 (@user3) did not post in the window"
    )  # the window holds only the last posts of 1 and 2
