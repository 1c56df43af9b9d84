"""``python -m replay``: the same command line as the ``replay`` script."""

from replay.cli import app

app(prog_name="replay")
