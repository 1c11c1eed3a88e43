"""hashmon evidence and hashmon network by handle: handles name the same accounts as ids, an
ambiguous or unknown one is a one-line error, and network files are labelled with handles."""

import csv
import io
import json
from pathlib import Path

import networkx as nx
import pytest
import redis as sync_redis

from monitor.models import Post
from tests.factories import post
from tests.test_cli import hashmon, one_error_line

TAG = "BlackListMOIS"
TEXT = "Expose them #BlackListMOIS"


def _pair(n: int, a: tuple[str, str, str], b: tuple[str, str, str], at: int) -> list[Post]:
    """Two accounts, each (platform, id, handle), posting the same text a second apart."""
    return [post(f"{n}{i}", author, [TAG], platform=platform, handle=handle, text=TEXT,
                 at=at + i) for i, (platform, author, handle) in enumerate((a, b))]  # fmt: skip


@pytest.fixture
def accounts(cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path) -> None:
    """Ali and Baghdad (X) co-post three times; a Mastodon and a Bluesky account co-post once;
    @twin is an X and a Reddit account; @passed was account 8's handle, then account 9's."""
    ali, baghdad = ("x", "1", "Ali58714511"), ("x", "2", "Baghdad71563306")
    posts = [p for n in range(3) for p in _pair(n, ali, baghdad, at=n * 600)]
    posts += _pair(3, ("mastodon", "109", "shared@mastodon.social"),
                   ("bluesky", "did:plc:abc", "shared.bsky.social"), at=3000)  # fmt: skip
    posts += _pair(4, ("x", "7", "twin"), ("reddit", "t2_7", "Twin"), at=4000)
    posts += _pair(5, ("x", "8", "passed"), ("x", "5", "other"), at=5000)
    posts += _pair(6, ("x", "9", "passed"), ("x", "8", "renamed"), at=6000)
    archive = tmp_path / "posts.jsonl"
    archive.write_text("".join(p.model_dump_json() + "\n" for p in posts))
    assert hashmon(cli_env, "import", str(archive), "--tag", TAG)[0] == 0


def _evidence(cli_env: dict[str, str], *accounts: str) -> list[dict[str, object]]:
    code, out = hashmon(cli_env, "evidence", TAG, *accounts, "-b", "co-post", "--json")
    assert code == 0, out
    found: list[dict[str, object]] = json.loads(out)
    return found


@pytest.mark.usefixtures("accounts")
def test_evidence_by_handle_is_evidence_by_id(cli_env: dict[str, str]) -> None:
    by_id = _evidence(cli_env, "1", "2")
    assert len(by_id) == 3
    assert {(p["first"]["handle"], p["second"]["handle"]) for p in by_id} == {  # type: ignore[index]
        ("Ali58714511", "Baghdad71563306")
    }
    for a, b in [("@Ali58714511", "@Baghdad71563306"), ("@ali58714511", "BAGHDAD71563306"),
                 ("x:1", "@baghdad71563306"), ("2", "@ALI58714511")]:  # fmt: skip
        assert _evidence(cli_env, a, b) == by_id, (a, b)
    fediverse = _evidence(cli_env, "@Shared@Mastodon.Social", "shared.BSKY.social")
    assert fediverse == _evidence(cli_env, "109", "did:plc:abc") and len(fediverse) == 1


@pytest.mark.usefixtures("accounts")
def test_evidence_tables_show_handles_and_times(cli_env: dict[str, str]) -> None:
    code, out = hashmon(cli_env, "evidence", TAG, "@ali58714511", "@baghdad71563306")
    assert code == 0 and "co-post: 3 matching pairs" in out
    assert "@Ali58714511 (1)" in out and "@Baghdad71563306 (2)" in out
    assert "2019-11-27T12:00:00" in out and "2019-11-27T12:00:01" in out


@pytest.mark.usefixtures("accounts")
@pytest.mark.parametrize(
    ("a", "b", "code", "message"),
    [
        ("@twin", "1", 2, f"error: @twin is more than one account of #{TAG.lower()}: "
         "reddit:t2_7 (@Twin), x:7 (@twin); name one by its id"),
        ("1", "@Passed", 2, f"error: @Passed is more than one account of #{TAG.lower()}: "
         "x:8 (@renamed), x:9 (@passed); name one by its id"),
        ("@nobody", "1", 1, f"error: no account @nobody posted #{TAG.lower()}"),
        ("1", "x:3", 1, f"error: no account x:3 posted #{TAG.lower()}"),
        ("1", "@ali58714511", 2, "error: 1 and @ali58714511 are one account, x:1 (@Ali58714511)"),
    ],
)  # fmt: skip
def test_a_value_naming_no_single_account_is_a_one_line_error(
    cli_env: dict[str, str], a: str, b: str, code: int, message: str
) -> None:
    found, out = hashmon(cli_env, "evidence", TAG, a, b)
    assert (found, one_error_line(out)) == (code, message)


@pytest.mark.usefixtures("accounts")
def test_an_ambiguous_handle_is_resolved_by_id(cli_env: dict[str, str]) -> None:
    assert len(_evidence(cli_env, "7", "t2_7")) == 1
    assert len(_evidence(cli_env, "9", "@renamed")) == 1


@pytest.mark.usefixtures("accounts")
def test_network_files_label_nodes_with_handles(cli_env: dict[str, str], tmp_path: Path) -> None:
    args = ("network", TAG, "-b", "co-post", "--min-weight", "1")
    expected = {"1": ("x", "Ali58714511"), "2": ("x", "Baghdad71563306"),
                "109": ("mastodon", "shared@mastodon.social"),
                "did:plc:abc": ("bluesky", "shared.bsky.social")}  # fmt: skip
    for fmt in ("gexf", "graphml"):
        target = tmp_path / f"net.{fmt}"
        assert hashmon(cli_env, *args, "-f", fmt, "-o", str(target))[0] == 0
        graph = nx.read_gexf(target) if fmt == "gexf" else nx.read_graphml(target)
        nodes = dict(graph.nodes(data=True))
        for account, (platform, handle) in expected.items():
            assert nodes[account]["label"] == handle, (fmt, account)
            assert (nodes[account]["platform"], nodes[account]["handle"]) == (platform, handle)
    code, out = hashmon(cli_env, *args, "-f", "json")
    found = json.loads(out)
    assert code == 0
    nodes = {n["id"]: (n["platform"], n["handle"], n["name"]) for n in found["nodes"]}
    assert {k: nodes[k] for k in expected} == {k: (*v, None) for k, v in expected.items()}
    assert {(e["source"], e["source_handle"]) for e in found["edges"]} >= {("1", "Ali58714511")}
    code, out = hashmon(cli_env, *args)
    assert code == 0
    rows = {(r["source"], r["source_platform"], r["source_handle"], r["target"],
             r["target_platform"]) for r in csv.DictReader(io.StringIO(out))}  # fmt: skip
    assert ("109", "mastodon", "shared@mastodon.social", "did:plc:abc", "bluesky") in rows


@pytest.mark.usefixtures("sync_client")
def test_a_node_without_a_handle_is_labelled_with_its_id(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    first, second = _pair(0, ("x", "11", ""), ("x", "12", "known"), at=0)
    posts = [first.model_copy(update={"author_handle": None}), second]
    archive = tmp_path / "posts.jsonl"
    archive.write_text("".join(p.model_dump_json() + "\n" for p in posts))
    assert hashmon(cli_env, "import", str(archive), "--tag", TAG)[0] == 0
    target = tmp_path / "net.gexf"
    assert hashmon(cli_env, "network", TAG, "-b", "co-post", "--min-weight", "1", "-f", "gexf",
                   "-o", str(target))[0] == 0  # fmt: skip
    labels = {n: d["label"] for n, d in nx.read_gexf(target).nodes(data=True)}
    assert labels == {"11": "11", "12": "known"}
