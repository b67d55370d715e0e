"""Lean start-up: the command line answers --help without importing the heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("weasyprint", "ebooklib", "lxml", "markdown_it", "jinja2", "PIL", "yaml", "pydyf", "tinycss2")

PROBE = """
import json, sys
from bookbuild.cli import main
for args in (["--help"], ["epub", "--help"], ["pdf", "--help"], ["build", "--help"]):
    try:
        main(args, standalone_mode=False)
    except SystemExit:
        pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_help_imports_nothing_heavy() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "click" in loaded  # the probe really ran the command line
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
