"""The hashmon command: thin commands over the library.

Command modules import only typer, the standard library and each other at module level, so
that `hashmon --version` and `--help` start at once; each command imports what it needs."""

from typing import Annotated

import typer

from monitor import __version__
from monitor.cli import (
    alerts,
    daemon,
    digests,
    export,
    ingest,
    letters,
    network,
    posts,
    report,
    sources,
    status,
    watch,
)
from monitor.cli.common import setup_logging
from monitor.cli.usage import OneLineErrors

app = typer.Typer(
    cls=OneLineErrors,
    help="Watch hashtag campaigns: volume, people talking, bursts and coordination.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # Click's plain help: nothing to break in a pipe, 0.1 s sooner
)
app.add_typer(watch.app, name="watch")
app.add_typer(sources.app, name="sources")
app.add_typer(export.app, name="export")
app.add_typer(digests.app, name="digests")
app.add_typer(alerts.app, name="alerts")
app.command("run")(daemon.run_all)
app.command("aggregate")(daemon.aggregate)
app.command("collect")(daemon.collect)
app.command("serve")(daemon.serve_api)
app.command("import")(ingest.import_files)
app.command("report")(report.report)
app.command("network")(network.network)
app.command("evidence")(network.evidence_cmd)
app.command("posts")(posts.posts)
app.command("deadletters")(letters.deadletters)
app.command("status")(status.status)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hashmon {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each batch.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Settings come from HASHMON_* environment variables and an optional hashmon.toml."""
    setup_logging(verbose)
