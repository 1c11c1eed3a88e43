"""The CLI starts at once: registering its commands loads none of the heavy libraries, which
only the commands that use them import. Timings are in `make bench-startup`, not here."""

import json
import subprocess
import sys

import pytest

from monitor import models, sources, watchlist
from monitor.cli import posts as posts_cli
from monitor.cli import sources as sources_cli
from monitor.cli import watch as watch_cli
from tests.bench_startup import hashmon_path

HEAVY = ("scipy", "networkx", "pyarrow", "numpy")
# Also kept out of --version and --help: the HTTP client, Redis's client, pydantic and reports.
AVOIDABLE = ("aiohttp", "redis", "pydantic", "monitor.reports.model", "rich")

LOADED = """
import json, sys
from monitor.cli import app
sys.argv = ["hashmon", *sys.argv[1:]]
try:
    app()
except SystemExit:
    pass
sys.stdout.flush()
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded_by(*args: str) -> tuple[str, set[str]]:
    """What `hashmon ARGS` prints, and every module its process has loaded by the end."""
    done = subprocess.run([sys.executable, "-c", LOADED, *args], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    return done.stdout, set(json.loads(done.stderr.splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_library() -> None:
    code = "import json, sys, monitor.cli; print(json.dumps(list(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    modules = set(json.loads(done.stdout))
    assert "monitor.cli.network" in modules
    assert sorted(m for m in (*HEAVY, *AVOIDABLE) if m in modules) == []


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_load_no_heavy_library(args: list[str]) -> None:
    shown, modules = loaded_by(*args)
    assert shown.strip() == "hashmon 0.1.0" if args == ["--version"] else "Usage: hashmon" in shown
    assert sorted(m for m in (*HEAVY, *AVOIDABLE) if m in modules) == []


@pytest.mark.parametrize("command", ["network", "report", "export"])
def test_a_commands_help_loads_no_heavy_library(command: str) -> None:
    shown, modules = loaded_by(command, "--help")
    assert f"Usage: hashmon {command}" in shown
    assert sorted(m for m in (*HEAVY, "aiohttp", "redis") if m in modules) == []


def test_the_installed_command_loads_no_heavy_library() -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", hashmon_path(), "--version"],
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert done.stdout == "hashmon 0.1.0\n" and "monitor.cli" in imported
    assert sorted(m for m in (*HEAVY, *AVOIDABLE) if m in imported) == []


def test_help_lists_every_command() -> None:
    shown, _ = loaded_by("--help")
    commands = {line.split()[0] for line in shown.split("Commands:")[1].splitlines() if line}
    assert commands == {
        "run", "aggregate", "collect", "serve", "import", "report", "network", "evidence",
        "deadletters", "status", "posts", "watch", "sources", "export", "digests", "alerts",
    }  # fmt: skip


def test_bad_input_is_refused_before_the_heavy_libraries_load() -> None:
    _, modules = loaded_by("report", "#a", "--since", "yesterday")
    assert sorted(m for m in (*HEAVY, "monitor.reports.build") if m in modules) == []


def test_defaults_repeated_for_a_quick_start_match_the_library() -> None:
    assert watch_cli.DEFAULT_LIST == watchlist.DEFAULT
    assert sources_cli.PLATFORMS == sources.PLATFORMS
    assert posts_cli.KINDS == models.KINDS
