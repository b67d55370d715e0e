"""The chapter-parallel PDF (render/parallel/plan.py) against the single-document oracle.

The medium benchmark book cut to its first 8 chapters (parts of it in footnotes, tables, figures, links
across chapters) is built both ways; the parallel PDF must have the same pages, the same
text on each page (running heads and page numbers included), the same tag tree holding the
same text, the same bookmarks, and every link must land on the same page. "see page N" is turned off for this comparison:
WeasyPrint 70 lays out again the pages whose forward ``target-counter`` resolves late,
and that re-layout forgets footnotes carried over from the previous page
(``layout/page.py`` ``remake_page`` does not restore ``context.reported_footnotes``), so
the single document itself moves a footnote on a few such pages (see docs/benchmarks.md).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from bookbuild.api import BuildOptions, build
from bookbuild.errors import Reporter
from bookbuild.config.pdf import PARALLEL_PDF_FROM
from clirun import run
from conftest import IN_PLACE, LITTLE_MANIFEST, write_book
from validators import pdf_structure, pdffonts, pdfinfo, pdftotext, qpdf_check

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from generate import generate  # noqa: E402

# The generated medium book's first chapters (about 80 A4 pages): enough pieces for the
# parallel PDF's every path, at two fifths of the whole medium book's layout.
SHORT = 8


def _outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    found: list[tuple[int, str, int]] = []

    def walk(items: list, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item)))

    walk(reader.outline, 0)
    return found


def _links(reader: PdfReader) -> list[tuple[int, str, int | None]]:
    """(page, target, page the target lands on) of every internal link, in page order."""
    names = reader.named_destinations
    found = []
    for number, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            dest = annot.get("/Dest")
            if annot.get("/Subtype") == "/Link" and dest is not None:
                target = names.get(str(dest))
                found.append((number, str(dest), None if target is None else reader.get_destination_page_number(target)))
    return found


def _tag_tree(reader: PdfReader) -> tuple[list[tuple], list[str]]:
    """The tag tree in reading order, each element as (depth, type, page, its kids: marked
    content ids, links' targets, "elem"; a table cell's id and headers without the table's
    number); and what is wrong: where the parent tree does not lead back from a piece of
    marked content or a link to the element that holds it (a screen reader finds an
    element's text through it), an id given twice, a cell's header that is no element's id."""
    pages = {page.indirect_reference.idnum: number for number, page in enumerate(reader.pages)}
    keys = [page.get("/StructParents") for page in reader.pages]
    parents: dict[int, object] = {}

    def read_tree(node: DictionaryObject) -> None:
        nums = list(node.get("/Nums", []))
        parents.update({int(key): value.get_object() for key, value in zip(nums[0::2], nums[1::2])})
        for kid in node.get("/Kids", []):
            read_tree(kid.get_object())

    root = reader.trailer["/Root"]["/StructTreeRoot"]
    read_tree(root["/ParentTree"])
    elements, wrong, cited, ids = [], [], [], set()
    todo = [(ref, 0, None) for ref in reversed(root.raw_get("/K"))]
    while todo:
        ref, depth, page = todo.pop()
        element = ref.get_object()
        page = pages[element.raw_get("/Pg").idnum] if "/Pg" in element else page
        kids = element.get("/K", [])
        found: list[object] = []
        for kid in reversed(kids if isinstance(kids, list) else [kids]):
            if isinstance(kid, int):
                found.append(int(kid))
                holder = parents[keys[page]][kid]
            elif kid.get_object().get("/Type") == "/OBJR":
                annotation = kid.get_object()["/Obj"]
                found.append(str(annotation.get("/Dest") or annotation["/A"].get("/URI")))
                holder = parents[annotation["/StructParent"]]
            else:
                found.append("elem")
                todo.append((kid, depth + 1, page))
                continue
            if holder.indirect_reference.idnum != ref.idnum:
                wrong.append(f"page {page}: {element['/S']} {kid}")
        headers = [str(h) for h in element.get("/A", {}).get("/Headers", [])] if "/A" in element else []
        if "/ID" in element:
            wrong += [f"id {element['/ID']} twice"] if element["/ID"] in ids else []
            ids.add(element["/ID"])
        cited += headers
        names = [re.sub(r"^\d+-", "", str(name)) for name in [element.get("/ID", ""), *headers]]
        elements.append((depth, str(element["/S"]), page, tuple(reversed(found)), *names))
    return elements, wrong + [f"header {name} is no element's id" for name in cited if name not in ids]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = generate("medium", tmp_path_factory.mktemp("medium"), chapters=SHORT).parent
    with (folder / "book.toml").open("a", encoding="utf-8") as manifest:
        manifest.write("\n[pdf]\npage_references = false\n")
    single = folder / "single.pdf"
    parallel = folder / "parallel.pdf"
    build(folder, ["pdf"], output=single, reporter=Reporter())
    reporter = Reporter()
    build(folder, ["pdf"], output=parallel, options=BuildOptions(parallel=True), reporter=reporter)
    assert reporter.warnings == []
    return single, parallel


def test_parallel_pdf_has_the_same_pages_and_text(both: tuple[Path, Path]) -> None:
    single, parallel = both
    pages = len(PdfReader(single).pages)
    assert pages == len(PdfReader(parallel).pages) > 70
    expected = pdftotext(single).split("\f")
    got = pdftotext(parallel).split("\f")
    assert [n for n in range(pages) if expected[n] != got[n]] == []
    assert any("Contents" in text for text in got[:6])


def test_parallel_pdf_has_the_same_outline_and_links(both: tuple[Path, Path]) -> None:
    single, parallel = (PdfReader(path) for path in both)
    assert len(_outline(single)) > 20
    assert _outline(parallel) == _outline(single)
    links = _links(parallel)
    assert len(links) > 100 and all(page is not None for _, _, page in links)
    assert links == _links(single)


def test_parallel_pdf_is_valid_with_metadata_and_fonts(both: tuple[Path, Path]) -> None:
    single, parallel = both
    assert qpdf_check(parallel).returncode == 0, qpdf_check(parallel).stdout
    assert all(font["emb"] == "yes" for font in pdffonts(parallel))
    assert pdfinfo(parallel)["Tagged"] == pdfinfo(single)["Tagged"] == "yes"
    expected, got = PdfReader(single), PdfReader(parallel)
    assert got.metadata == expected.metadata
    # the page labels say what the pages print: i, ii... in the front matter, then 1, 2...
    assert got.page_labels == expected.page_labels
    assert got.page_labels[:5] == ["i", "ii", "iii", "iv", "v"] and got.page_labels[-1].isdigit()
    for key in ("/Lang", "/MarkInfo", "/ViewerPreferences", "/PageLabels"):
        assert got.trailer["/Root"][key] == expected.trailer["/Root"][key], key
    assert got.trailer["/Root"]["/Lang"] == "en"


def test_parallel_pdf_has_the_single_documents_tags(both: tuple[Path, Path]) -> None:
    """The joined tag tree (join.py) is the single document's: the same elements in the
    same order on the same pages, with the same marked content and links; and its parent
    tree, made of the pieces' with their keys moved on, leads back from each of them."""
    single, parallel = both
    expected, wrong = _tag_tree(PdfReader(single))
    assert len(expected) > 6000 and wrong == []
    assert sum(len(element[3]) for element in expected) > 12000
    got, wrong = _tag_tree(PdfReader(parallel))
    assert wrong == []
    assert [n for n in range(max(len(got), len(expected))) if got[n:n + 1] != expected[n:n + 1]][:5] == []


def test_table_header_ids_stay_unique_across_pieces(tmp_path: Path) -> None:
    """WeasyPrint names a table's header cells after the object number of the table's
    element: chapters alike in shape, each its own piece, would give the same names in every
    piece. The join renames them after the joined file's numbers, so every id is unique
    and every cell's headers name its own table's header cells."""
    table = "| Year | Sales | Staff |\n|---|---|---|\n| 2019 | 12 | 3 |\n| 2020 | 15 | 4 |\n"
    chapters = {f"c{n}.md": f"# Chapter {n}\n\nFigures.\n\n{table}" for n in range(1, 5)}
    manifest = LITTLE_MANIFEST.replace('["one.md", "two.md"]', repr(list(chapters)).replace("'", '"'))
    folder = write_book(tmp_path / "tables", manifest, chapters)
    single, parallel = folder / "single.pdf", folder / "parallel.pdf"
    build(folder, ["pdf"], output=single, options=BuildOptions(parallel=False), reporter=Reporter())
    build(folder, ["pdf"], output=parallel, options=BuildOptions(parallel=True), reporter=Reporter())
    got, wrong = _tag_tree(PdfReader(parallel))
    assert wrong == []
    assert sum(element[1] == "/TH" for element in got) == 12
    assert got == _tag_tree(PdfReader(single))[0]
    # pypdf's copy of an object, taken when the byte-level copy is unsure, makes the same file
    from bookbuild.render.pdf.parallel import join as pdf_join
    from bookbuild.render.pdf.parallel import objects as pdf_objects

    def unsure(*args: object) -> bytes:
        raise pdf_objects.UnusualObject

    finished: list[tuple] = []
    finish = pdf_join.BackgroundJoin.finish
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdf_objects, "renumber", unsure)
        patch.setattr(pdf_join.BackgroundJoin, "finish", lambda self, *args: finished.append(args) or finish(self, *args))
        build(folder, ["pdf"], output=folder / "pypdf.pdf", options=BuildOptions(parallel=True), reporter=Reporter())
    assert _tag_tree(PdfReader(folder / "pypdf.pdf")) == (got, [])
    assert pdftotext(folder / "pypdf.pdf") == pdftotext(parallel)
    assert _outline(PdfReader(folder / "pypdf.pdf")) == _outline(PdfReader(parallel))
    assert qpdf_check(folder / "pypdf.pdf").returncode == 0
    # pieces joined in any order make the same file
    ((results, outline, two_sided, language),) = finished
    assert len(results) == 5
    joiner = pdf_join.Joiner()
    for index in (3, 0, 4, 2, 1):
        joiner.add(index, results[index])
    (folder / "shuffled.pdf").write_bytes(joiner.finish(outline, two_sided, language))
    assert _tag_tree(PdfReader(folder / "shuffled.pdf")) == (got, [])
    assert pdftotext(folder / "shuffled.pdf") == pdftotext(parallel)
    assert _outline(PdfReader(folder / "shuffled.pdf")) == _outline(PdfReader(parallel))
    assert qpdf_check(folder / "shuffled.pdf").returncode == 0


def test_the_byte_level_copy_renumbers_only_references_and_hands_over_what_it_cannot_read() -> None:
    from bookbuild.render.pdf.parallel.objects import PieceNumbers as _Numbers, UnusualObject as _Unusual, renumber as _renumber

    numbers = _Numbers(SimpleNamespace(reserve=iter(range(100, 200)).__next__), {7: 1}, None)  # type: ignore[arg-type]
    body = (b"<</Type /StructElem/S /TH/P 7 0 R/K [12 0 R 5]/ID (12-0-1)/Alt (see 3 0 R \\) /StructParent 4)"
            b"/StructParent 4/A <</O /Table/Headers [(12-0-0) (12-1-0)]>>/BBox [1.5 0 2 0]>>")
    assert _renumber(body, numbers, 10) == (
        b"<</Type /StructElem/S /TH/P 1 0 R/K [100 0 R 5]/ID (100-0-1)/Alt (see 3 0 R \\) /StructParent 4)"
        b"/StructParent 14/A <</O /Table/Headers [(100-0-0) (100-1-0)]>>/BBox [1.5 0 2 0]>>")
    assert numbers.todo == [12]
    for unsure in (b"<</Alt (a (nested) string)>>", b"<</K 5 1 R>>", b"<</K 5 0 R %comment\n>>"):
        with pytest.raises(_Unusual):
            _renumber(unsure, numbers, 0)


def test_remembered_page_numbers_are_checked_not_trusted(both: tuple[Path, Path]) -> None:
    """A rebuild starts from the last build's page numbers (.bookbuild-cache); wrong ones
    (here: every arabic number moved on by 7, every roman one made xx) cost a round, never a wrong page."""
    single, parallel = both
    folder = single.parent
    remembered = folder / ".bookbuild-cache" / "pdf-page-numbers.json"
    numbers = json.loads(remembered.read_text(encoding="utf-8"))
    assert numbers["toc"] == "v" and len(numbers) > 120  # the front matter's pages print roman numbers
    wrong = {k: str(int(v) + 7) if v.isdigit() else "xx" for k, v in numbers.items()}
    remembered.write_text(json.dumps(wrong), encoding="utf-8")
    again = folder / "again.pdf"
    build(folder, ["pdf"], output=again, options=BuildOptions(parallel=True), reporter=Reporter())
    assert pdftotext(again) == pdftotext(single)
    assert json.loads(remembered.read_text(encoding="utf-8")) == numbers


def test_the_parallel_rule_reads_options_first_then_source_sizes(tmp_path: Path) -> None:
    """``PdfOptions.in_parallel``: a variant, a handout or a selection is always one document,
    even when asked for in parallel; otherwise ``parallel`` wins; unset, the chapter files'
    size decides (a missing file counts as empty: reading it reports the error)."""
    from bookbuild.config.pdf import PARALLEL_PDF_FROM, PdfOptions

    big, small = tmp_path / "big.md", tmp_path / "small.md"
    big.write_bytes(b"x" * PARALLEL_PDF_FROM)
    small.write_bytes(b"x" * (PARALLEL_PDF_FROM - 1))
    assert PdfOptions().in_parallel([big])
    assert not PdfOptions().in_parallel([small, tmp_path / "missing.md"])
    assert PdfOptions(parallel=True).in_parallel([small])
    assert not PdfOptions(parallel=False).in_parallel([big])
    for single in (PdfOptions(parallel=True, variant="pdf/ua-1"), PdfOptions(parallel=True, handout=True),
                   PdfOptions(parallel=True, chapters="2-3")):
        assert not single.in_parallel([big])


def test_parallel_is_the_default_past_a_few_pages_and_selections_stay_single(little_book: Path,
                                                                             tmp_path: Path) -> None:
    """Unless ``[pdf] parallel`` or the command line says otherwise, a book whose chapters
    are longer than a few pages (pdf_options.PARALLEL_PDF_FROM) is laid out in parallel and a shorter
    one as one document; a --chapters selection (like a handout or a PDF/UA variant) is
    always one document. Every one of them is tagged. (A joined PDF is told by its progress
    labels: it reports its pieces.) The small book's chapters at a third of their length are
    still past the threshold."""
    folder = generate("small", tmp_path / "small", words=800).parent
    assert sum(path.stat().st_size for path in (folder / "chapters").glob("*.md")) > PARALLEL_PDF_FROM

    def made(book: Path, name: str, **options: object) -> tuple[list[str], int]:
        labels: list[str] = []
        (result,) = build(book, ["pdf"], output=tmp_path / name, options=BuildOptions(**options), reporter=Reporter(),
                          progress=lambda what, done, total: labels.append(what))
        assert "/StructTreeRoot" in PdfReader(result.path).trailer["/Root"]
        return labels, len(pdffonts(result.path))

    labels, fonts = made(folder, "whole.pdf")
    assert "making the PDF: 4 of 4 pieces laid out, 4 drawn" in labels  # a long render shows how far it is
    some, single_fonts = made(folder, "some.pdf", chapters="2")
    assert not any("pieces" in label for label in some)
    assert fonts == single_fonts  # the join embeds each font once, as the single document does
    assert not any("pieces" in label for label in made(little_book, "little.pdf")[0])
    assert any("pieces" in label for label in made(little_book, "little-parallel.pdf", parallel=True)[0])
    with (folder / "book.toml").open("a", encoding="utf-8") as manifest:
        manifest.write("\n[pdf]\nparallel = false\n")
    assert not any("pieces" in label for label in made(folder, "single.pdf")[0])
    result = run(["pdf", "--parallel", "-o", "cli.pdf"], folder)  # the command line wins
    assert result.exit_code == 0, result.output
    assert len(pdffonts(folder / "cli.pdf")) == fonts


@pytest.fixture(scope="module")
def patched_and_fresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """The medium book with "see page N" on, built cold (pieces laid out on estimated
    numbers, then corrected: render/renumber.py) and then again from the remembered numbers
    with the laid-out pieces deleted (every piece laid out on its true numbers)."""
    import logging

    folder = generate("medium", tmp_path_factory.mktemp("medium-refs"), chapters=SHORT).parent
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Keep(logging.INFO)
    logger = logging.getLogger("bookbuild.render.pdf.parallel.plan")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        patched = folder / "patched.pdf"
        build(folder, ["pdf"], output=patched, options=BuildOptions(parallel=True), reporter=Reporter())
        shutil.rmtree(folder / ".bookbuild-cache" / "pdf")
        fresh = folder / "fresh.pdf"
        build(folder, ["pdf"], output=fresh, options=BuildOptions(parallel=True), reporter=Reporter())
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    return patched, fresh, records


def test_corrected_numbers_print_as_a_fresh_layout_would(patched_and_fresh: tuple[Path, Path, list[str]]) -> None:
    """Pieces laid out on estimated page numbers and then given the true ones are the pages a
    layout on the true numbers makes: the same text on every page (folios, "see page N",
    contents) and the same pixels."""
    from PIL import Image, ImageChops

    patched, fresh, records = patched_and_fresh
    corrected = [int(m.group(1)) for m in re.finditer(r"(\d+) numbers corrected", " ".join(records))]
    assert corrected and corrected[0] >= 3, records  # the correction path ran, not only fresh layouts
    text, expected = pdftotext(patched).split("\f"), pdftotext(fresh).split("\f")
    assert len(text) == len(expected) > 70
    assert [n for n in range(len(text)) if text[n] != expected[n]] == []
    assert sum("(see page " in page for page in text) > 30
    out = patched.parent / "png"
    out.mkdir()
    for name, pdf in (("a", patched), ("b", fresh)):
        subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(out / name)], check=True)
    pages = sorted(out.glob("a-*.png"))
    assert len(pages) == len(text) - 1
    differ = [p.name for p in pages
              if ImageChops.difference(Image.open(p).convert("L"),
                                       Image.open(out / p.name.replace("a-", "b-", 1)).convert("L")).getbbox()]
    assert differ == []


def test_a_worker_past_its_page_budget_draws_at_once_and_the_wrong_numbers_are_laid_out_again(
        patched_and_fresh: tuple[Path, Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no room to keep pieces (PAGES_KEPT = 0) every piece is drawn on the numbers known
    when it is sent; those whose numbers were wrong are laid out again, and the PDF is the
    one a layout on the true numbers makes (the fixture's fresh build of the same book)."""
    from bookbuild.render.pdf.parallel import plan as pdf_parallel

    _patched, fresh, _records = patched_and_fresh
    folder = generate("medium", tmp_path / "medium", chapters=SHORT).parent
    monkeypatch.setattr(pdf_parallel, "PAGES_KEPT", 0)
    budget = folder / "budget.pdf"
    build(folder, ["pdf"], output=budget, options=BuildOptions(parallel=True), reporter=Reporter())
    assert pdftotext(budget) == pdftotext(fresh)
    # the pieces joined first, on guessed numbers, were replaced by the ones laid out again
    assert _tag_tree(PdfReader(budget)) == _tag_tree(PdfReader(fresh))
    assert qpdf_check(budget).returncode == 0


def _parked(records: list[str]) -> int:
    """How many pieces the parallel PDF's log says were compressed (compressed.py)."""
    return sum(int(m.group(1)) for m in re.finditer(r"; (\d+) compressed", " ".join(records)))


def test_a_worker_past_its_live_budget_parks_pieces_and_draws_them_the_same(
        patched_and_fresh: tuple[Path, Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """With no room to keep laid-out pieces alive (PAGES_LIVE = 0) every piece a worker keeps
    is compressed as bytes and read back to be drawn: the PDF is the one a layout on the true
    numbers makes (the fixture's fresh build), its tags too; with the default budget the
    medium book parks nothing."""
    import logging

    from bookbuild.render.pdf.parallel import plan as pdf_parallel

    _patched, fresh, records = patched_and_fresh
    assert _parked(records) == 0 and "numbers corrected" in " ".join(records)
    folder = generate("medium", tmp_path / "medium", chapters=SHORT).parent
    monkeypatch.setattr(pdf_parallel, "PAGES_LIVE", 0)
    compressed = folder / "compressed.pdf"
    with caplog.at_level(logging.INFO, logger="bookbuild.render.pdf.parallel.plan"):
        build(folder, ["pdf"], output=compressed, options=BuildOptions(parallel=True), reporter=Reporter())
    assert _parked(caplog.messages) >= 3, caplog.messages
    assert pdftotext(compressed) == pdftotext(fresh)
    assert _tag_tree(PdfReader(compressed)) == _tag_tree(PdfReader(fresh))
    assert _outline(PdfReader(compressed)) == _outline(PdfReader(fresh))
    assert qpdf_check(compressed).returncode == 0


def test_a_parked_document_comes_back_whole_or_stays_alive() -> None:
    """compressed.py: a laid-out document with an absolutely positioned box (WeasyPrint's
    AbsolutePlaceholder, which the default pickling cannot rebuild) and a custom font
    configuration is compressed and read back, the same pages drawn to the same bytes, its font
    configuration and fetcher the very same objects; one that does not pickle is not compressed."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from bookbuild.render.pdf.parallel.compressed import compress_document

    html = ('<p style="position: relative">text <span style="position: absolute; top: 3em">moved</span></p>'
            '<p style="break-before: page">two</p>')
    fonts = FontConfiguration()
    fetcher = SimpleNamespace(name="the book's fetcher")
    document = HTML(string=html).render(font_config=fonts)
    document.fetcher = fetcher
    expected = document.write_pdf()
    compressed = compress_document(document, fetcher)
    assert compressed is not None and compressed.pages == 2
    assert len(compressed.data) < 20_000
    again = compressed.open()
    assert again is not document and again.font_config is fonts and again.fetcher is fetcher
    assert again.write_pdf() == expected
    document.fetcher = (n for n in range(3))  # a generator does not pickle
    assert compress_document(document) is None


@pytest.mark.parametrize("name", ["accessible", "print", "zh", "fa"])
def test_parallel_pdf_of_the_test_books_matches_the_single_document(
        name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Parts, call-outs and figures (accessible, print), Chinese, and Persian right to left:
    the same pages, text and bookmarks either way; every piece kept on guessed numbers is
    compressed (PAGES_LIVE = 0), so parking meets these constructs too."""
    import logging

    from bookbuild.render.pdf.parallel import plan as pdf_parallel

    folder = tmp_path / name
    shutil.copytree(Path(__file__).parent / "books" / name, folder, ignore=IN_PLACE)
    single, parallel = folder / "single.pdf", folder / "parallel.pdf"
    build(folder, ["pdf"], output=single, options=BuildOptions(parallel=False), reporter=Reporter())
    monkeypatch.setattr(pdf_parallel, "PAGES_LIVE", 0)
    with caplog.at_level(logging.INFO, logger="bookbuild.render.pdf.parallel.plan"):
        build(folder, ["pdf"], output=parallel, options=BuildOptions(parallel=True), reporter=Reporter())
    assert _parked(caplog.messages) >= 1, caplog.messages
    expected, got = pdftotext(single).split("\f"), pdftotext(parallel).split("\f")
    assert len(got) == len(expected) > 5
    assert [n for n in range(len(got)) if got[n] != expected[n]] == []
    assert _outline(PdfReader(parallel)) == _outline(PdfReader(single))
    assert PdfReader(parallel).page_labels == PdfReader(single).page_labels != [str(n) for n in range(1, len(got))]
    # poppler reads the same tag tree holding the same text (pdfinfo -struct-text)
    structure = pdf_structure(single)
    assert len(structure) > 100 and pdf_structure(parallel) == structure


@pytest.fixture(scope="module", params=["feature-tour", "zh"])
def fonts_both_ways(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The feature tour (Latin TrueType fonts, code, math) and the Chinese test book (CFF
    CID-keyed CJK fonts, their subsets' font dictionaries differing piece to piece), built
    as one document and in parallel."""
    root = Path(__file__).resolve().parent
    source = root.parent / "examples" / "feature-tour" if request.param == "feature-tour" else root / "books" / "zh"
    folder = tmp_path_factory.mktemp("fonts") / request.param
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns(".bookbuild-cache", "dist"))
    single, parallel = folder / "single.pdf", folder / "parallel.pdf"
    build(folder, ["pdf"], output=single, options=BuildOptions(parallel=False), reporter=Reporter())
    build(folder, ["pdf"], output=parallel, options=BuildOptions(parallel=True), reporter=Reporter())
    return single, parallel


def test_parallel_pdf_embeds_each_font_once_within_a_tenth_of_the_single_size(
        fonts_both_ways: tuple[Path, Path]) -> None:
    """Each piece embeds its own subset of every font it uses; the join merges them
    (parallel/fonts.py), so the book carries each font once, as the single document does,
    and is about its size (the feature tour was 161 KB against 78 KB, 39 fonts against 7)."""
    single, parallel = fonts_both_ways
    expected, got = pdffonts(single), pdffonts(parallel)
    names = [font["name"] for font in got]
    assert len(PdfReader(parallel).pages) > 5 and len(names) >= 5
    assert sorted(names) == sorted(font["name"] for font in expected)  # each once, the same fonts
    assert all(font["emb"] == "yes" and font["sub"] == "yes" and font["uni"] == "yes" for font in got), got
    programs = {obj.get_object()["/FontDescriptor"].get_object().raw_get(key).idnum
                for page in PdfReader(parallel).pages for font in page["/Resources"].get("/Font", {}).values()
                for obj in font.get_object()["/DescendantFonts"] for key in ("/FontFile2", "/FontFile3")
                if key in obj.get_object()["/FontDescriptor"].get_object()}
    assert len(programs) == len(names)  # one font program each
    assert parallel.stat().st_size <= 1.1 * single.stat().st_size, (parallel.stat().st_size, single.stat().st_size)


def _ink(pdf: Path, out: Path) -> list[int]:
    """The dark pixels of each page, rasterised in grey at 40 dpi."""
    from PIL import Image

    out.mkdir()
    subprocess.run(["pdftoppm", "-r", "40", "-gray", str(pdf), str(out / "page")], check=True)
    return [sum(Image.open(page).histogram()[:200]) for page in sorted(out.glob("page-*.pgm"))]


def test_merged_fonts_extract_and_draw_as_the_single_documents(fonts_both_ways: tuple[Path, Path]) -> None:
    """The merged fonts keep every glyph of every piece: the same text extracted (the
    ToUnicode maps merged) and the same ink on every page (outlines copied by glyph id,
    with their CFF font dictionaries); qpdf finds the file sound."""
    single, parallel = fonts_both_ways
    assert qpdf_check(parallel).returncode == 0, qpdf_check(parallel).stdout
    assert pdftotext(parallel) == pdftotext(single)
    expected, got = _ink(single, single.parent / "ink-single"), _ink(parallel, single.parent / "ink-parallel")
    assert len(got) == len(expected) > 5 and sum(expected) > 5000
    assert [n for n, (a, b) in enumerate(zip(expected, got)) if abs(a - b) > 5 + a // 200] == []


def test_a_worker_freezes_what_it_keeps_and_frees_dropped_layouts_in_batches() -> None:
    """The worker's garbage policy (pdf_pieces._Garbage): after each piece the live objects
    are frozen, so a full collection no longer walks kept layouts. A dropped layout that
    reference counting freed counts FREED_PAGE a page; one left in a cycle counts whole;
    a full collection frees them once PAGES_DROPPED pages have piled up, not before."""
    import gc
    import weakref

    from bookbuild.render.pdf.parallel import pieces as pdf_pieces

    class Node:
        pass

    def cycle() -> weakref.ref:
        node = Node()
        node.me = node  # only the cycle collector frees it
        return weakref.ref(node)

    def document(pages: int, cyclic: bool) -> Node:
        made = Node()
        made.pages = []
        for _ in range(pages):
            page = Node()
            page._page_box = Node()
            if cyclic:
                page._page_box.page = page._page_box
            made.pages.append(page)
        return made

    garbage = pdf_pieces._Garbage()
    try:
        kept = Node()
        garbage.settle()
        assert gc.get_freeze_count() > 0
        assert not any(obj is kept for obj in gc.get_objects())  # frozen: collections skip it
        young = cycle()
        garbage.settle()
        assert young() is None  # garbage of the piece just done is collected before freezing

        freed = document(10, cyclic=False)
        garbage.settle(kept=(1, freed))
        del freed
        garbage.settle(dropped=1)
        assert garbage.pages == pytest.approx(10 * pdf_pieces.FREED_PAGE)

        left = document(pdf_pieces.PAGES_DROPPED - 3, cyclic=True)
        box = weakref.ref(left.pages[0]._page_box)
        garbage.settle(kept=(2, left))
        del left
        garbage.settle(dropped=2)
        assert box() is not None  # frozen in its cycle, and counted whole
        assert garbage.pages == pytest.approx(pdf_pieces.PAGES_DROPPED - 3 + 10 * pdf_pieces.FREED_PAGE)

        more = document(1, cyclic=True)
        garbage.settle(kept=(3, more))
        del more
        garbage.settle(dropped=3)  # PAGES_DROPPED reached: unfrozen and collected
        assert box() is None and garbage.pages == 0
    finally:
        gc.unfreeze()


def test_workers_started_before_a_book_that_fails_to_read_are_stopped(little_book: Path, tmp_path: Path) -> None:
    """The PDF workers start while the book is read (api._start_pdf_workers); a bad chapter
    still gives its plain error, no PDF, the old output kept, and no process left behind."""
    import multiprocessing

    from bookbuild.errors import BookError

    (little_book / "two.md").write_bytes(b"# Two\n\nfine\n\xff broken\n")
    target = tmp_path / "old.pdf"
    target.write_bytes(b"%PDF- the previous build")
    with pytest.raises(BookError) as caught:
        build(little_book, ["pdf"], output=target, options=BuildOptions(parallel=True))
    assert "two.md:4: error: not valid UTF-8" in str(caught.value)
    assert target.read_bytes() == b"%PDF- the previous build"
    assert multiprocessing.active_children() == []


def test_the_workers_do_not_run_the_callers_script_again(little_book: Path, tmp_path: Path) -> None:
    """A spawned worker runs the ``__main__`` script again (as ``__mp_main__``) unless it is
    hidden when the workers start: the ``bookbuild`` command's script imported the whole
    command line in each worker before WeasyPrint, and a program calling the API ran its own
    code again in every worker."""
    marker, script = tmp_path / "ran.txt", tmp_path / "make_pdf.py"
    script.write_text(
        "import sys\n"
        f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
        "if __name__ == '__main__':\n"
        "    from bookbuild.api import BuildOptions, build\n"
        f"    build({str(little_book)!r}, ['pdf'], output={str(tmp_path / 'out.pdf')!r},"
        " options=BuildOptions(parallel=True))\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert PdfReader(tmp_path / "out.pdf").pages
    assert marker.read_text().split() == ["__main__"]


def test_the_main_module_is_hidden_only_while_workers_start_even_from_two_threads() -> None:
    """What main_module_hidden takes from ``__main__`` comes back, also when a second thread
    starts workers while the first is starting its own: one thread at a time, or the second
    would save the values the first hid and put those back last."""
    import threading

    from bookbuild.render.pdf.parallel.workers import main_module_hidden

    main = sys.modules["__main__"]
    before = (getattr(main, "__file__", "absent"), main.__spec__)
    first_in, first_out, second_in = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with main_module_hidden():
            assert getattr(main, "__file__", None) is None and main.__spec__ is None
            first_in.set()
            second_in.wait(0.3)  # the second comes in only after the first leaves
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with main_module_hidden():
            second_in.set()
            first_out.wait(5)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (getattr(main, "__file__", "absent"), main.__spec__) == before


def _exit_at_once(conn: object) -> None:
    """A worker that dies before its first job (as one whose WeasyPrint cannot load would)."""


def test_a_worker_dead_before_its_first_job_is_reported_as_such() -> None:
    from bookbuild.render.pdf.parallel.workers import DIED, Job, WorkerPool

    with WorkerPool(1, _exit_at_once) as pool:
        pool.processes[0].join(timeout=30)
        pool.send_all("the book")  # no error here: the job says it
        with pytest.raises(RuntimeError, match=re.escape(DIED)):
            pool.run([Job(0, "a job")])


def _echo(conn: object) -> None:
    from bookbuild.render.pdf.parallel.workers import serve

    serve(conn, lambda message: message)  # type: ignore[arg-type]


def test_a_worker_takes_the_job_of_lowest_rank_first() -> None:
    """The parallel PDF ranks its jobs: the contents first once the body is laid out, then
    the kept pieces in book order, then the layouts; jobs added by ``done`` go before the
    waiting jobs of their rank."""
    from bookbuild.render.pdf.parallel.workers import Job, WorkerPool

    order: list[str] = []

    def done(key: str, result: str, worker: int) -> list[Job]:
        order.append(result)
        return [Job("d", "d", rank=(0, 0)), Job("e", "e", rank=(0, 9))] if key == "c" else []

    jobs = [Job("a", "a", rank=(1, 0)), Job("b", "b", rank=(1, 1)), Job("c", "c", rank=(0, 5))]
    with WorkerPool(1, _echo) as pool:
        results = pool.run(jobs, done)
    assert order == ["c", "d", "e", "a", "b"]
    assert results == {key: (key, 0) for key in "abcde"}


def test_a_process_keeps_its_pdf_workers_for_its_next_build(little_book: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A parallel PDF build keeps its worker processes (WeasyPrint imported) for the next
    build of the same process (``build --watch``, the API): the next book's text, not the
    last one's; a changed environment starts new workers, and a failed build stops them."""
    import multiprocessing

    from bookbuild.errors import BookError
    from bookbuild.render.pdf.parallel import workers as plan

    build(little_book, ["pdf"], output=tmp_path / "a.pdf", options=BuildOptions(parallel=True))
    (kept,) = plan._KEPT
    workers = [process.pid for process in kept.processes]
    chapter = little_book / "one.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\nA sentence added since.\n", encoding="utf-8")
    build(little_book, ["pdf"], output=tmp_path / "b.pdf", options=BuildOptions(parallel=True))
    assert plan._KEPT == [kept] and [process.pid for process in kept.processes] == workers
    assert "A sentence added since." in pdftotext(tmp_path / "b.pdf")
    assert "A sentence added since." not in pdftotext(tmp_path / "a.pdf")
    monkeypatch.setenv("BOOKBUILD_SOMETHING_NEW", "1")  # a worker reads its environment when it starts
    build(little_book, ["pdf"], output=tmp_path / "c.pdf", options=BuildOptions(parallel=True))
    assert kept.closed and len(plan._KEPT) == 1 and plan._KEPT[0] is not kept
    (little_book / "two.md").write_bytes(b"# Two\n\n\xff broken\n")
    with pytest.raises(BookError):
        build(little_book, ["pdf"], output=tmp_path / "d.pdf", options=BuildOptions(parallel=True))
    assert plan._KEPT == [] and multiprocessing.active_children() == []


def test_the_command_line_starts_the_pdf_workers_before_the_build(little_book: Path, tmp_path: Path) -> None:
    """pipeline.start_early, called by the command line before it imports the build's code:
    the pool it keeps is the one the build takes; a second call starts no other; a book
    printed as one document, or a book.toml that does not load, starts none."""
    from bookbuild.config.overrides import Overrides
    from bookbuild.pipeline import start_early
    from bookbuild.render.pdf.parallel import workers

    try:
        start_early(little_book, ("pdf",), Overrides())  # a few lines: one document
        assert workers._KEPT == []
        (little_book / "book.toml").write_text("[book\n", encoding="utf-8")
        start_early(little_book, ("pdf",), Overrides(parallel=True))  # the build will say what is wrong
        assert workers._KEPT == []
        (little_book / "book.toml").write_text(LITTLE_MANIFEST, encoding="utf-8")
        start_early(little_book, ("pdf",), Overrides(parallel=True))
        (early,) = workers._KEPT
        start_early(little_book, ("pdf",), Overrides(parallel=True))
        assert workers._KEPT == [early] and not early.closed
        pids = [process.pid for process in early.processes]
        build(little_book, ["pdf"], output=tmp_path / "a.pdf", options=BuildOptions(parallel=True))
        assert workers._KEPT == [early] and [process.pid for process in early.processes] == pids
        assert "Hello" in pdftotext(tmp_path / "a.pdf")
    finally:
        while workers._KEPT:
            workers._KEPT.pop().close()
