"""Every read of a book's file is contained and bounded, whoever reads it (files.py).

The source walk keeps it so: only files.py may open a file. Hostile books check what the
walk cannot: an image linked to a file outside the book is never opened (an audit hook sees
every open of the process), and a chapter, include, image, stylesheet or font that is a
link to ``/dev/zero`` or a FIFO stops the build at once, naming the file, in bounded memory,
leaving the previous outputs as they were.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookbuild.api import build
from bookbuild.config.manifest import load_manifest
from bookbuild.errors import BookError, Reporter
from bookbuild.files import LIMITS, read_book_file
from conftest import ROOT
from validators import run_measured

from .conftest import png_bytes

SRC = ROOT / "src" / "bookbuild"
PREVIOUS = b"previous output"
MANIFEST = '[book]\ntitle = "Reads"\nauthors = ["A. Writer"]\nlanguage = "en"\n'


def _forbidden_reads(path: Path) -> list[str]:
    """Calls in a module that open or read a file by themselves, with their line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        first = node.args[0] if node.args else None
        from_bytes = isinstance(first, ast.Call) and getattr(first.func, "attr", "") == "BytesIO"
        if isinstance(func, ast.Name) and func.id == "open":
            found.append(f"open() at line {node.lineno}")
        elif isinstance(func, ast.Name) and func.id == "TTFont" and not from_bytes:
            found.append(f"TTFont(path) at line {node.lineno}")
        elif isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else ""
            if func.attr in ("read_bytes", "read_text", "fdopen", "open_text", "open_binary"):
                found.append(f".{func.attr}() at line {node.lineno}")
            # in-memory objects with an open() of their own: a compressed laid-out document
            # (render/pdf/parallel), mammoth's image inside a .docx already read into memory,
            # Pillow or pikepdf (the print presets) given bytes already read
            elif func.attr == "open" and not (owner in ("webbrowser", "document", "image")
                                               or (owner in ("Image", "pikepdf") and from_bytes)):
                found.append(f"{owner}.open() at line {node.lineno}")
    return found


def test_only_files_py_opens_a_file() -> None:
    """New readers (Word, BibTeX, index data) must use files.read_book_file."""
    offenders = {str(path.relative_to(SRC)): found for path in sorted(SRC.rglob("*.py"))
                 if path.name != "files.py" or path.parent != SRC
                 if (found := _forbidden_reads(path))}
    assert offenders == {}


def test_the_walk_sees_the_ways_a_file_is_opened(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from pathlib import Path\nimport os\nfrom PIL import Image\nimport io\n"
                     "a = open('x')\nb = Path('x').read_bytes()\nc = os.fdopen(3)\nd = Image.open('x.png')\n"
                     "e = Image.open(io.BytesIO(b''))\nf = Path('x').open()\n")
    assert len(_forbidden_reads(probe)) == 5


def _book(folder: Path, chapters: str = '"one.md"', extra: str = "", **files: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "book.toml").write_text(MANIFEST + f"chapters = [{chapters}]\n" + extra)  # chapters on line 5
    for name, content in {"one.md": "# One\n\n![A picture](images/pic.png)\n", **files}.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


class _Opens:
    """Every path this process opens while the hook listens (audit events cannot be removed)."""

    listening = False
    seen: list[str] = []

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        if cls.listening and event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            cls.seen.append(os.fsdecode(args[0]))


sys.addaudithook(_Opens.hook)


def test_an_image_linked_outside_the_book_is_never_opened(tmp_path: Path) -> None:
    secret = tmp_path / "secret" / "passwd.png"
    secret.parent.mkdir()
    secret.write_bytes(png_bytes((3, 3)))
    book = _book(tmp_path / "book")
    (book / "images").mkdir()
    os.symlink(secret, book / "images" / "pic.png")
    reporter = Reporter()
    _Opens.seen, _Opens.listening = [], True
    try:
        results = build(book, ["epub", "pdf"], output_dir=tmp_path / "out", reporter=reporter)
    finally:
        _Opens.listening = False
    target = os.path.realpath(secret)  # an open of the link follows it: compare where paths lead
    opened = [path for path in _Opens.seen
              if (os.path.isabs(path) and os.path.realpath(path) == target) or path == secret.name]
    assert opened == [], "the build opened the file outside the book"
    assert any(path.endswith("one.md") for path in _Opens.seen), "the hook heard the build's own reads"
    assert [r.format for r in results] == ["epub", "pdf"]
    messages = [d.format() for d in reporter.warnings]
    assert any("one.md:3:14: warning: image 'images/pic.png' is outside the book folder" in m for m in messages), messages


def _link_to_zero(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink("/dev/zero", path)


def _fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


# (what, the file made special, how the book names it, the message's file:line)
SPECIAL = [
    ("chapter", "two.md", {}, r"book/book\.toml:5: error: \[book\] chapters: chapter 'two\.md'"),
    ("include", "inc.rs", {"one.md": "# One\n\n```rust\n{{#include inc.rs}}\n```\n"},
     r"book/one\.md:4: error: include 'inc\.rs'"),
    ("image", "images/pic.png", {}, r"book/one\.md:3: error: image 'images/pic\.png'"),
    ("stylesheet", "s.css", {}, r"book/book\.toml:6: error: \[book\] styles: stylesheet 's\.css'"),
    ("stylesheet import", "inner.css", {"s.css": '@import "inner.css";\np { color: black }\n'},
     r"book/s\.css:1: error: stylesheet resource 'inner\.css'"),
    ("font", "f.ttf", {}, r"book/book\.toml:6: error: \[book\] fonts: font 'f\.ttf'"),
    ("font in a stylesheet", "f.woff2", {"s.css": '@font-face { font-family: F; src: url("f.woff2"); }\n'},
     r"book/s\.css:1: error: stylesheet resource 'f\.woff2'"),
]


def _special_book(folder: Path, what: str, name: str, files: dict[str, str]) -> Path:
    extra = ""
    chapters = '"one.md"'
    if what == "chapter":
        chapters = '"one.md", "two.md"'
    if what.startswith("stylesheet") or what == "font in a stylesheet":
        extra = 'styles = ["s.css"]\n'
        files = {"s.css": "p { color: black }\n", **files} if name != "s.css" else files
    if what == "font":
        extra = 'fonts = ["f.ttf"]\n'
    book = _book(folder, chapters, extra, **files)
    (book / "images").mkdir(exist_ok=True)
    if what != "image":
        (book / "images" / "pic.png").write_bytes(png_bytes((4, 4)))
    return book


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
@pytest.mark.parametrize(("what", "name", "files", "message"), SPECIAL, ids=[case[0] for case in SPECIAL])
def test_a_special_file_stops_the_build_at_once_in_bounded_memory(tmp_path: Path, special: str, what: str,
                                                                   name: str, files: dict, message: str) -> None:
    book = _special_book(tmp_path / "book", what, name, files)
    (_link_to_zero if special == "/dev/zero" else _fifo)(book / name)
    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("epub", "pdf"):
        (out / f"reads.{fmt}").write_bytes(PREVIOUS)
    code, output, elapsed, peak_kib = run_measured(
        [sys.executable, "-c", "from bookbuild.cli import main; main(prog_name='bookbuild')", "build", "book",
         "--output-dir", "out"], tmp_path, env={**os.environ, "PYTHONPATH": str(SRC.parent)})
    assert code == 1, output
    assert elapsed < 5, f"took {elapsed:.1f} s"
    assert peak_kib < 300 * 1024, f"peak memory {peak_kib // 1024} MB"
    assert re.search(message + r".*(device or special file|not a regular file)", output), output
    assert "Traceback" not in output and "internal error" not in output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == {"reads.epub": PREVIOUS, "reads.pdf": PREVIOUS}


def test_the_reader_refuses_what_the_resolver_would_have_let_through(tmp_path: Path) -> None:
    """A file swapped for a link or a FIFO after the resolver looked is still not followed."""
    root = tmp_path / "book"
    root.mkdir()
    (tmp_path / "outside.txt").write_text("secret")
    (root / "ok.md").write_text("# fine\n")
    assert read_book_file(root / "ok.md", root, "chapter") == b"# fine\n"
    os.symlink(tmp_path / "outside.txt", root / "link.md")
    with pytest.raises(BookError, match="outside the book folder"):
        read_book_file(root / "link.md", root, "chapter")
    os.mkfifo(root / "pipe.md")
    with pytest.raises(BookError, match="device or special file"):
        read_book_file(root / "pipe.md", root, "chapter")
    (root / "big.css").write_bytes(b"p{}" * (LIMITS["stylesheet"] // 3 + 1))
    with pytest.raises(BookError, match="larger than 2 MB"):
        read_book_file(root / "big.css", root, "stylesheet")
    (root / "sub").mkdir()
    (root / "sub" / "c.md").write_text("x")
    os.rename(root / "sub", root / "real-sub")
    os.symlink(root / "real-sub", root / "sub")  # an inner folder that became a link
    assert read_book_file(root / "sub" / "c.md", root, "chapter") == b"x"  # resolved first: inside, read


def test_an_empty_chapter_is_a_warning_naming_it(tmp_path: Path) -> None:
    book = _book(tmp_path / "book", '"one.md", "two.md", "three.md"', **{"two.md": "", "three.md": "  \n\n\t\n"})
    (book / "one.md").write_text("# One\n\nText.\n")
    reporter = Reporter()
    build(book, ["epub"], output_dir=tmp_path / "out", reporter=reporter)
    warnings = [d.format() for d in reporter.warnings]
    assert any(w.startswith(f"{_shown(book / 'two.md')}: warning: chapter file is empty") for w in warnings), warnings
    assert any(w.startswith(f"{_shown(book / 'three.md')}: warning: chapter file is empty") for w in warnings)
    assert not any("one.md" in w for w in warnings)


def _shown(path: Path) -> str:
    from bookbuild.resources import display_path

    return display_path(path)


GOOD_MANIFEST = (MANIFEST + 'subtitle = "S"\ndate = "2020-06"\nstyles = ["s.css"]\n'
                 'chapters = ["one.md", { file = "two.md", title = "Two", kind = "preface" },'
                 ' { part = "P", chapters = ["three.md"] }]\n\n[pdf]\npage_size = "A5"\nmargin_top = "20mm"\n'
                 '\n[epub]\npage_list = true\n')
MUTATIONS = st.lists(st.tuples(st.integers(0, len(GOOD_MANIFEST)), st.integers(0, 6),
                               st.one_of(st.sampled_from(['"', "[", "]", "{", "}", "=", "\n", ",", "#", "..",
                                                          "/", "\\", "\x00", "1e999", "true", "'''", "[[x]]"]),
                                         st.text(max_size=4))), max_size=6)
@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for every example (Hypothesis runs them all in one call of the test)."""
    return tmp_path_factory.mktemp("manifest-fuzz")


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(MUTATIONS)
def test_fuzzed_manifests_load_or_fail_with_a_located_error(fuzz_folder: Path,
                                                              mutations: list[tuple[int, int, str]]) -> None:
    """A real manifest, cut and spliced at random: it loads, or a BookError names book.toml."""
    text = GOOD_MANIFEST
    for position, cut, insert in mutations:
        position = min(position, len(text))
        text = text[:position] + insert + text[position + cut:]
    for name in ("one.md", "two.md", "three.md", "s.css"):
        (fuzz_folder / name).write_text("# x\n" if name.endswith(".md") else "p {}\n")
    (fuzz_folder / "book.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        manifest = load_manifest(fuzz_folder, Reporter())
    except BookError as exc:
        assert exc.diagnostic.location.file and exc.diagnostic.location.file.endswith("book.toml"), str(exc)
        return
    assert manifest.chapters and all(entry.path.is_relative_to(fuzz_folder.resolve()) for entry in manifest.chapters)


def test_a_relative_root_is_read_from_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Roots' real paths are kept per process: the same relative name in another working
    folder is another folder (a regression: the first folder's path was kept)."""
    for name in ("first", "second"):
        (tmp_path / name / "book").mkdir(parents=True)
        (tmp_path / name / "book" / "c.md").write_text(name)
        monkeypatch.chdir(tmp_path / name)
        assert read_book_file(Path("book") / "c.md", Path("book"), "chapter") == name.encode()
