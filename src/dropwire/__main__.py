"""`python -m dropwire ...`: the `dropwire` command (how `dropwire serve` starts its workers)."""

from dropwire.cli import app

app(prog_name="dropwire")
