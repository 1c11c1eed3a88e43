"""Markdown and self-contained HTML reports: the same figures as JSON, hostile text escaped,
nothing loaded from the network."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import redis as sync_redis
from redis.asyncio import Redis

from monitor import queue, watchlist
from monitor.models import Post
from monitor.reports import build, render_html, render_md
from monitor.settings import Settings
from tests.factories import post
from tests.test_cli import hashmon, one_error_line
from workers.aggregator import Aggregator

HOSTILE = "<script>alert(1)</script>|x"


def campaign() -> list[Post]:
    """Two hours of #a: originals, reposts of the first, a reply, and a hostile handle."""
    posts = [post(f"o{i}", f"u{i % 4}", ["a", "b"], at=i * 600) for i in range(12)]
    posts += [post(f"r{i}", f"f{i}", ["a"], kind="repost", ref="o0", ref_author="u0", at=60 + i)
              for i in range(5)]  # fmt: skip
    posts.append(post("q1", "evil", ["a"], kind="reply", ref="o0", ref_author="u0", at=900,
                      handle=HOSTILE))  # fmt: skip
    return posts


async def load(redis: Redis, settings: Settings) -> None:
    await watchlist.add(redis, "default", ["a", "b"])
    await queue.ensure_group(redis)
    await queue.publish(redis, campaign(), batch=100)
    await Aggregator(redis, settings, name="agg").run_until_idle()


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


async def test_html_is_self_contained_and_its_charts_hold_the_report_figures(
    redis: Redis, settings: Settings
) -> None:
    await load(redis, settings)
    report = await build.tag_report(redis, "a")
    page = render_html.tag_report(report)
    parsed = Elements()
    parsed.feed(page)

    names = [tag for tag, _ in parsed.tags]
    assert "script" not in names and "img" not in names and "link" not in names
    assert all(not attrs.get("src") for _, attrs in parsed.tags)
    assert all((attrs.get("href") or "https://").startswith("https://") for _, attrs in parsed.tags)
    csp = [a["content"] for t, a in parsed.tags if t == "meta" and a.get("http-equiv")]
    assert csp == ["default-src 'none'; style-src 'unsafe-inline'; img-src data:"]
    bars = [attrs for tag, attrs in parsed.tags if tag == "rect"]
    by_kind = {k: sum(getattr(v, k) for v in report.volume) for k in render_html.KINDS}
    assert {k for k, n in by_kind.items() if n} == {a["data-kind"] for a in bars}
    titled = sum(int(re.sub(r"\D", "", t.split(": ")[1])) for t in parsed.text if ": " in t
                 and t.split(": ")[1].split()[-1] in render_html.KINDS)  # fmt: skip
    assert titled == report.posts.total == 18
    assert HOSTILE not in page and "@&lt;script&gt;alert(1)&lt;/script&gt;|x" in page


async def test_markdown_tables_hold_the_figures_and_escape_post_text(
    redis: Redis, settings: Settings
) -> None:
    await load(redis, settings)
    report = await build.tag_report(redis, "a")
    text = render_md.tag_report(report)

    assert "**18 posts by 10 people**" in text  # u0-u3, f0-f4 and evil
    assert "| 12 | 5 | 0 | 1 |" in text  # original, repost, quote, reply
    assert r"@\<script\>alert\(1\)\</script\>\|x" in text
    assert "<script>" not in text
    top = next(line for line in text.splitlines() if "x.example/u0/status/o0" in line)
    assert top.startswith("| [https://x") and "| 6 | 5 | 0 | 1 |" in top  # 6 people talking


def test_report_formats_from_the_cli(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    sample = tmp_path / "sample.jsonl"
    sample.write_text("".join(p.model_dump_json() + "\n" for p in campaign()))
    assert hashmon(cli_env, "import", str(sample), "--tag", "#a")[0] == 0

    code, out = hashmon(cli_env, "report", "#a", "--format", "html", "-o", str(tmp_path / "a.html"))
    assert code == 0 and "wrote" in out
    assert (tmp_path / "a.html").read_text().startswith("<!DOCTYPE html>")
    code, out = hashmon(cli_env, "report", "#a", "--format", "md")
    assert code == 0 and out.startswith("# \\#a\n")
    code, out = hashmon(cli_env, "report", "--list", "default", "--format", "md", "--since", "2h")
    assert code == 0 and "| \\#a | 18 | 10 |" in out
    code, out = hashmon(cli_env, "report", "#a", "--format", "json", "-o", str(tmp_path / "a.json"))
    assert json.loads((tmp_path / "a.json").read_text())["volume"][0]["original"] >= 1
    code, out = hashmon(cli_env, "report", "#a", "-o", str(tmp_path / "a.txt"))
    assert code == 2 and "--output takes --format json, md or html" in one_error_line(out)
    code, out = hashmon(cli_env, "report", "#a", "-f", "md", "-o", str(tmp_path / "no" / "a.md"))
    assert code == 2 and one_error_line(out).startswith("error: cannot write ")
