"""``python -m bookbuild.cli``: the ``bookbuild`` command (tests and benchmarks run it so)."""

import sys

from . import main

sys.exit(main(prog_name="bookbuild"))
