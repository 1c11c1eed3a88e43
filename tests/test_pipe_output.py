"""Text output that survives a pipe: no token (a URL, an id, a time, an evidence command) is
wrapped or split, tables become tab-separated lines; on a terminal, long cells are shortened."""

import io
import json
import shlex

import pytest
import redis as sync_redis
from rich.console import Console
from typer.testing import CliRunner

from monitor.cli import app
from monitor.cli.consoles import show
from monitor.reports import render_text
from monitor.reports.model import TagReport
from tests.test_cli import hashmon
from tests.test_report_coordination import sample  # noqa: F401  # the fixture

NARROW = {"COLUMNS": "60"}


def tokens(report: dict[str, object]) -> list[str]:
    """The report's post URLs and evidence commands: what a reader copies from it."""
    urls = [p["url"] for p in report["top_posts"]]  # type: ignore[attr-defined]  # JSON
    commands = [
        cluster["evidence"]
        for network in report["coordination"]["networks"]  # type: ignore[index]  # JSON
        for cluster in network["clusters"]
    ]
    assert urls and commands
    return [*urls, *commands]


@pytest.mark.usefixtures("sample")
def test_a_piped_report_keeps_every_url_and_command_on_one_line(cli_env: dict[str, str]) -> None:
    code, text = hashmon(cli_env, "report", "#IRGCOutOfIraq", "-f", "json", "--top", "20")
    assert code == 0
    report = json.loads(text)
    result = CliRunner().invoke(
        app, ["report", "#IRGCOutOfIraq", "--top", "20"], env={**cli_env, **NARROW}
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for token in tokens(report):
        assert any(token in line for line in lines), token
    assert not any(set(line) <= set(" ─━│┃") and line for line in lines)  # no table rules
    header = next(line for line in lines if line.startswith("people talking\t"))
    assert header.split("\t") == ["people talking", "reposts", "quotes", "replies", "said", "by",
                                  "time", "post"]  # fmt: skip
    rows = [row.split("\t") for row in lines[lines.index(header) + 1 :][:20]]
    assert [row[-1] for row in rows] == [p["url"] for p in report["top_posts"]]
    assert [row[-2] for row in rows] == [p["time"] or "" for p in report["top_posts"]]
    assert all(row[4] and "\n" not in row[4] for row in rows)  # each top post's words

    evidence = shlex.split(tokens(report)[-1])[1:]  # a command the report prints, as given
    result = CliRunner().invoke(app, evidence, env={**cli_env, **NARROW})
    assert result.exit_code == 0, result.output
    rows = json.loads(CliRunner().invoke(app, [*evidence, "--json"], env=cli_env).stdout)
    lines = result.stdout.splitlines()
    for row in rows:
        for post in (row["first"], row["second"]):
            assert any(f"{post['url']}\t{post['time']}\t" in line for line in lines), post


@pytest.mark.usefixtures("sample")
def test_on_a_narrow_terminal_cells_are_shortened_not_broken(cli_env: dict[str, str]) -> None:
    text = hashmon(cli_env, "report", "#IRGCOutOfIraq", "-f", "json", "--top", "20")[1]
    report = TagReport.model_validate_json(text)
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, color_system=None, width=60,
                       soft_wrap=True, highlight=False, emoji=False)  # fmt: skip  # as consoles.out
    show(render_text.tag_report(report), terminal)
    lines = screen.getvalue().splitlines()
    urls = [p.url for p in report.top_posts if p.url]
    for url in urls:
        for line in lines:
            assert url[-12:] not in line or url in line, (url, line)  # whole, or cut with "…"
    assert sum("…" in line for line in lines) >= len(urls)


def test_piped_tables_are_tab_separated(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    url = "https://mastodon.example/" + "x" * 80
    assert hashmon(cli_env, "sources", "add", "mastodon", "--instance", url, "--name", "m")[0] == 0
    result = CliRunner().invoke(app, ["sources", "list"], env={**cli_env, **NARROW})
    assert result.exit_code == 0, result.output
    title, header, row = result.stdout.splitlines()
    assert title == "1 source"
    assert header.split("\t")[:3] == ["name", "platform", "url"]
    assert row.split("\t")[:3] == ["m", "mastodon", url]
