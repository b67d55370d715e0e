"""``python -m bookbuild.cli``: the ``bookbuild`` command (tests and benchmarks run it so)."""

from . import run

run()
