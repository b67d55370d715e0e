"""Lean start-up: the command line answers --help without importing the heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


WORKER_PROBE = """
import json, sys
from bookbuild.render.pdf.parallel.workers import PIECES
module = __import__(PIECES.split(":")[0], fromlist=["x"])
assert callable(getattr(module, PIECES.split(":")[1]))
print(json.dumps(sorted(sys.modules)))
"""


def test_a_pdf_worker_imports_no_chapter_reader_and_no_network() -> None:
    """What a spawned PDF worker imports before its first layout is on the way of every
    one-chapter PDF rebuild: not markdown-it, Pygments or the HTML cleaning (sources/chapter.py),
    nor the http and ssl of remote fetching, which only --allow-remote needs."""
    result = subprocess.run([sys.executable, "-c", WORKER_PROBE], capture_output=True, text=True, check=True)
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "bookbuild.render.pdf.document" in loaded  # the probe imported the worker's code
    unwanted = {"markdown_it", "pygments", "bookbuild.sources.chapter", "bookbuild.sources.sanitise",
                "bookbuild.sources.remote", "ssl", "http.client"}
    assert loaded.isdisjoint(unwanted), sorted(loaded & unwanted)


# ---- A quick way out (cli.run, cli.leave) ---------------------------------------------------

LEAVING = """
import atexit, sys, threading, time
from bookbuild.cli import leave
atexit.register(lambda: print("atexit ran", flush=False))
def late():
    time.sleep(0.2)
    sys.stdout.write("thread finished\\n")
threading.Thread(target=late).start()
sys.stdout.write("unflushed line\\n")
leave(int(sys.argv[1]) if sys.argv[1].isdigit() else sys.argv[1])
"""


def test_leaving_joins_threads_runs_atexit_and_flushes_with_the_exit_code() -> None:
    """What the interpreter's exit does that anyone sees is done before the process ends."""
    done = subprocess.run([sys.executable, "-c", LEAVING, "3"], capture_output=True, text=True)
    assert done.returncode == 3
    assert done.stdout.splitlines() == ["unflushed line", "thread finished", "atexit ran"]
    message = subprocess.run([sys.executable, "-c", LEAVING, "no such book"], capture_output=True, text=True)
    assert message.returncode == 1 and message.stderr.strip() == "no such book"


def test_the_command_exits_with_its_codes_and_whole_outputs(tmp_path: Path) -> None:
    """The console script (``python -m bookbuild.cli`` runs the same ``run``): 0 with a whole
    EPUB, 1 for a book with errors, 2 for wrong usage, --version on a pipe."""
    import zipfile

    from conftest import write_book

    book = write_book(tmp_path / "book", '[book]\ntitle = "Exit"\nauthors = ["A"]\nlanguage = "en"\n'
                                         'chapters = ["one.md"]\n', {"one.md": "# One\n\nText.\n"})
    command = [sys.executable, "-m", "bookbuild.cli"]
    built = subprocess.run([*command, "epub", str(book), "-o", str(tmp_path / "x.epub")], capture_output=True,
                           text=True)
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(tmp_path / "x.epub") as archive:
        assert archive.testzip() is None and "EPUB/ch01.xhtml" in archive.namelist()
    (book / "one.md").unlink()
    failed = subprocess.run([*command, "epub", str(book)], capture_output=True, text=True)
    assert failed.returncode == 1 and "one.md" in failed.stderr
    assert subprocess.run([*command, "epub", "--no-such-option"], capture_output=True).returncode == 2
    version = subprocess.run([*command, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("bookbuild, version")
