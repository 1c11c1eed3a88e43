"""The report's coordination section on the sample campaign, and bursts and cohorts by hand."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis as sync_redis
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.reports.coordination_section import coactivity, coactivity_of
from monitor.signals import bursts, cohorts
from monitor.signals.records import Record
from seeds.make_sample_campaign import START
from tests.test_cli import hashmon
from tests.test_report_formats import Elements

SAMPLE = Path(__file__).parent.parent / "seeds" / "sample-campaign.jsonl"
HOSTILE = "<script>alert(1)</script> leave now #IRGCOutOfIraq"


def planted_cohort() -> set[str]:
    """The sample's coordinated accounts: the ones it created 9 to 6 days before it starts."""
    found = set()
    for line in SAMPLE.read_text().splitlines():
        post = json.loads(line)
        created = datetime.fromisoformat(post["author_created_at"])
        if START - timedelta(days=9) <= created < START - timedelta(days=6):
            found.add(post["author_id"])
    return found


@pytest.fixture
def sample(cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path) -> None:
    hostile = [
        {"platform": "x", "id": f"h{n}", "author_id": f"h{n}", "text": HOSTILE,
         "created_at": f"2019-11-27T03:0{n}:00Z", "hashtags": ["IRGCOutOfIraq"]}
        for n in range(3)
    ]  # fmt: skip
    extra = tmp_path / "hostile.jsonl"
    extra.write_text("".join(json.dumps(p) + "\n" for p in hostile))
    assert hashmon(cli_env, "import", str(SAMPLE), str(extra), "--tag", "IRGCOutOfIraq")[0] == 0


@pytest.mark.usefixtures("sample")
def test_the_planted_cohort_is_the_cluster_and_carries_the_bursts(cli_env: dict[str, str]) -> None:
    code, out = hashmon(cli_env, "report", "#IRGCOutOfIraq", "-f", "json", "--top", "100")
    section = json.loads(out)["coordination"]
    cohort = planted_cohort()
    assert code == 0 and len(cohort) == 25
    by_behaviour = {n["behaviour"]: n for n in section["networks"]}
    for behaviour in ("co-post", "co-repost", "co-link", "co-similar"):
        [cluster] = by_behaviour[behaviour]["clusters"]
        members = {m["id"] for m in cluster["members"]}
        assert members <= cohort and len(members) >= 24, behaviour
        assert cluster["coactivity_weight"] > cluster["weight"] > 0
        assert cluster["evidence"].startswith("hashmon evidence '#irgcoutofiraq' ")
    assert by_behaviour["co-reply"]["clusters"] == []
    assert section["coordinated_accounts"] == 25
    assert section["bursts"] and all(b["coordinated_share"] >= 0.85 for b in section["bursts"])
    assert section["cohorts"]["creation_spikes"].keys() <= {
        "2019-11-18",
        "2019-11-19",
        "2019-11-20",
    }
    [top, *_] = section["copy_paste"]
    assert top["accounts"] >= 19 and set(top["account_ids"]) <= cohort
    hostile = [c for c in section["copy_paste"] if c["text"].startswith("<script>")]
    assert [(c["accounts"], c["posts"], c["span_s"]) for c in hostile] == [(3, 3, 120.0)]


@pytest.mark.usefixtures("sample")
def test_html_and_markdown_show_the_section_with_post_text_escaped(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    page = tmp_path / "r.html"
    assert (
        hashmon(cli_env, "report", "#IRGCOutOfIraq", "-f", "html", "--top", "100", "-o", str(page))[
            0
        ]
        == 0
    )
    report = json.loads(
        hashmon(cli_env, "report", "#IRGCOutOfIraq", "-f", "json", "--top", "100")[1]
    )
    parsed = Elements()
    parsed.feed(page.read_text())
    assert "script" not in {tag for tag, _ in parsed.tags}
    assert HOSTILE in "".join(parsed.text)  # shown as text, as first posted
    marks = [attrs for tag, attrs in parsed.tags if tag == "rect" and "data-burst" in attrs]
    assert [m["data-burst"] for m in marks] == [
        b["start"] for b in report["coordination"]["bursts"]
    ]
    markdown = hashmon(cli_env, "report", "#IRGCOutOfIraq", "-f", "md", "--top", "100")[1]
    assert (
        "## Coordination" in markdown and "\\<script\\>" in markdown and "<script>" not in markdown
    )


def test_a_burst_stands_out_against_the_minutes_before_and_merges_across_short_gaps() -> None:
    posts = {m: 2 + m % 2 for m in range(100)} | {70: 20, 72: 15, 90: 30}
    people = dict(posts)
    found = bursts.bursts(bursts.Series.of(posts, people, first=0))
    assert [(b.start, b.peak, b.end, b.posts) for b in found] == [
        (70, 70, 72, 20 + 3 + 15),
        (90, 90, 90, 30),
    ]
    assert bursts.robust_z(10, [5] * 20) == float("inf")  # a flat baseline: any rise stands out
    assert (
        bursts.bursts(bursts.Series.of({5: 50}, {5: 50}, first=0)) == []
    )  # too little history to judge


def _stands_out_one_by_one(
    posts: dict[int, int], people: dict[int, int], first: int
) -> dict[int, float]:
    """The definition, minute by minute: what the scoring of all minutes at once must give."""
    found = {}
    for minute, count in posts.items():
        start = max(minute - bursts.BASELINE_MINUTES, first)
        if count < bursts.MIN_POSTS or minute - start < bursts.MIN_BASELINE:
            continue
        z = bursts.robust_z(count, [posts.get(m, 0) for m in range(start, minute)])
        z_people = bursts.robust_z(
            people.get(minute, 0), [people.get(m, 0) for m in range(start, minute)]
        )
        if z >= bursts.Z_THRESHOLD or z_people >= bursts.Z_THRESHOLD:
            found[minute] = z
    return found


@settings(max_examples=300, deadline=None)
@given(
    first=st.integers(0, 500),
    series=st.lists(st.sampled_from([0, 0, 1, 2, 3, 5, 6, 8, 30, 100]), min_size=50, max_size=300),
    people_share=st.lists(st.integers(1, 4), min_size=300, max_size=300),
)
def test_minutes_scored_together_give_the_definitions_z_scores(
    first: int, series: list[int], people_share: list[int]
) -> None:
    posts = {first + m: n for m, n in enumerate(series) if n}
    people = {m: max(1, n // people_share[m - first]) for m, n in posts.items()}
    found = bursts.stands_out(bursts.Series.of(posts, people, first))
    assert found == _stands_out_one_by_one(posts, people, first)
    assert all(type(z) is float for z in found.values())


def test_cohorts_count_new_accounts_and_concentration() -> None:
    t0 = int(datetime(2019, 11, 27, tzinfo=UTC).timestamp() * 1000)
    day = 86_400_000

    def record(n: int, author: str, created_days_before: int | None) -> Record:
        created = None if created_days_before is None else t0 - created_days_before * day
        return Record(f"x:{n}", t0 + n, "original", "x", author, None, None, None, None, None,
                      ("a",), created)  # fmt: skip

    records = [record(n, "busy", 10) for n in range(20)]
    records += [record(100 + n, f"new{n}", 3) for n in range(6)]
    records += [record(200 + n, f"old{n}", 3000) for n in range(3)] + [record(300, "unknown", None)]
    found = cohorts.cohorts(sorted(records, key=lambda r: r.t_ms))
    assert found is not None
    assert (found.accounts, found.with_creation_date) == (11, 10)
    assert found.new_share == 0.7  # busy and the six new ones, of ten with a date
    assert found.creation_spikes == {"2019-11-24": 6}
    assert (found.posts_per_account_max, found.posts_per_account_median) == (20, 1)
    assert found.top_1pct_share == round(20 / 30, 4) and found.top_10_share == round(29 / 30, 4)


@settings(max_examples=300, deadline=None)
@given(
    posted=st.lists(
        st.lists(st.integers(0, 600_000), max_size=30).map(sorted), min_size=2, max_size=6
    ),
    window_ms=st.sampled_from([0, 1_000, 60_000]),
)
def test_co_activity_of_a_cluster_at_once_is_the_sum_over_its_edges(
    posted: list[list[int]], window_ms: int
) -> None:
    members = [f"m{n}" for n in range(len(posted))]
    times = dict(zip(members, posted, strict=True))
    edges = [(a, b) for a in members for b in members if a != b]
    expected = sum(coactivity(times, a, b, window_ms) for a, b in edges)
    assert coactivity_of(times, members, edges, window_ms) == expected
    assert coactivity_of(times, members, edges[:1], window_ms) == coactivity(
        times, *edges[0], window_ms
    )
