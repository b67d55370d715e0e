"""The command line around a build: -q/-v, --version, --debug, progress, start-up, watching."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

import bookbuild
from clirun import run
from conftest import LITTLE_MANIFEST as MANIFEST, write_book



def test_help_of_every_command_and_version(tmp_path: Path) -> None:
    commands = ["new", "check", "preview", "build", "epub", "pdf", "print-cover", "kepub", "kindle", "catalog"]
    for command in commands:
        result = run([command, "--help"], tmp_path)
        assert result.exit_code == 0 and "Usage: bookbuild " + command in result.output
    listed = run(["--help"], tmp_path).output.split("Commands:")[1].strip().splitlines()
    assert [line.split()[0] for line in listed] == commands, "in the order an author uses them"
    for command in ("build", "epub", "pdf"):
        assert "--watch" in run([command, "--help"], tmp_path).output
        assert "--stop-after" not in run([command, "--help"], tmp_path).output
    result = run(["--version"], tmp_path)
    assert result.exit_code == 0 and result.output.strip() == f"bookbuild, version {bookbuild.__version__}"


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(["epub", "--no-such-option"], tmp_path).exit_code == 2
    assert run(["no-such-command"], tmp_path).exit_code == 2
    assert run(["check", "--format", "xml"], tmp_path).exit_code == 2


def test_quiet_prints_nothing_on_success_but_keeps_errors(tmp_path: Path, little_book: Path) -> None:
    for args in (["-q", "epub", "little"], ["epub", "little", "-q"]):
        result = run(args, tmp_path)
        assert result.exit_code == 0 and result.output == ""
    (little_book / "two.md").unlink()
    result = run(["epub", "little", "-q"], tmp_path)
    assert result.exit_code == 1 and "error: [book] chapters: chapter 'two.md' not found" in result.output


def test_verbose_names_each_step_and_closing_line_sums_up(tmp_path: Path, little_book: Path) -> None:
    result = run(["build", "little", "-v"], tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:2] == ["[1/4] little/one.md", "[2/4] little/two.md"]
    assert "[2/4] making the EPUB" in lines and "[4/4] PDF written" in lines
    assert lines[-1].startswith("built 2 file(s) in ") and lines[-1].endswith(" s")
    assert any(line.startswith("little/dist/little-book.pdf  ") and "KB" in line for line in lines)


def test_no_progress_bar_in_a_pipe(tmp_path: Path, little_book: Path) -> None:
    result = run(["epub", "little"], tmp_path)
    assert result.output.splitlines() == [line for line in result.output.splitlines() if "building" not in line]
    assert result.output.count("\n") == 1


def test_progress_bar_on_a_terminal(tmp_path: Path, little_book: Path) -> None:
    """A real pseudo-terminal on stderr: the bar shows, then is cleared for the closing lines."""
    controller, terminal = os.openpty()
    # PYTHONFAULTHANDLER: a crash in a C library prints the Python stacks (seen once under load, 10:20 6 Dec)
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"COLUMNS": "100", "PYTHONFAULTHANDLER": "1"}
    process = subprocess.Popen([sys.executable, "-m", "bookbuild.cli", "build", "little"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=terminal, env=env)
    os.close(terminal)
    seen, deadline = b"", time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1)
        if ready:
            try:
                chunk = os.read(controller, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif process.poll() is not None:
            break
    stdout, _ = process.communicate(timeout=60)
    os.close(controller)
    assert process.returncode == 0, seen[-4000:].decode("utf-8", "replace")
    assert b"building" in seen and b"4/4" in seen and b"making the PDF" in seen
    assert b"PDF: laying out page 1" in seen, "WeasyPrint's pages show in the bar"
    counted = [int(n) for n in re.findall(rb"laying out page (\d+)", seen)]
    assert counted == list(range(1, max(counted) + 1)), "each page counted once, not once a repagination"
    assert seen.rstrip(b"\r\n").endswith(b"\x1b[K\x1b[?25h"), "bar cleared and cursor shown again"
    assert stdout.decode().startswith("little/dist/little-book.epub  ")


def test_progress_counts_each_pdf_page_once(tmp_path: Path, little_book: Path) -> None:
    """WeasyPrint logs every page again on each repagination pass (the contents' page numbers
    settle in two or three): the bar counted 1..N that many times. Each page once, then the
    passes named."""
    import logging

    from pypdf import PdfReader

    from bookbuild.api import BuildOptions, build
    from bookbuild.cli.page_progress import pdf_pages

    logged: list[str] = []
    weasyprint_log = logging.Handler()
    weasyprint_log.emit = lambda record: logged.append(record.getMessage())  # type: ignore[method-assign]
    shown: list[str] = []
    with pdf_pages(shown.append):
        logging.getLogger("weasyprint.progress").addHandler(weasyprint_log)
        try:
            (result,) = build(little_book, ["pdf"], output_dir=tmp_path / "out",
                              options=BuildOptions(cache=False, parallel=False))
        finally:
            logging.getLogger("weasyprint.progress").removeHandler(weasyprint_log)
    pages = len(PdfReader(result.path).pages)
    passes = [line for line in logged if "Repagination" in line]
    assert passes, "the little book's contents make WeasyPrint repaginate: the case this test is about"
    assert sum("layout - Page" in line for line in logged) > pages  # WeasyPrint's own log repeats pages
    assert [line for line in shown if line.startswith("laying out")] == [
        f"laying out page {n}" for n in range(1, pages + 1)]
    assert [line for line in shown if line.startswith("settling")] == [
        f"settling page numbers ({pages} pages, pass {n})" for n in range(2, len(passes) + 2)]


def test_internal_errors_are_one_line_unless_debug(tmp_path: Path, little_book: Path, monkeypatch) -> None:
    import bookbuild.pipeline

    def broken(*args: object) -> bytes:
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(bookbuild.pipeline, "render", broken)
    result = run(["epub", "little"], tmp_path)
    assert result.exit_code == 1
    assert result.output.strip() == ("bookbuild: internal error: RuntimeError: renderer exploded "
                                     "(run with --debug for details)")
    with pytest.raises(RuntimeError, match="renderer exploded"):
        run(["--debug", "epub", "little"], tmp_path)


@pytest.mark.parametrize("args", [["--help"], ["epub", "little"], ["check", "little"]])
def test_weasyprint_is_not_imported_unless_a_pdf_is_made(tmp_path: Path, little_book: Path, args) -> None:
    code = ("import sys\nfrom bookbuild.cli import main\n"
            "try:\n    main(%r)\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print('weasyprint' in sys.modules, 'watchfiles' in sys.modules)" % (args,))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_pdf_does_import_weasyprint(tmp_path: Path, little_book: Path) -> None:
    """The control for the test above: the check can see the import when it happens."""
    code = ("import sys\nfrom bookbuild.cli import main\ntry:\n    main(['pdf', 'little'])\n"
            "except SystemExit:\n    pass\nprint('weasyprint' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "True"


def _edit_later(path: Path, text: str, wait_for: Path, timeout: float = 20) -> threading.Thread:
    """Once ``wait_for`` exists (the first build is done), rewrite ``path``."""

    def edit() -> None:
        deadline = time.monotonic() + timeout
        while not wait_for.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        path.write_text(text, encoding="utf-8")

    thread = threading.Thread(target=edit, daemon=True)
    thread.start()
    return thread


def test_build_watch_rebuilds_on_change_and_ignores_its_own_outputs(little_book: Path) -> None:
    """Run inside the book folder, so dist/ is under the watched folder: no rebuild loop."""
    epub = little_book / "dist" / "little-book.epub"
    editor = _edit_later(little_book / "two.md", "# Two\n\nChanged words.\n", wait_for=little_book / "dist"
                         / "little-book.pdf")
    result = run(["build", "--watch", "--stop-after", "9"], little_book)
    editor.join(timeout=5)
    assert result.exit_code == 0, result.output
    assert "watching little/ for changes" in result.output or "watching ./ for changes" in result.output
    # Each batch of changes is one build, and no batch names an output or the cache: no loop.
    # The editor's write is a truncation and then the text; on a busy machine the watcher
    # may see them as two batches (STEP_MS apart: watch.py), so two.md may be named twice;
    # the build of the emptied file may then stop on it, the next one goes through.
    changes = [line for line in result.output.splitlines() if line.startswith("changed: ")]
    assert 1 <= len(changes) <= 2 and set(changes) == {"changed: two.md"}, result.output
    assert 2 <= result.output.count("built 2 file(s)") <= 1 + len(changes), result.output
    with zipfile.ZipFile(epub) as archive:
        assert "Changed words." in archive.read("EPUB/ch02.xhtml").decode()


def test_epub_watch_rebuilds_the_epub_alone_and_ignores_its_own_output_file(little_book: Path) -> None:
    """``epub --watch -o`` a file in the book folder itself, next to the chapters: the
    output and its temporary file are not changes of the book; no PDF is made."""
    epub = little_book / "proof.epub"
    editor = _edit_later(little_book / "two.md", "# Two\n\nWatched words.\n", wait_for=epub)
    result = run(["epub", "--watch", "-o", "proof.epub", "--stop-after", "6"], little_book)
    editor.join(timeout=5)
    assert result.exit_code == 0, result.output
    changes = [line for line in result.output.splitlines() if line.startswith("changed: ")]
    assert 1 <= len(changes) <= 2 and set(changes) == {"changed: two.md"}, result.output
    assert result.output.count("proof.epub  ") == 1 + len(changes), result.output
    assert not (little_book / "dist").exists(), "the EPUB alone, where -o says"
    with zipfile.ZipFile(epub) as archive:
        assert "Watched words." in archive.read("EPUB/ch02.xhtml").decode()


def test_build_watch_reports_errors_and_keeps_watching(tmp_path: Path, little_book: Path) -> None:
    editor = _edit_later(little_book / "one.md", "---\ntitle: [\n---\n", wait_for=little_book / "dist"
                         / "little-book.pdf")
    result = run(["build", "little", "--watch", "--stop-after", "6"], tmp_path)
    editor.join(timeout=5)
    assert result.exit_code == 0
    assert "little/one.md:2: error: front matter is not valid YAML" in result.output
    assert "Traceback" not in result.output
    # run from the parent folder, the outputs land in little/dist/, inside the watched folder: ignored
    assert (little_book / "dist" / "little-book.pdf").is_file() and "dist" not in "".join(
        line for line in result.output.splitlines() if line.startswith("changed:"))


def test_preview_serves_and_stops(tmp_path: Path, little_book: Path) -> None:
    result = run(["preview", "little", "--port", "0", "--stop-after", "1"], tmp_path)
    assert result.exit_code == 0, result.output
    assert "serving 'Little Book' at http://127.0.0.1:" in result.output
    assert result.output.strip().endswith("preview stopped")


def test_preview_port_in_use_is_one_line(tmp_path: Path, little_book: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(["preview", "little", "--port", str(port), "--stop-after", "1"], tmp_path)
    assert result.exit_code == 1
    assert f"bookbuild: error: cannot listen on 127.0.0.1:{port}" in result.output
    assert "--port 0" in result.output


def test_preview_without_a_book_is_one_line(tmp_path: Path) -> None:
    result = run(["preview"], tmp_path)
    assert result.exit_code == 1
    assert result.output.strip().startswith("bookbuild: error: no book.toml in this folder or in ./book/")


def test_only_changes_that_can_matter_to_the_book_are_relevant(tmp_path: Path) -> None:
    from bookbuild.live.watch import is_relevant

    dist = tmp_path / "dist"
    assert is_relevant(tmp_path / "chapters" / "01.md", [dist])
    assert is_relevant(tmp_path / "images" / "map.png", [dist])
    for name in ("dist/book.epub", "dist/.book.epub.x.part", "4913", "sedAbC12", ".01.md.swp", "01.md~"):
        assert not is_relevant(tmp_path / name, [dist]), name


def test_preview_open_opens_the_served_address(tmp_path: Path, little_book: Path, monkeypatch) -> None:
    import webbrowser

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    result = run(["preview", "little/book.toml", "--port", "0", "--open", "--stop-after", "1"], tmp_path)
    assert result.exit_code == 0, result.output
    assert len(opened) == 1 and opened[0].startswith("http://127.0.0.1:") and opened[0] in result.output


def test_shell_completion_as_documented_in_the_readme(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert 'eval "$(_BOOKBUILD_COMPLETE=bash_source bookbuild)"' in readme
    env = os.environ | {"_BOOKBUILD_COMPLETE": "bash_complete", "COMP_WORDS": "bookbuild pr", "COMP_CWORD": "1"}
    out = subprocess.run([sys.executable, "-c", "from bookbuild.cli import main; main(prog_name='bookbuild')"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["plain,preview", "plain,print-cover"]
    env["_BOOKBUILD_COMPLETE"] = "bash_source"
    script = subprocess.run([sys.executable, "-c", "from bookbuild.cli import main; main(prog_name='bookbuild')"],
                            env=env, capture_output=True, text=True, timeout=60).stdout
    assert "complete -o nosort -F _bookbuild_completion bookbuild" in script


@pytest.mark.parametrize(("args", "hint"), [
    (["pdf", "-o", "chapters"], "name a file, e.g. -o chapters/book.pdf"),
    (["epub", "-o", "chapters"], "name a file, e.g. -o chapters/book.epub"),
])
def test_an_output_that_is_a_folder_gets_a_hint_for_its_format(tmp_path: Path, little_book: Path, args: list[str],
                                                                hint: str) -> None:
    (tmp_path / "chapters").mkdir()
    result = run([*args[:1], "little", *args[1:]], tmp_path)
    assert result.exit_code == 1 and f"(hint: {hint})" in result.output, result.output


@pytest.mark.parametrize("command", ["build", "pdf", "check"])
def test_no_book_here_hints_the_command_that_was_run(tmp_path: Path, command: str) -> None:
    result = run([command], tmp_path)
    assert result.exit_code == 1
    assert f"(hint: run in a book folder, or name one: bookbuild {command} path/to/book)" in result.output, result.output


def test_a_page_size_from_the_command_line_gets_its_own_pdf(tmp_path: Path, little_book: Path) -> None:
    """``pdf --page-size letter`` must not silently replace the book's own (A4) PDF."""
    assert run(["pdf", "little"], tmp_path).exit_code == 0
    result = run(["pdf", "little", "--page-size", "letter"], tmp_path)
    assert result.exit_code == 0, result.output
    names = sorted(path.name for path in (little_book / "dist").iterdir())
    assert names == ["little-book-letter.pdf", "little-book.pdf"], names
    assert "little/dist/little-book-letter.pdf" in result.output
