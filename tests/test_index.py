"""The back-of-book index (issue 26): marks, sorting, the PDF's page numbers, the EPUB's index.

tests/books/index is built once to an EPUB with a page list and a PDF laid out as one
document, and once more to a chapter-parallel PDF. The page numbers the PDF's index prints
are held to the pages where each marked word really stands, found in the PDF's own text
layer with pypdf and named by its /PageLabels, never from bookbuild's data.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import IN_PLACE, write_book
from lxml import etree
from pypdf import PdfReader
from validators import assert_ace_clean, qpdf_check, run_epubcheck

from bookbuild.api import BuildOptions, build
from bookbuild.api.check import check_book
from bookbuild.errors import Reporter
from bookbuild.transforms.index_sort import group_letter, sorted_terms

BOOK = Path(__file__).parent / "books" / "index"
NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
# The index's term -> the words marked for it in the book (each stands only where it is
# marked); a range: (its first word, its last word).
MARKED: dict[str, object] = {
    "telescope": "telescope", "Galileo": "Galileo", "Mercury": "Mercury", "craters": "craters",
    "Earth": "Earth", "atmosphere": "atmosphere", "Venus": "Venus", "Mars": "Mars", "regolith": "regolith",
    "perihelion": "perihelion", "orbits": ("Orbits", "ellipse"), "Jupiter": "Jupiter",
    "Great Red Spot": "Great Red Spot", "Io": "Io", "Europa": "Europa", "Saturn": "Saturn", "rings": "rings",
    "Titan": "Titan", "Uranus": "Uranus", "Neptune": "Neptune", "magnetosphere": "magnetosphere",
    "asteroids": "asteroids", "Ceres": "Ceres", "comets": "Comets", "Oort cloud": "Oort cloud",
    "Pluto": "Pluto", "Kuiper belt": "Kuiper belt", "meteors": "meteors", "ecliptic": "ecliptic",
    "zodiacal light": "zodiacal", "Ångström": "Ångström", "Äquator": "Äquator", "éclipse": "éclipse",
    "Eclipse": "Eclipse", "Zenith": "Zenith",
    # invisible "see also" marks keep their page: they stand just after these words
    "moons": "Europa", "dwarf planets": "Ceres",
}
_ENTRY = re.compile(r"^(?P<term>.+?), (?P<numbers>[0-9ivxlcdm]+(?:\u2013[0-9ivxlcdm]+)?"
                    r"(?:, [0-9ivxlcdm]+(?:\u2013[0-9ivxlcdm]+)?)*)(?:\. See\b.*)?$")  # "See also ..." may wrap


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("index") / "book"
    shutil.copytree(BOOK, folder, ignore=IN_PLACE)
    manifest = folder / "book.toml"
    manifest.write_text(manifest.read_text().replace("[pdf]", "[epub]\npage_list = true\n\n[pdf]"))
    out = folder.parent
    reporter = Reporter()
    build(folder, ["epub", "pdf"], output_dir=out / "plain", options=BuildOptions(parallel=False), reporter=reporter)
    assert reporter.warnings == []
    build(folder, ["pdf"], output_dir=out / "parallel", options=BuildOptions(parallel=True), reporter=Reporter())
    return {"epub": next((out / "plain").glob("*.epub")), "plain": next((out / "plain").glob("*.pdf")),
            "parallel": next((out / "parallel").glob("*.pdf"))}


def _pages(pdf: Path) -> tuple[list[str], list[str], int]:
    """Each page's text (words broken at a line end joined again), its label, and where the index starts."""
    reader = PdfReader(pdf)
    texts = [re.sub(r"[-\u2010\u00ad]\n", "", page.extract_text() or "") for page in reader.pages]
    start = next(n for n, text in enumerate(texts) if re.search(r"^Index$", text, re.MULTILINE))
    return texts, list(reader.page_labels), start


def _index_entries(texts: list[str], start: int) -> dict[str, list[str]]:
    """The numbers the index prints for each term (a range as first–last)."""
    entries: dict[str, list[str]] = {}
    for line in "\n".join(texts[start:]).splitlines():
        match = _ENTRY.match(line.strip())
        if match:
            entries[match.group("term")] = match.group("numbers").split(", ")
    return entries


def _expand(numbers: list[str], labels: list[str]) -> set[str]:
    pages: set[str] = set()
    for number in numbers:
        first, _, last = number.partition("\u2013")
        a, b = labels.index(first), labels.index(last or first)
        assert a <= b, number
        pages |= set(labels[a:b + 1])
    return pages


def assert_every_entry_prints_its_pages(printed: dict, texts: list[str], labels: list[str], start: int) -> None:
    """Each marked term is in the printed index with exactly the pages its words are on (a
    range: from its first word's page to its last's, across pages)."""
    assert set(printed) == set(MARKED)
    for term, marked in MARKED.items():
        if isinstance(marked, tuple):
            first, last = (_where(word, texts, labels, start) for word in marked)
            assert len(first) == len(last) == 1 and first[0] < last[0], term  # the range crosses pages
            expected = set(labels[first[0]:last[0] + 1])
        else:
            found = _where(marked, texts, labels, start)
            assert found, term
            expected = {labels[n] for n in found}
        assert _expand(printed[term], labels) == expected, term


def _where(word: str, texts: list[str], labels: list[str], start: int) -> list[int]:
    pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)".replace(r"\ ", r"\s+"))
    return [n for n in range(start) if pattern.search(texts[n])]


@pytest.fixture(scope="module")
def kdp_interior(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index book as a KDP print interior (render/pdf/print_preset.py), on a KDP trim."""
    folder = tmp_path_factory.mktemp("index-kdp") / "book"
    shutil.copytree(BOOK, folder, ignore=IN_PLACE)
    manifest = folder / "book.toml"
    manifest.write_text(manifest.read_text().replace('page_size = "A5"', 'page_size = "5in 8in"'))
    out = build(folder, ["pdf"], output_dir=folder.parent / "out", options=BuildOptions(printer="kdp"),
                reporter=Reporter())
    return out[0].path


@pytest.mark.parametrize("layout", ["plain", "parallel", "kdp"])
def test_pdf_index_prints_the_pages_of_the_marks(books: dict[str, Path], layout: str,
                                                 request: pytest.FixtureRequest) -> None:
    pdf = request.getfixturevalue("kdp_interior") if layout == "kdp" else books[layout]
    assert qpdf_check(pdf).returncode == 0
    texts, labels, start = _pages(pdf)
    printed = _index_entries(texts, start)
    assert len(printed) >= 30
    assert_every_entry_prints_its_pages(printed, texts, labels, start)
    assert "vii" in printed["telescope"] or "viii" in printed["telescope"]  # the preface: roman
    # the book's own numbering goes on after the index: its pages are labelled as they print
    assert labels[start:] == [str(int(labels[start]) + n) for n in range(len(labels) - start)]


@pytest.mark.parametrize("layout", ["plain", "parallel"])
def test_pdf_index_numbers_link_to_their_pages(books: dict[str, Path], layout: str) -> None:
    reader = PdfReader(books[layout])
    texts, labels, start = _pages(books[layout])
    names = reader.named_destinations
    landed = []
    for page in reader.pages[start:]:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            dest = annot.get("/Dest")
            if annot.get("/Subtype") == "/Link" and dest is not None:
                target = reader.get_destination_page_number(names[str(dest)])
                if target < start:  # not a "see" inside the index
                    landed.append(labels[target])
    printed = [part for numbers in _index_entries(texts, start).values() for number in numbers
               for part in number.split("\u2013")]
    assert sorted(landed) == sorted(printed)


def test_epub_index_semantics_locators_and_page_numbers(books: dict[str, Path], tmp_path: Path) -> None:
    with zipfile.ZipFile(books["epub"]) as epub:
        documents = {name: etree.fromstring(epub.read(name)) for name in epub.namelist() if name.endswith(".xhtml")}
    index_name, index = next((name, root) for name, root in documents.items()
                             if root.find(".//x:section[@role='doc-index']", NS) is not None)
    section = index.find(".//x:section[@role='doc-index']", NS)
    assert "index" in section.get(EPUB_TYPE).split()
    assert section.findall(".//x:ul", NS)[0].get(EPUB_TYPE) == "index-entry-list"
    folder = index_name.rpartition("/")[0]
    for link in section.iter("{http://www.w3.org/1999/xhtml}a"):
        file, _, anchor = link.get("href").rpartition("#")
        target = documents[f"{folder}/{file}"] if file else index
        assert target.find(f".//*[@id='{anchor}']") is not None, link.get("href")
    epub_numbers = {}
    for entry in section.iterfind(".//x:li", NS):
        term = entry.find("x:span[@class='index-term']", NS)
        locators = entry.find("x:span[@class='index-locators']", NS)
        if locators is not None:
            text = "".join(locators.itertext()).strip(", ")
            epub_numbers[term.text] = text.split(", ")
    texts, _, start = _pages(books["plain"])
    assert epub_numbers == _index_entries(texts, start)


def test_epub_is_valid_and_accessible(books: dict[str, Path], tmp_path: Path) -> None:
    report = run_epubcheck(books["epub"], tmp_path)
    assert report.problems == []
    assert_ace_clean(books["epub"], tmp_path)


def test_sorting_follows_the_language_not_code_points() -> None:
    assert sorted_terms(["zebra", "Apple", "banana", "apple", "Éclair", "eclipse"]) == [
        "apple", "Apple", "banana", "Éclair", "eclipse", "zebra"]
    assert sorted_terms(["côté", "coté", "côte", "cote"]) == ["cote", "coté", "côte", "côté"]
    assert sorted_terms(["Zebra", "Äpfel", "Bär", "Apfel", "Affe", "Ähre"]) == [
        "Affe", "Ähre", "Apfel", "Äpfel", "Bär", "Zebra"]  # Ä sorts as A: Ähre before Apfel
    assert [group_letter(term) for term in ("Äpfel", "été", "zèbre", "3D", "«quote»")] == ["A", "E", "Z", None, None]


CHAPTER = """# One

A [word]{index="word"} and []{index="alias" see="nothing here"}.

[]{index-start="open range"} Text that never closes it.

[]{index-end="never opened"} And an end without a start.
"""


def test_check_warns_about_dangling_references_and_ranges(tmp_path: Path) -> None:
    folder = write_book(tmp_path / "book", '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\n'
                        'chapters = ["one.md"]\n', {"one.md": CHAPTER})
    warnings = {(d.message, Path(d.location.file).name, d.location.line) for d in check_book(folder).warnings}
    assert ("index cross-reference 'nothing here' points at no entry", "one.md", 3) in warnings
    assert ("index range 'open range' is never closed", "one.md", 5) in warnings
    assert ("index range end 'never opened' without a start", "one.md", 7) in warnings


def test_html_chapters_mark_with_data_attributes_and_an_index_chapter_places_it(tmp_path: Path) -> None:
    folder = write_book(tmp_path / "book", '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "de"\nchapters = [\n'
                        '  "one.xhtml",\n  { file = "register.md", kind = "index" },\n  "two.md",\n]\n', {
                            "one.xhtml": '<html><body><h1>Eins</h1><p><span data-index="Äpfel">Äpfel</span> und '
                                         '<span data-index="Birnen!reife">Birnen</span>.</p></body></html>',
                            "register.md": "# Register\n\nDie Begriffe des Buches.\n",
                            "two.md": "# Zwei\n\n[Zebra]{index=\"Zebra\"}, [Apfel]{index=\"Apfel\"}.\n"})
    reporter = Reporter()
    out = build(folder, ["epub"], output_dir=tmp_path / "out", reporter=reporter)
    assert reporter.warnings == []
    with zipfile.ZipFile(out[0].path) as epub:
        index = etree.fromstring(epub.read("EPUB/ch02.xhtml"))
    terms = [span.text for span in index.iterfind(".//x:span[@class='index-term']", NS)]
    assert terms == ["Apfel", "Äpfel", "Birnen", "reife", "Zebra"]
    assert [h.text for h in index.iterfind(".//x:h2", NS)] == ["A", "B", "Z"]
    assert "Die Begriffe des Buches." in "".join(index.itertext())


def test_chapters_after_the_index_keep_their_numbers_in_one_document(tmp_path: Path) -> None:
    words = [f"Zeta{n:03d}" for n in range(150)]  # an index of two pages: the pages after it move
    one = "# One\n\n" + "\n\n".join(" ".join(f'[{w}]{{index="{w}"}} and some words' for w in words[n:n + 10])
                                      for n in range(0, len(words), 10))
    folder = write_book(tmp_path / "book", '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\nchapters = [\n'
                        '  "one.md",\n  { file = "index.md", kind = "index" },\n'
                        '  { file = "after.md", kind = "colophon" },\n]\n[pdf]\npage_size = "105mm 148mm"\n', {
                            "one.md": one, "index.md": "# Index\n",
                            "after.md": "# Colophon\n\nThe last word is [Omega]{index=\"Omega\"}.\n"})
    out = build(folder, ["pdf"], output_dir=tmp_path / "out", options=BuildOptions(parallel=False), reporter=Reporter())
    texts, labels, start = _pages(out[0].path)
    printed = _index_entries(texts, start)
    omega = [n for n, text in enumerate(texts) if n > start and re.search(r"\bOmega\b", text) and "Colophon" in text]
    assert printed["Omega"] == [labels[omega[0]]]
    assert printed["Zeta149"] == [labels[_where("Zeta149", texts, labels, start)[0]]]


def test_benchmark_book_takes_index_marks() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from generate import add_index_marks, plan_book

    writer, plans = plan_book("small")
    from generate import chapter_markdown

    texts = [add_index_marks(chapter_markdown(writer, plan, plans), plan, len(plans), 30, 7) for plan in plans]
    marks = re.findall(r'\{index="([^"]+)"\}', "".join(texts))
    assert len(marks) == len(set(marks)) == 30
    assert sum("!" in mark for mark in marks) == 22  # three in four are sub-entries


# The newcomer report's paragraph (item 4): each mark on its own line of one paragraph.
FIVE_LINES = ("# Next\n\nFirst line of a paragraph.\nSecond line [sprocket]{.gloss}.\n"
              'Third line []{index="x" see="nowhere"}.\nFourth line [a]{index-end="never"}.\n'
              "Fifth line [@nokey].\n")


def test_marks_in_a_paragraph_of_several_lines_warn_at_their_own_line_and_column(tmp_path: Path) -> None:
    folder = write_book(tmp_path / "book", '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\n'
                        'chapters = ["two.md"]\n\n[citations]\nbibliography = ["refs.bib"]\n',
                        {"two.md": FIVE_LINES, "refs.bib": "@book{knuth, title={T}, year={1968}}\n"})
    expected = {
        ("glossary term 'sprocket' is not defined", 4, 14),
        ("index cross-reference 'nowhere' points at no entry", 5, 30),
        ("index range end 'never' without a start", 6, 28),
        ("citation key 'nokey' is not in the bibliography", 7, 14),
    }
    found = {(d.message, d.location.line, d.location.col) for d in check_book(folder).warnings}
    assert found == expected
    reporter = Reporter()  # a build says the same, through the pipeline's reporter
    build(folder, ["epub"], output_dir=tmp_path / "out", options=BuildOptions(cache=False), reporter=reporter)
    assert {(d.message, d.location.line, d.location.col) for d in reporter.warnings} == expected


FILLER = "\n\n".join(["Words that fill a small page and push what follows onto the next one."] * 14)
EDGE_ONE = f"""# One

[Orbits]{{index-start="orbits"}} begin here.

A [A]{{index="a!!b"}} mark.

A [B]{{index="!lead"}} mark.

[]{{index-start="open"}} Opened and never closed.

[]{{index="moons" see-also="rings"}} Moons, and [rings]{{index="rings"}}.

{FILLER}

A note is called here.[^n]

[^n]: Deimos is a moon, and so is [Phobos]{{index="Phobos"}}.
"""
EDGE_TWO = "# Two\n\nThe path is an [ellipse]{index-end=\"orbits\"}.\n"


@pytest.fixture(scope="module")
def edge_book(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A book with the index's edge cases (the newcomer report's items 5 and 12), built once
    to an EPUB without a page list and a PDF made as one document."""
    folder = write_book(tmp_path_factory.mktemp("edges") / "book",
                        '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\nchapters = ["one.md", "two.md"]\n'
                        '[pdf]\npage_size = "105mm 148mm"\n', {"one.md": EDGE_ONE, "two.md": EDGE_TWO})
    reporter = Reporter()
    out = build(folder, ["epub", "pdf"], output_dir=folder.parent / "out", options=BuildOptions(parallel=False),
                reporter=reporter)
    with zipfile.ZipFile(out[0].path) as epub:
        documents = {name.rpartition("/")[2]: etree.fromstring(epub.read(name))
                     for name in epub.namelist() if name.endswith(".xhtml")}
    index = next(root for root in documents.values() if root.find(".//x:section[@role='doc-index']", NS) is not None)
    entries = {entry.find("x:span[@class='index-term']", NS).text: entry for entry in index.iterfind(".//x:li", NS)}
    parallel = build(folder, ["pdf"], output_dir=folder.parent / "parallel", options=BuildOptions(parallel=True),
                     reporter=Reporter())[0].path
    return {"epub": out[0].path, "pdf": out[1].path, "parallel": parallel, "documents": documents, "entries": entries,
            "warnings": {(d.message, Path(d.location.file).name, d.location.line) for d in reporter.warnings}}


def _printed_entries(pdf: Path) -> tuple[dict[str, str], list[str], list[str], int]:
    """The index's lines in the PDF (term -> the rest of its line), the pages' texts and labels."""
    texts, labels, start = _pages(pdf)
    lines = [line.strip() for text in texts[start:] for line in text.splitlines()]
    return ({line.partition(", ")[0]: line.partition(", ")[2] for line in lines if ", " in line},
            texts, labels, start)


def test_empty_levels_of_a_term_are_warned_about_at_their_line(edge_book: dict[str, object]) -> None:
    warnings = edge_book["warnings"]
    assert ("index term 'a!!b' has an empty level", "one.md", 5) in warnings
    assert ("index term '!lead' has an empty level", "one.md", 7) in warnings


def test_epub_range_without_page_list_names_two_places_each_with_its_chapter(edge_book: dict[str, object]) -> None:
    locators = edge_book["entries"]["orbits"].find("x:span[@class='index-locators']", NS)
    assert "".join(locators.itertext()) == ", 1\u20132"
    links = locators.findall(".//x:a", NS)
    assert [(link.get("href").partition("#")[0], link.get("title")) for link in links] == [
        ("ch01.xhtml", "One"), ("ch02.xhtml", "Two")]
    rings = edge_book["entries"]["rings"].find("x:span[@class='index-locators']", NS)
    assert "".join(rings.itertext()) == ", 1"


def test_an_unclosed_range_is_warned_about_and_keeps_its_start(edge_book: dict[str, object]) -> None:
    assert ("index range 'open' is never closed", "one.md", 9) in edge_book["warnings"]
    links = edge_book["entries"]["open"].findall(".//x:a", NS)
    assert len(links) == 1
    anchor = links[0].get("href").partition("#")[2]
    mark = edge_book["documents"]["ch01.xhtml"].find(f".//*[@id='{anchor}']", NS)
    assert mark is not None and "Opened and never closed" in (mark.tail or "")
    printed, texts, labels, start = _printed_entries(edge_book["pdf"])
    assert printed["open"] == labels[_where("Opened and never closed", texts, labels, start)[0]]


def test_see_also_keeps_the_page_of_its_mark(edge_book: dict[str, object]) -> None:
    printed, texts, labels, start = _printed_entries(edge_book["pdf"])
    page = labels[_where("Moons", texts, labels, start)[0]]
    assert printed["moons"] in (f"{page}. See also rings", f"{page}. See also")  # "rings" may wrap


def test_a_mark_in_a_footnote_is_indexed_at_the_footnotes_page(edge_book: dict[str, object], tmp_path: Path) -> None:
    for pdf in (edge_book["pdf"], edge_book["parallel"]):
        printed, texts, labels, start = _printed_entries(pdf)
        page = _where("Phobos", texts, labels, start)
        assert len(page) == 1 and page[0] > _where("Moons", texts, labels, start)[0]  # the note is on a later page
        assert printed["Phobos"] == labels[page[0]]
    link = edge_book["entries"]["Phobos"].find(".//x:a", NS)
    file, _, anchor = link.get("href").partition("#")
    mark = edge_book["documents"][file].find(f".//*[@id='{anchor}']", NS)
    assert mark is not None and mark.text == "Phobos"
    assert run_epubcheck(edge_book["epub"], tmp_path).problems == []
