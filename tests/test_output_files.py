"""-o writes where it is told: a regular file whole or not at all, a device, a FIFO or stdout
directly, a symlink's target with the link kept; a write error is one line and a non-zero exit."""

import csv
import io
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import redis as sync_redis
from typer.testing import CliRunner

from monitor.cli import app
from tests.factories import post
from tests.test_cli import hashmon, one_error_line


@pytest.fixture
def imported(cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path) -> None:
    posts = [post(f"o{i}", f"u{i % 3}", ["a"], at=i * 60) for i in range(6)]
    archive = tmp_path / "posts.jsonl"
    archive.write_text("".join(p.model_dump_json() + "\n" for p in posts))
    assert hashmon(cli_env, "import", str(archive), "--tag", "#a")[0] == 0


def report_json(cli_env: dict[str, str]) -> dict[str, object]:
    code, out = hashmon(cli_env, "report", "#a", "--format", "json")
    assert code == 0
    parsed: dict[str, object] = json.loads(out)
    return parsed


@pytest.mark.usefixtures("imported")
def test_a_full_device_is_one_line_and_stays_a_device(cli_env: dict[str, str]) -> None:
    for args in (["report", "#a", "-f", "json"], ["export", "posts", "#a"],
                 ["network", "#a", "-b", "co-post"]):  # fmt: skip
        code, out = hashmon(cli_env, *args, "-o", "/dev/full")
        assert code == 2
        assert one_error_line(out) == "error: cannot write /dev/full: No space left on device"
        assert "wrote" not in out
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.usefixtures("imported")
def test_a_symlink_has_its_target_written_and_stays_a_link(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    elsewhere, here = tmp_path / "elsewhere", tmp_path / "here"
    elsewhere.mkdir()
    here.mkdir()
    real = elsewhere / "report.json"
    real.write_text("an earlier report\n")
    link = here / "report.json"
    link.symlink_to(real)
    code, out = hashmon(cli_env, "report", "#a", "-f", "json", "-o", str(link))
    assert code == 0 and f"wrote {link}" in out
    assert link.is_symlink() and link.readlink() == real
    assert json.loads(real.read_text()) == report_json(cli_env)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["report.json"]  # no temporary file
    assert sorted(p.name for p in here.iterdir()) == ["report.json"]


@pytest.mark.usefixtures("imported")
def test_a_dangling_symlink_gets_its_target_created(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    link, real = tmp_path / "posts.csv", tmp_path / "new.csv"
    link.symlink_to(real.name)
    assert hashmon(cli_env, "export", "posts", "#a", "-o", str(link))[0] == 0
    assert link.is_symlink() and len(list(csv.DictReader(io.StringIO(real.read_text())))) == 6


@pytest.mark.usefixtures("imported")
def test_a_fifo_gets_the_bytes(cli_env: dict[str, str], tmp_path: Path) -> None:
    fifo = tmp_path / "posts.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, out = hashmon(cli_env, "export", "posts", "#a", "-f", "jsonl", "-o", str(fifo))
    reader.join(timeout=10)
    if reader.is_alive():  # the command never opened it: let the reader go
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert code == 0, out
    assert [json.loads(line)["id"] for line in received[0].splitlines()] == [
        f"o{i}" for i in range(6)
    ]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.usefixtures("imported")
def test_dash_is_stdout(cli_env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["report", "#a", "-f", "json", "-o", "-"], env=cli_env)
    assert result.exit_code == 0 and json.loads(result.stdout) == report_json(cli_env)
    assert "wrote" not in result.output and not (tmp_path / "-").exists()
    result = runner.invoke(app, ["export", "posts", "#a", "-f", "parquet", "-o", "-"], env=cli_env)
    assert result.exit_code == 0
    assert pq.read_table(io.BytesIO(result.stdout_bytes)).num_rows == 6


@pytest.mark.usefixtures("imported")
def test_a_regular_file_is_replaced_whole(cli_env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "out" / "a.json"
    target.parent.mkdir()
    target.write_text("an earlier report\n")
    assert hashmon(cli_env, "report", "#a", "-f", "json", "-o", str(target))[0] == 0
    assert json.loads(target.read_text()) == report_json(cli_env)
    assert [p.name for p in target.parent.iterdir()] == ["a.json"]  # no temporary file left
    code, out = hashmon(cli_env, "report", "#a", "-f", "md", "-o", str(tmp_path / "no" / "a.md"))
    assert code == 2 and one_error_line(out) == (
        f"error: cannot write {tmp_path / 'no' / 'a.md'}: No such file or directory; "
        "nothing was written"
    )
    code, out = hashmon(cli_env, "report", "#a", "-f", "md", "-o", str(tmp_path))
    assert code == 2 and one_error_line(out).startswith(f"error: cannot write {tmp_path}: ")


@pytest.mark.usefixtures("imported")
def test_stdout_closed_by_its_reader_is_one_line(cli_env: dict[str, str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte
    try:
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "export", "posts", "#a"],
            stdout=write_end, stderr=subprocess.PIPE, env={**os.environ, **cli_env},
            text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert done.returncode == 2
    assert done.stderr == "error: cannot write stdout: Broken pipe\n"
