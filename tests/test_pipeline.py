"""One wiring (pipeline.py): check reports what a build would, options are validated at the
door, the EPUB page list follows the PDF's own pages, and the stages import only what the
layout allows (docs/architecture.md)."""

from __future__ import annotations

import ast
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from clirun import run
from conftest import LITTLE_MANIFEST, ROOT, write_book
from validators import pdfinfo, pdftotext

SRC = ROOT / "src" / "bookbuild"
NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if ": error: " in line]


def test_check_fails_on_a_stylesheet_the_build_rejects_with_the_builds_message(tmp_path: Path) -> None:
    book = write_book(tmp_path / "b", LITTLE_MANIFEST.replace('chapters = [', 'styles = ["extra.css"]\nchapters = ['),
                      {"one.md": "# One\n\nText.\n", "two.md": "# Two\n\nMore.\n"})
    (book / "extra.css").write_text("p { color: black }\nh1 { letter-spacing: 1e9px }\n")
    built = run(["epub", "b"], tmp_path)
    checked = run(["check", "b"], tmp_path)
    assert built.exit_code == 1 and checked.exit_code == 1
    assert not (tmp_path / "b" / "dist").exists()
    build_errors = _error_lines(built.output)
    assert len(build_errors) == 1 and build_errors[0].startswith("b/extra.css:2")
    assert build_errors[0] in _error_lines(checked.output)


def test_check_fails_on_a_cover_the_build_rejects(tmp_path: Path) -> None:
    book = write_book(tmp_path / "b", LITTLE_MANIFEST.replace('chapters = [', 'cover = "cover.png"\nchapters = ['),
                      {"one.md": "# One\n\nText.\n", "two.md": "# Two\n\nMore.\n"})
    (book / "cover.png").write_bytes(b"not a png at all")
    built, checked = run(["epub", "b"], tmp_path), run(["check", "b"], tmp_path)
    assert built.exit_code == checked.exit_code == 1
    assert _error_lines(built.output) and _error_lines(built.output)[0] in _error_lines(checked.output)


@pytest.mark.parametrize(("args", "flag"), [
    (["build", "b", "--page-size", "bogus"], "--page-size: 'bogus' is neither a preset"),
    (["build", "b", "--page-size", "99999mm 2mm"], "--page-size: '99999mm 2mm' is out of range"),
    (["pdf", "b", "--chapters", "7"], "--chapters: '7' is outside the book's chapters 1-2"),
    (["build", "b", "--page-size", "bogus", "--watch", "--stop-after", "5"], "--page-size:"),
])
def test_a_bad_option_is_a_usage_error_before_anything_is_written(tmp_path: Path, args: list[str],
                                                                    flag: str) -> None:
    write_book(tmp_path / "b", LITTLE_MANIFEST, {"one.md": "# One\n\nText.\n", "two.md": "# Two\n\nMore.\n"})
    first = run(["build", "b"], tmp_path)
    assert first.exit_code == 0
    before = {path.name: path.read_bytes() for path in (tmp_path / "b" / "dist").iterdir()}
    stamps = {path.name: path.stat().st_mtime_ns for path in (tmp_path / "b" / "dist").iterdir()}
    result = run(args, tmp_path)
    assert result.exit_code == 2, result.output
    assert _error_lines(result.output) == [line for line in _error_lines(result.output) if flag in line]
    assert flag in result.output and "hint:" in result.output
    assert {path.name: path.read_bytes() for path in (tmp_path / "b" / "dist").iterdir()} == before
    assert {path.name: path.stat().st_mtime_ns for path in (tmp_path / "b" / "dist").iterdir()} == stamps


PDF_ONLY_MANIFEST = LITTLE_MANIFEST + "\n[epub]\npage_list = true\n"
PROSE = ("The river ran slow past the mill, and the miller's children counted the boats that went by "
         "each morning before school. ")


def _printed_pages(pdf: Path) -> dict[str, str]:
    """Printed folio -> the page's text (the folio ends the page's text)."""
    pages = {}
    for number in range(1, int(pdfinfo(pdf)["Pages"]) + 1):
        words = pdftotext(pdf, number, number).split()
        if words and re.fullmatch(r"\d+|[ivxlc]+", words[-1]):
            pages[words[-1]] = " ".join(words[:-1])
    return pages


def test_epub_page_list_follows_the_pdfs_pages_with_pdf_only_text(tmp_path: Path) -> None:
    """Chapter 1 has pages of ``only-pdf`` text in the middle: the EPUB's page list must give
    chapter 2 the page it starts on in the PDF, not the page it would have without that text."""
    pdf_only = "\n\n".join(f"Printed appendix paragraph {n}. " + PROSE * 4 for n in range(1, 25))
    one = ("# One\n\n" + "\n\n".join(f"Opening paragraph {n}. " + PROSE * 3 for n in range(1, 8))
           + "\n\n::: only-pdf\n" + pdf_only + "\n:::\n\n"
           + "\n\n".join(f"Closing paragraph {n}. " + PROSE * 3 for n in range(1, 8)) + "\n")
    two = "# Two\n\n" + "\n\n".join(f"Second chapter paragraph {n}. " + PROSE * 3 for n in range(1, 12)) + "\n"
    write_book(tmp_path / "b", PDF_ONLY_MANIFEST, {"one.md": one, "two.md": two})
    result = run(["build", "b"], tmp_path)
    assert result.exit_code == 0, result.output
    epub = next((tmp_path / "b" / "dist").glob("*.epub"))
    pdf = next((tmp_path / "b" / "dist").glob("*.pdf"))
    pages = _printed_pages(pdf)
    with zipfile.ZipFile(epub) as archive:
        nav = etree.fromstring(archive.read("EPUB/nav.xhtml"))
        entries = [(a.text, a.get("href")) for a in nav.iterfind(".//x:nav[@epub:type='page-list']//x:a", NS)]
        documents = {name: etree.fromstring(archive.read(f"EPUB/{name}"))
                     for name in {href.split("#")[0] for _, href in entries}}
    chapter_two = next(label for label, text in pages.items() if "Second chapter paragraph 1." in text)
    assert int(chapter_two) >= 6, "the PDF-only text fills pages before chapter 2"
    assert chapter_two in [label for label, _ in entries]
    labels = [label for label, _ in entries]
    assert labels == [label for label in pages if label in labels], "entries in the PDF's page order"
    assert len(entries) >= 6
    for label, href in entries:
        file, anchor = href.split("#")
        if file == "nav.xhtml":
            continue  # the contents: its dotted leaders stand between the words in the PDF's text
        marker = documents[file].find(f".//*[@id='{anchor}']")
        assert marker is not None and marker.get("role") == "doc-pagebreak"
        following = " ".join("".join(marker.xpath("following::text()")).split()[:4])
        assert following.lower() in pages[label].lower(), (label, following, pages[label][:160])
        assert "printed appendix" not in following.lower()


# What each stage may import (docs/architecture.md): module prefix -> forbidden prefixes.
FORBIDDEN = {
    "bookbuild.render.epub": ("bookbuild.render.pdf", "bookbuild.render.html", "bookbuild.pipeline",
                              "bookbuild.api", "bookbuild.cli"),
    "bookbuild.render.pdf": ("bookbuild.render.epub", "bookbuild.render.html", "bookbuild.pipeline",
                             "bookbuild.api", "bookbuild.cli"),
    "bookbuild.render.html": ("bookbuild.render.epub", "bookbuild.render.pdf", "bookbuild.pipeline",
                              "bookbuild.api", "bookbuild.cli"),
    "bookbuild.sources": ("bookbuild.render", "bookbuild.transforms", "bookbuild.pipeline", "bookbuild.api",
                          "bookbuild.cli"),
    "bookbuild.transforms": ("bookbuild.render", "bookbuild.pipeline", "bookbuild.api", "bookbuild.cli"),
    "bookbuild.config": ("bookbuild.sources", "bookbuild.transforms", "bookbuild.render", "bookbuild.model",
                         "bookbuild.pipeline", "bookbuild.api", "bookbuild.cli"),
    "bookbuild.model": ("bookbuild.sources", "bookbuild.transforms", "bookbuild.render", "bookbuild.pipeline"),
    "bookbuild.catalog": ("bookbuild.pipeline", "bookbuild.cli"),  # each book through the public API
    # The command line calls the API and the entry points (check, preview, scaffold...), never a stage.
    "bookbuild.cli": ("bookbuild.pipeline", "bookbuild.sources", "bookbuild.transforms", "bookbuild.render"),
    "bookbuild.scaffold": ("bookbuild.transforms", "bookbuild.render", "bookbuild.pipeline", "bookbuild.api",
                           "bookbuild.cli"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module a source file imports, at the top or inside a function, made absolute."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def test_each_stage_imports_only_what_the_layout_allows() -> None:
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        module = _module_name(path)
        for stage, forbidden in FORBIDDEN.items():
            if module != stage and not module.startswith(stage + "."):
                continue
            problems += [f"{module} imports {name}" for name in sorted(_imports(path))
                         if any(name == bad or name.startswith(bad + ".") for bad in forbidden)]
    assert problems == []


def test_no_import_cycle_even_for_type_checking() -> None:
    """Modules import in one direction (docs/architecture.md): no cycle, not even through an
    import made only for type checking."""
    modules = {_module_name(path): path for path in SRC.rglob("*.py")}
    graph = {name: {dep for dep in _imports(path) if dep in modules and dep != name}
             for name, path in modules.items()}
    cycles = []
    for start in graph:  # depth-first from each module, looking for a way back to it
        stack, seen = [(start, (start,))], set()
        while stack:
            name, trail = stack.pop()
            for dep in graph[name]:
                if dep == start:
                    cycles.append(" -> ".join((*trail, start)))
                elif dep not in seen:
                    seen.add(dep)
                    stack.append((dep, (*trail, dep)))
    assert cycles == []


def test_the_import_checker_sees_relative_and_late_imports(tmp_path: Path) -> None:
    """The rule above is only as good as _imports: it must resolve ``from ..pdf import x`` inside
    a function of a package module."""
    path = SRC / "render" / "epub" / "pagelist.py"
    assert "bookbuild.model" in _imports(path) and "bookbuild.model.PageStart" in _imports(path)
    fake = SRC / "render" / "epub" / "_probe_for_test.py"
    fake.write_text("def f():\n    from ..pdf.document import layout_pdf\n")
    try:
        assert "bookbuild.render.pdf.document" in _imports(fake)
    finally:
        fake.unlink()


def test_no_module_is_much_longer_than_the_house_rule() -> None:
    long = {str(path.relative_to(SRC)): count for path in SRC.rglob("*.py")
            if (count := len(path.read_text(encoding="utf-8").splitlines())) > 420}
    assert long == {}
