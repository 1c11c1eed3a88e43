"""How long a `hashmon` command takes from exec to exit, beside `python -c pass` in the same run.

Run as ``python -m tests.bench_startup [--runs N]`` (``make bench-startup``); not a pytest test.
Each command runs N times in a fresh process; the table shows median / min / max seconds.
`watch list` talks to a Redis: HASHMON_REDIS_URL when set (a throwaway database: it is
flushed), else a private embedded server started for the run, so the server's own start-up is
not counted. Targets on a two-core machine: --version and --help under 0.3 s, `watch list`
under 0.5 s.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from monitor.embedded import EmbeddedRedis

TAGS = ("IRGCOutOfIraq", "BlackListMOIS", "BlackListIRGC", "IRGCTerrorists")


def hashmon_path() -> str:
    """The entry point installed beside this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "hashmon"
    found = str(beside) if beside.exists() else shutil.which("hashmon")
    if found is None:
        raise SystemExit("error: no hashmon entry point beside this Python or on PATH")
    return found


def timed(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - started)
    return samples


@contextmanager
def redis_url(directory: Path) -> Iterator[str]:
    if url := os.environ.get("HASHMON_REDIS_URL"):
        yield url
        return
    with EmbeddedRedis(directory / "redis") as server:
        yield server.url


def measure(runs: int, directory: Path) -> Table:
    hashmon = hashmon_path()
    table = Table(title=f"Start-up to exit, seconds over {runs} runs each")
    for column in ("command", "median", "min", "max"):
        table.add_column(column, justify="left" if column == "command" else "right")
    with redis_url(directory) as url:
        env = {**os.environ, "HASHMON_REDIS_URL": url, "HASHMON_DATA_DIR": str(directory)}
        subprocess.run([hashmon, "watch", "add", "--list", "bench", *TAGS], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "hashmon --version": [hashmon, "--version"],
            "hashmon --help": [hashmon, "--help"],
            "hashmon watch list": [hashmon, "watch", "list", "--list", "bench"],
        }
        for name, argv in commands.items():
            timed(argv, env, 1)  # warms the page cache and the bytecode
            samples = timed(argv, env, runs)
            table.add_row(name, *(f"{f(samples):.3f}" for f in (statistics.median, min, max)))
        subprocess.run([hashmon, "watch", "remove", "--list", "bench", *TAGS], env=env,
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=10, help="Runs per command (default 10).")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="hm-start-") as directory:
        Console().print(measure(args.runs, Path(directory)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
