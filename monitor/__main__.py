"""python -m monitor: the hashmon command."""

from monitor.cli import app

app(prog_name="hashmon")
