"""The catalogue (issue 29): many books, one command, on this machine's processes or on a Dask
cluster; the public API it calls (``bookbuild.build``).

Six small books, EPUB only (the PDF adds nothing the catalogue does): one broken, one built by
an earlier run and unchanged, one whose image is a link into another book's folder. Built
locally and on a ``dask.distributed.LocalCluster`` with 2 worker processes.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from bookbuild.api import BuildOptions
from bookbuild.catalog import book_digest, book_names, find_books
from bookbuild.catalog.worker import BookJob, BookRecord, make_record, run_locally
from clirun import run
from conftest import write_book
from validators import run_epubchecks

BUILT_BOOKS = ("atlas", "birch", "cedar", "thief")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _manifest(title: str, chapters: str = '"one.md"') -> str:
    return f'[book]\ntitle = "{title}"\nauthors = ["A. Writer"]\nlanguage = "en"\nchapters = [{chapters}]\n'


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 12), colour).save(out, "PNG")
    return out.getvalue()


SECRET = _png((200, 30, 30))  # cedar's own figure; the thief links to it


def shelf(folder: Path) -> Path:
    """The six books under ``folder``."""
    write_book(folder / "atlas", _manifest("Atlas", '"one.md", "two.md"'),
               {"one.md": "# Maps\n\nThe first map.\n", "two.md": "# Roads\n\nThe second map.\n"})
    write_book(folder / "birch", _manifest("Birch"), {"one.md": "# Bark\n\nWhite bark.\n"})
    cedar = write_book(folder / "cedar", _manifest("Cedar"), {"one.md": "# Wood\n\n![A red figure](images/secret.png)\n"})
    (cedar / "images").mkdir()
    (cedar / "images" / "secret.png").write_bytes(SECRET)
    thief = write_book(folder / "thief", _manifest("Thief"), {"one.md": "# Loot\n\n![Stolen](images/stolen.png)\n"})
    (thief / "images").mkdir()
    (thief / "images" / "stolen.png").symlink_to(cedar / "images" / "secret.png")
    broken = write_book(folder / "broken", _manifest("Broken"), {})
    (broken / "one.md").write_bytes(b"# Broken\n\nFine.\n\nBad \xff byte.\n")  # line 5 is not UTF-8
    write_book(folder / "steady", _manifest("Steady"), {"one.md": "# Calm\n\nNothing changes here.\n"})
    return folder


def _catalog(tmp: Path, *args: str) -> tuple[int, str, dict]:
    result = run(["catalog", *args, "--formats", "epub", "--output-dir", "out"], tmp)
    report = tmp / "out" / "catalog.json"
    return result.exit_code, result.output, json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}


def _books(report: dict) -> dict[str, dict]:
    return {book["book"]: book for book in report["books"]}


def _assert_catalogue(tmp: Path, status: int, output: str, report: dict) -> None:
    """What both runners must produce: the broken book with its file:line, the unchanged
    one skipped, the rest built, the thief refused its link, and the report's fields."""
    assert status == 1, output  # one book failed
    books = _books(report)
    assert sorted(books) == ["atlas", "birch", "broken", "cedar", "steady", "thief"]
    assert {name: book["status"] for name, book in books.items()} == {
        "atlas": "built", "birch": "built", "cedar": "built", "thief": "built", "broken": "failed", "steady": "skipped"}
    assert report["ok"] is False and report["formats"] == ["epub"]
    assert report["summary"] == {"books": 6, "built": 4, "skipped": 1, "failed": 1, "invalid": 0}
    broken = books["broken"]
    assert broken["errors"] == 1 and broken["outputs"] == []
    assert broken["messages"][0]["file"] == "books/broken/one.md" and broken["messages"][0]["line"] == 5
    assert broken["messages"][0]["text"].startswith("books/broken/one.md:5: error: not valid UTF-8")
    assert "broken: failed" in output and "books/broken/one.md:5: error: not valid UTF-8" in output
    assert "steady: unchanged since its last build: skipped" in output
    for name in BUILT_BOOKS:
        (epub,) = books[name]["outputs"]
        assert epub["format"] == "epub" and epub["file"] == f"{name}/{name}.epub"
        assert epub["size"] == (tmp / "out" / epub["file"]).stat().st_size > 1000
        assert books[name]["seconds"] > 0 and books[name]["folder"] == f"books/{name}"
    assert books["steady"]["outputs"][0]["file"] == "steady/steady.epub" and books["steady"]["seconds"] == 0
    assert books["atlas"]["warnings"] == books["atlas"]["errors"] == 0
    thief = books["thief"]
    assert thief["warnings"] >= 1 and thief["messages"][0]["file"] == "books/thief/one.md"
    assert "outside the book folder" in thief["messages"][0]["message"]
    with zipfile.ZipFile(tmp / "out" / "thief" / "thief.epub") as archive:
        assert all(archive.read(name) != SECRET for name in archive.namelist()), "cedar's figure is in the thief's EPUB"
    with zipfile.ZipFile(tmp / "out" / "cedar" / "cedar.epub") as archive:
        assert any(archive.read(name) == SECRET for name in archive.namelist())
    html = (tmp / "out" / "catalog.html").read_text(encoding="utf-8")
    assert html.count("<tr class=\"status-") == 6 and "books/broken/one.md:5: error: not valid UTF-8" in html


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str, dict]:
    """The catalogue built in local processes, after an earlier run built ``steady``."""
    tmp = tmp_path_factory.mktemp("catalog-local")
    shelf(tmp / "books")
    status, output, earlier = _catalog(tmp, "books/steady")
    assert status == 0 and _books(earlier)["steady"]["status"] == "built", output
    return tmp, *_catalog(tmp, "books", "--jobs", "2")


def test_the_catalogue_builds_every_book_locally(local_run: tuple[Path, int, str, dict]) -> None:
    tmp, status, output, report = local_run
    _assert_catalogue(tmp, status, output, report)
    assert report["runner"] == {"processes": 2} and report["validate"] is False
    assert all(book["epubcheck"] is None for book in report["books"])
    epubs = [tmp / "out" / name / f"{name}.epub" for name in BUILT_BOOKS]
    for epub, verdict in zip(epubs, run_epubchecks(epubs, tmp)):
        assert verdict.problems == [], (epub.name, verdict.problems)


def test_the_html_report_sorts_in_headless_chromium(local_run: tuple[Path, int, str, dict]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (test extra) is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed: scripts/test.sh installs it")
    tmp = local_run[0]
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto((tmp / "out" / "catalog.html").as_uri())
            first = "document.querySelector('#books tbody tr td strong').textContent"
            assert page.title() == "bookbuild catalogue: 6 books"
            assert page.evaluate(first) == "atlas"  # sorted by name as written
            page.click("th:nth-child(5) button")  # Errors, ascending: the broken book last
            page.click("th:nth-child(5) button")  # descending: first
            assert page.evaluate(first) == "broken"
            assert page.get_attribute("th:nth-child(5)", "aria-sort") == "descending"
            page.click("th:nth-child(2) button")  # Status, ascending: failures first, the skipped last
            names = page.evaluate("[...document.querySelectorAll('#books tbody tr td strong')].map(e => e.textContent)")
            assert names[0] == "broken" and names[-1] == "steady"
            assert page.locator("a[href='thief/thief.epub']").count() == 1
            page.screenshot(path=str(tmp / "catalog.png"))
        finally:
            browser.close()
    assert problems == []


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory):
    """Two worker processes on this machine, as a Dask cluster would have on several; Dask's
    scratch space in pytest's temporary folder (its default, /tmp/dask-scratch-space, stayed
    behind after every run of the suite)."""
    distributed = pytest.importorskip("distributed", reason="Dask (the test extra) is not installed")
    import dask

    scratch = str(tmp_path_factory.mktemp("dask"))
    with pytest.MonkeyPatch.context() as patch, dask.config.set({"temporary-directory": scratch}):
        patch.setenv("DASK_TEMPORARY_DIRECTORY", scratch)  # the worker processes read it at start
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=40) as cluster:
            yield cluster


def test_the_catalogue_builds_on_a_dask_cluster_and_validates(tmp_path: Path, dask_cluster) -> None:
    shelf(tmp_path / "books")
    address = dask_cluster.scheduler_address
    status, output, earlier = _catalog(tmp_path, "books/steady", "--scheduler", address, "--validate")
    assert status == 0 and _books(earlier)["steady"]["epubcheck"]["valid"] is True, output
    status, output, report = _catalog(tmp_path, "books", "--scheduler", address, "--validate")
    _assert_catalogue(tmp_path, status, output, report)
    assert report["runner"] == {"dask": address} and report["validate"] is True
    books = _books(report)
    for name in (*BUILT_BOOKS, "steady"):
        assert books[name]["epubcheck"] == {"valid": True, "errors": 0, "warnings": 0, "messages": [], "note": None}
    assert books["broken"]["epubcheck"] is None
    assert "<th scope=\"col\" data-type=\"number\"><button type=\"button\">EPUBCheck" in (
        tmp_path / "out" / "catalog.html").read_text(encoding="utf-8")


def test_only_a_changed_book_is_built_again(tmp_path: Path) -> None:
    """Content, not times: a touched book is skipped, an edited one built; a run where every
    book is built or unchanged exits 0."""
    write_book(tmp_path / "books" / "one", _manifest("One"), {"one.md": "# One\n\nFirst.\n"})
    write_book(tmp_path / "books" / "two", _manifest("Two"), {"one.md": "# Two\n\nSecond.\n"})
    assert _catalog(tmp_path, "books")[0] == 0
    later = time.time() + 60
    os.utime(tmp_path / "books" / "one" / "one.md", (later, later))
    (tmp_path / "books" / "two" / "one.md").write_text("# Two\n\nSecond, edited.\n", encoding="utf-8")
    status, output, report = _catalog(tmp_path, "books")
    assert status == 0, output
    assert {name: book["status"] for name, book in _books(report).items()} == {"one": "skipped", "two": "built"}
    (tmp_path / "out" / "one" / "one.epub").unlink()  # an output gone: built again
    assert _books(_catalog(tmp_path, "books")[2])["one"]["status"] == "built"


def test_a_link_into_another_book_is_not_read_when_hashing(tmp_path: Path) -> None:
    """The thief's hash does not follow its link into cedar: a change to cedar's figure
    leaves the thief's hash alone, and the thief is not rebuilt for it."""
    books = shelf(tmp_path)
    before = book_digest(books / "thief", {})
    (books / "cedar" / "images" / "secret.png").write_bytes(_png((0, 0, 0)))
    assert book_digest(books / "thief", {}) == before
    (books / "thief" / "one.md").write_text("# Loot\n\nChanged.\n", encoding="utf-8")
    assert book_digest(books / "thief", {}) != before
    assert book_digest(books / "thief", {"formats": ["pdf"]}) != book_digest(books / "thief", {})


def test_books_are_found_in_folders_and_lists(tmp_path: Path) -> None:
    books = shelf(tmp_path / "books")
    write_book(tmp_path / "more" / "a" / "book", _manifest("A"), {"one.md": "# A\n"})
    write_book(tmp_path / "more" / "b" / "book", _manifest("B"), {"one.md": "# B\n"})
    write_book(books / "atlas" / "dist" / "inner", _manifest("Not a book of the catalogue"), {})
    write_book(tmp_path / "books" / "out" / "copy", _manifest("In the output folder"), {})
    (tmp_path / "list.txt").write_text("# the list\nmore/a/book\n\nmore/b/book/book.toml  # by its manifest\n")
    found = find_books([tmp_path / "books", tmp_path / "list.txt", tmp_path / "books" / "atlas"],
                       exclude=(tmp_path / "books" / "out",))
    assert [path.relative_to(tmp_path).as_posix() for path in found] == [
        "books/atlas", "books/birch", "books/broken", "books/cedar", "books/steady", "books/thief",
        "more/a/book", "more/b/book"]
    names = book_names(found)
    assert [names[path] for path in found[-2:]] == ["a-book", "b-book"] and names[found[0]] == "atlas"


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    write_book(tmp_path / "books" / "one", _manifest("One"), {"one.md": "# One\n"})
    wrong = run(["catalog", "books", "--formats", "epub,mobi"], tmp_path)
    assert wrong.exit_code == 2 and "--formats: 'mobi' is not a format" in wrong.output
    empty = run(["catalog", "nothing-here"], tmp_path / "books" / "one")
    assert empty.exit_code == 2 and "'nothing-here' is neither a folder" in empty.output
    (tmp_path / "empty").mkdir()
    none = run(["catalog", "empty"], tmp_path)
    assert none.exit_code == 2 and "no book found: empty" in none.output
    assert not (tmp_path / "dist").exists()


def test_without_dask_the_scheduler_option_says_what_to_install(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    write_book(tmp_path / "books" / "one", _manifest("One"), {"one.md": "# One\n"})
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    result = run(["catalog", "books", "--scheduler", "tcp://127.0.0.1:8786"], tmp_path)
    assert result.exit_code == 1
    assert "--scheduler needs Dask's distributed package" in result.output
    assert "pip install 'bookbuild[dask]'" in result.output
    assert not (tmp_path / "dist" / "catalog" / "one").exists()


def crash_or_answer(job: BookJob) -> BookRecord:
    """A stand-in for build_book, run in the pool's workers: the book named "crash" kills its
    worker, as a crash inside a library would."""
    if job.name == "crash":
        os._exit(3)
    time.sleep(0.5)
    return make_record(job, "built", (), time.perf_counter())


def test_a_crashed_worker_fails_only_its_own_book(tmp_path: Path) -> None:
    jobs = [BookJob(name, tmp_path / name, tmp_path / "out" / name, ("epub",), BuildOptions(parallel=False))
            for name in ("first", "crash", "second", "third")]
    records: list[BookRecord] = []
    run_locally(jobs, 2, records.append, run=crash_or_answer)
    statuses = {record.name: record.status for record in records}
    assert statuses == {"first": "built", "crash": "failed", "second": "built", "third": "built"}
    (crashed,) = [record for record in records if record.name == "crash"]
    assert "worker process building this book stopped" in crashed.diagnostics[0].message


def test_a_script_without_a_main_guard_builds_its_catalogue(tmp_path: Path) -> None:
    """The catalogue's workers are spawned; multiprocessing would run the calling script again
    in each (as ``__mp_main__``), and a script with no ``if __name__ == "__main__"`` guard
    would start its catalogue again there, which fails every book. The script is hidden from
    them (render/pdf/parallel/workers.main_module_hidden): it runs once."""
    for name in ("atlas", "birch"):
        write_book(tmp_path / "books" / name, _manifest(name.title()), {"one.md": f"# {name}\n\nText.\n"})
    marker, script = tmp_path / "ran.txt", tmp_path / "make_catalogue.py"
    script.write_text(
        "from bookbuild.catalog import CatalogOptions, build_catalog\n"
        f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
        f"report = build_catalog([{str(tmp_path / 'books')!r}], CatalogOptions(formats=('epub',), jobs=2,"
        f" output_dir={str(tmp_path / 'out')!r}))\n"
        "print(sorted((record.name, record.status) for record in report.records))\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[('atlas', 'built'), ('birch', 'built')]", done.stdout + done.stderr
    assert marker.read_text().split() == ["__main__"]


def test_the_api_returns_outputs_with_their_diagnostics(tmp_path: Path) -> None:
    """``bookbuild.build``: exported lazily, a sequence of outputs with ``.diagnostics``."""
    import bookbuild

    book = write_book(tmp_path / "b", _manifest("Api"), {"one.md": "# One\n\n![](missing.png)\n"})
    outputs = bookbuild.build(book, formats="epub", output_dir=tmp_path / "dist",
                              options=bookbuild.BuildOptions(parallel=False))
    assert [(output.format, output.path.name) for output in outputs] == [("epub", "api.epub")]
    assert outputs[0].size == (tmp_path / "dist" / "api.epub").stat().st_size
    assert outputs.warnings and all(d.severity == "warning" for d in outputs.diagnostics)
    assert any("missing.png" in d.message for d in outputs.diagnostics)
    with pytest.raises(bookbuild.UsageError, match="unknown format 'mobi'"):
        bookbuild.build(book, formats=["mobi"])
    with pytest.raises(bookbuild.BookError) as caught:
        bookbuild.build(tmp_path / "nowhere", formats="epub", output_dir=tmp_path / "dist")
    assert isinstance(caught.value, bookbuild.ManifestError)


LAZY_PROBE = """
import json, sys
import bookbuild
loaded = sorted(name for name in sys.modules if name.startswith("bookbuild"))
from bookbuild.cli import main
try:
    main(["catalog", "--help"], standalone_mode=False)
except SystemExit:
    pass
heavy = sorted({name.split(".")[0] for name in sys.modules} & {"weasyprint", "ebooklib", "lxml", "jinja2",
                                                                 "distributed", "dask", "PIL"})
missing = [name for name in bookbuild.__all__ if getattr(bookbuild, name, None) is None]
print(json.dumps([loaded, heavy, missing, sorted(bookbuild.__all__)]))
"""


def test_import_bookbuild_and_catalog_help_stay_light() -> None:
    result = subprocess.run([sys.executable, "-c", LAZY_PROBE], capture_output=True, text=True, check=True)
    loaded, heavy, missing, exported = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == ["bookbuild"] and heavy == [] and missing == []
    assert {"build", "BuildOptions", "check_book", "build_catalog", "BookError"} <= set(exported)
