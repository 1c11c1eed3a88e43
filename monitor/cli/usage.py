"""Usage errors (an unknown option, a value of the wrong type, a missing argument) as one line,
like every other error hashmon reports, instead of Click's framed block."""

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from monitor.cli import consoles


class OneLineErrors(TyperGroup):
    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        def run() -> Any:
            return super(OneLineErrors, self).main(
                args, prog_name, complete_var, False, windows_expand_args, **extra
            )

        if not standalone_mode:
            return run()
        try:
            code = run()
        except typer.TyperException as exc:  # Click's usage errors
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            message = " ".join(exc.format_message().split())
            consoles.err.print(f"error: {message}{hint}", markup=False)
            sys.exit(exc.exit_code)
        except typer.Abort:
            consoles.err.print("error: interrupted", markup=False)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)
