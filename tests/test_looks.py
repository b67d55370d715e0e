"""How a book looks (issue 31, "Looks"): dates in the book's language, one copyright page for
both formats, links printed as text with their addresses, and the built-in themes.

Each book is built once for the module; EPUBCheck runs once over all the EPUBs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import SAMPLE_BOOK, write_book
from lxml import etree
from PIL import Image
from pypdf import PdfReader
from validators import (
    assert_ace_clean,
    pdffonts,
    pdftotext,
    qpdf_check,
    require,
    run_epubchecks,
)

from bookbuild.api import build
from bookbuild.config.manifest import load_manifest
from bookbuild.errors import ManifestError, Reporter
from bookbuild.render.front_matter import printed_date

X = {"x": "http://www.w3.org/1999/xhtml", "opf": "http://www.idpf.org/2007/opf",
     "dc": "http://purl.org/dc/elements/1.1/"}
CHAPTER = {"one.md": "# One\n\nText of the first chapter.\n"}
DATES = {  # language -> what the title and copyright pages print for 2020-06-16
    "fr": "16 juin 2020",
    "de": "16. Juni 2020",
    "ar": "16 يونيو 2020",
}
LINKS = ("# Links\n\nRead the [WeasyPrint documentation](https://doc.courtbouillon.org/weasyprint/stable/) "
         "first, then <https://example.org/auto>. See also [the next section](#two).\n\n## Two {#two}\n\nEnd.\n")
THEMES = ("classic", "modern", "compact")
OWN_CSS = 'h1 { font-family: "DejaVu Serif", serif; }\n'


def _manifest(language: str = "en", extra: str = "") -> str:
    return (f'[book]\ntitle = "A Book"\nauthors = ["Ann Author", "Bo Writer"]\nlanguage = "{language}"\n'
            f'chapters = ["one.md"]\n{extra}')


def _build(folder: Path, out: Path, formats: tuple[str, ...] = ("epub", "pdf")) -> dict[str, Path]:
    return {result.format: result.path for result in build(folder, list(formats), output_dir=out, reporter=Reporter())}


def _themed_sample(folder: Path, theme: str, own_css: bool = False) -> Path:
    shutil.copytree(SAMPLE_BOOK, folder, ignore=shutil.ignore_patterns("dist", ".bookbuild-cache"))
    manifest = (folder / "book.toml").read_text(encoding="utf-8")
    extra = f'theme = "{theme}"\n' + ('styles = ["own.css"]\n' if own_css else "")
    (folder / "book.toml").write_text(manifest.replace('language = "en"\n', f'language = "en"\n{extra}'), encoding="utf-8")
    if own_css:
        (folder / "own.css").write_text(OWN_CSS, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory, built: dict) -> dict:
    """Every book of this module, built once: the sample (the session's), one per language,
    one with an ISBN, one with links per ``[pdf] link_urls``, the sample in each theme."""
    tmp = tmp_path_factory.mktemp("looks")
    books: dict[str, dict[str, Path]] = {"sample": built["sample"]}
    for language in DATES:
        folder = write_book(tmp / language, _manifest(language, "date = 2020-06-16\n"), CHAPTER)
        books[language] = _build(folder, tmp / f"out-{language}")
    folder = write_book(tmp / "isbn", _manifest("en", 'date = "2024-03"\npublisher = "Small Press"\n'
                                                'rights = "All rights reserved."\nedition = "Second edition"\n'
                                                'identifier = "urn:isbn:9780000000019"\n'), CHAPTER)
    books["isbn"] = _build(folder, tmp / "out-isbn")
    for mode in ("footnote", "after", "none"):
        setting = "" if mode == "footnote" else f'\n[pdf]\nlink_urls = "{mode}"\n'  # footnote: the default
        folder = write_book(tmp / f"links-{mode}", _manifest("en", setting), {"one.md": LINKS})
        books[f"links-{mode}"] = _build(folder, tmp / f"out-links-{mode}", ("pdf",))
    for theme in THEMES:
        folder = _themed_sample(tmp / theme, theme, own_css=theme == "compact")
        books[theme] = _build(folder, tmp / f"out-{theme}")
    epubs = [name for name in books if name != "sample" and "epub" in books[name]]
    for name, report in zip(epubs, run_epubchecks([books[name]["epub"] for name in epubs], tmp)):
        books[name]["epubcheck"] = report.problems
    books["tmp"] = {"folder": tmp}
    return books


def _xhtml(epub: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(epub) as archive:
        return etree.fromstring(archive.read(f"EPUB/{name}"))


def _flat(text: str) -> str:
    return " ".join(text.split())


def _pdf_page(pdf: Path, number: int) -> str:
    return _flat(pdftotext(pdf, number, number, layout=False))


# ---- Dates in the book's language ------------------------------------------------------------


def test_dates_print_in_the_books_language_on_the_title_and_copyright_pages(books: dict) -> None:
    expected = {"sample": "June 16, 2020", **DATES}
    for name, date in expected.items():
        title = _flat(" ".join(_xhtml(books[name]["epub"], "titlepage.xhtml").itertext()))
        rights = _flat(" ".join(_xhtml(books[name]["epub"], "copyright.xhtml").itertext()))
        assert date in title and date in rights, (name, title, rights)
        assert "2020-06-16" not in title + rights, name
        pdf = books[name]["pdf"]
        for page in (3, 4):  # the title page, its verso the copyright page
            text = _pdf_page(pdf, page)
            if name == "ar":  # the text layer gives an Arabic line's runs reordered, in bidi marks
                words = re.sub(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069]", " ", text).split()
                assert all(word in words for word in date.split()), (name, page, text)
            else:
                assert date in text, (name, page, text)


def test_the_package_keeps_the_iso_date(books: dict) -> None:
    with zipfile.ZipFile(books["fr"]["epub"]) as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
    assert opf.findtext(".//dc:date", namespaces=X) == "2020-06-16"


def test_a_year_or_a_month_prints_only_what_was_given() -> None:
    assert printed_date("2024-03", "en") == "March 2024"
    assert printed_date("2024-03", "fr") == "mars 2024"
    assert printed_date("2024-03", "de-AT") == "März 2024"
    assert printed_date("2019", "de") == "2019"
    assert printed_date("2020-06-16", "en-GB") == "16 June 2020"
    assert printed_date("2020-06-16", "x-unknown") == "June 16, 2020"  # a tag CLDR lacks: English


# ---- One copyright page ----------------------------------------------------------------------


def _copyright_texts(book: dict) -> tuple[str, str]:
    page = _xhtml(book["epub"], "copyright.xhtml")
    epub_text = _flat(" ".join(page.find(".//x:div[@class='copyright-text']", X).itertext()))
    return epub_text, _pdf_page(book["pdf"], 4)


def test_the_copyright_page_says_the_same_in_the_epub_and_the_pdf(books: dict) -> None:
    for name in ("sample", "isbn"):
        epub_text, pdf_text = _copyright_texts(books[name])
        assert epub_text == pdf_text, name
    epub_text, _ = _copyright_texts(books["sample"])
    assert "© 2020 Qi Jun" in epub_text and "urn:uuid" not in epub_text
    epub_text, _ = _copyright_texts(books["isbn"])
    assert epub_text == ("A Book by Ann Author, Bo Writer © 2024 Ann Author, Bo Writer All rights reserved. "
                         "Second edition Published by Small Press, March 2024 ISBN: 9780000000019 Made with bookbuild.")


def test_a_rights_text_that_is_a_notice_gets_no_second_notice(tmp_path: Path) -> None:
    from bookbuild.render.front_matter import copyright_page

    meta = load_manifest(write_book(tmp_path / "b", _manifest("en", 'rights = "Copyright 2025 Someone Else."\n'
                                                              'identifier = "https://example.org/book"\n'),
                                    CHAPTER)).meta
    page = copyright_page(meta)
    assert page.notice is None and (page.identifier_name, page.identifier) == (None, "https://example.org/book")


def test_a_toml_date_time_builds_and_prints_its_day(tmp_path: Path) -> None:
    """Newcomer report item 1: `check` passed a TOML date-time that every build then crashed on;
    now both take its day (the OPF's dc:date and the printed date)."""
    from clirun import run

    write_book(tmp_path / "b", _manifest("en", "date = 2020-06-16T23:30:00-05:00\npublisher = \"Small Press\"\n"),
               CHAPTER)
    checked, built = run(["check", "b"], tmp_path), run(["epub", "b"], tmp_path)
    assert checked.exit_code == 0 and built.exit_code == 0, (checked.output, built.output)
    (epub,) = (tmp_path / "b" / "dist").glob("*.epub")
    page = _flat(" ".join(_xhtml(epub, "copyright.xhtml").find(".//x:div[@class='copyright-text']", X).itertext()))
    assert "© 2020 Ann Author, Bo Writer" in page and "Published by Small Press, June 16, 2020" in page, page
    with zipfile.ZipFile(epub) as archive:
        assert etree.fromstring(archive.read("EPUB/content.opf")).findtext(".//dc:date", namespaces=X) == "2020-06-16"


def test_a_book_without_a_date_has_the_year_of_its_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Newcomer report item 13: "© Ann Author" had no year; it is the build's (SOURCE_DATE_EPOCH's when set)."""
    from bookbuild.render.front_matter import copyright_page

    meta = load_manifest(write_book(tmp_path / "b", _manifest("en"), CHAPTER)).meta
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1950000000")  # 2031-10-17
    assert copyright_page(meta).notice == "© 2031 Ann Author, Bo Writer"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    import datetime

    assert copyright_page(meta).notice == f"© {datetime.datetime.now(datetime.timezone.utc).year} Ann Author, Bo Writer"


@pytest.mark.parametrize(("language", "imprint", "notice"), [
    ("ja", "発行：Small Press、2020年6月16日", "© 2020 Ann Author、Bo Writer"),
    ("zh", "Small Press 出版、2020年6月16日", "Ann Author、Bo Writer 著"),
    ("ar", "Small Press, ", "© 2020 Ann Author, Bo Writer"),  # Arabic's list pattern joins with "و" (and)
])
def test_the_copyright_line_separates_as_its_language_does(tmp_path: Path, language: str, imprint: str,
                                                           notice: str) -> None:
    """Newcomer report item 16: 発行：Small Press, 2020年6月16日 had an ASCII comma."""
    folder = write_book(tmp_path / "b", _manifest(language, 'date = 2020-06-16\npublisher = "Small Press"\n'), CHAPTER)
    (epub,) = _build(folder, tmp_path / "out", ("epub",)).values()
    page = "".join(_xhtml(epub, "copyright.xhtml").find(".//x:div[@class='copyright-text']", X).itertext())
    assert imprint in page and notice in page, page
    authors = _xhtml(epub, "titlepage.xhtml").find(".//x:p[@class='book-authors']", X).text
    assert authors == ("Ann Author、Bo Writer" if language in ("ja", "zh") else "Ann Author, Bo Writer")


# ---- Links in print --------------------------------------------------------------------------

URL = "https://doc.courtbouillon.org/weasyprint/stable/"


def _chapter_page(pdf: Path) -> int:
    reader = PdfReader(pdf)
    return next(n for n, page in enumerate(reader.pages) if "Read the" in page.extract_text())


def test_external_link_addresses_print_where_link_urls_says(books: dict) -> None:
    footnote = books["links-footnote"]["pdf"]
    text = pdftotext(footnote, _chapter_page(footnote) + 1, _chapter_page(footnote) + 1, layout=False)
    assert re.search(r"documentation\s*1\s+first", text), text  # a note call after the link's text
    assert f"1. {URL}" in text  # the note at the page foot
    assert text.count("https://example.org/auto") == 1  # an address shown as the link is not repeated
    after = books["links-after"]["pdf"]
    text = _flat(pdftotext(after, _chapter_page(after) + 1, _chapter_page(after) + 1, layout=False))
    assert f"WeasyPrint documentation ({URL}) first" in text
    none = books["links-none"]["pdf"]
    text = pdftotext(none, _chapter_page(none) + 1, _chapter_page(none) + 1, layout=False)
    assert URL not in text and "WeasyPrint documentation first" in _flat(text)


def test_printed_links_stay_clickable(books: dict) -> None:
    for mode, count in (("footnote", 2), ("after", 2), ("none", 1)):  # the link, and its printed address
        reader = PdfReader(books[f"links-{mode}"]["pdf"])
        page = reader.pages[_chapter_page(books[f"links-{mode}"]["pdf"])]
        uris = [annotation.get_object().get("/A", {}).get("/URI") for annotation in page.get("/Annots", [])]
        assert uris.count(URL) == count, (mode, uris)
        assert "https://example.org/auto" in uris


def test_an_address_isolated_in_right_to_left_text_is_not_printed_twice() -> None:
    """The PDF isolates a left-to-right run (an autolink) in right-to-left text with U+2066 and
    U+2069 (render/scripts.py): the link's text is still its address."""
    from bookbuild.render.pdf.link_urls import print_link_urls

    wrapper = etree.fromstring('<div><p>نشانی <a href="https://example.org/fa">\u2066https://example.org/fa\u2069</a>'
                               ' و <a href="https://example.org/x">این</a>.</p></div>')
    print_link_urls(wrapper, "footnote")
    (span,) = wrapper.iter("span")
    assert (span.get("class"), span.find("a").text, span.tail) == ("footnote link-url", "https://example.org/x", ".")


def test_links_print_in_the_text_colour_without_underline(books: dict, tmp_path: Path) -> None:
    pdf = books["links-after"]["pdf"]
    number = _chapter_page(pdf) + 1
    subprocess.run([require("pdftoppm"), "-r", "100", "-png", "-f", str(number), "-l", str(number), str(pdf),
                    str(tmp_path / "page")], check=True)
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    coloured = sum(1 for r, g, b in image.get_flattened_data() if b - r > 40)  # base.css's link blue is #1a4f8b
    assert coloured == 0


def test_a_wrong_link_urls_value_is_refused_at_its_line(tmp_path: Path) -> None:
    folder = write_book(tmp_path / "b", _manifest("en", '\n[pdf]\nlink_urls = "margin"\n'), CHAPTER)
    with pytest.raises(ManifestError) as caught:
        load_manifest(folder)
    assert caught.value.diagnostic.location.line == 8
    assert "link_urls: 'margin' is not one of footnote, after, none" in str(caught.value)


# ---- Themes ----------------------------------------------------------------------------------


def _fonts(pdf: Path) -> set[str]:
    """The PostScript names of the fonts, without subset tag or hyphens: NotoSansDisplayBold."""
    return {row["name"].split("+")[-1].replace("-", "") for row in pdffonts(pdf)}


def test_each_theme_builds_valid_books(books: dict) -> None:
    for theme in THEMES:
        assert books[theme]["epubcheck"] == [], theme
        assert qpdf_check(books[theme]["pdf"]).returncode == 0, theme
    for name in ("fr", "de", "ar", "isbn"):
        assert books[name]["epubcheck"] == [], name


def test_theme_fonts_are_in_effect_in_the_pdf(books: dict) -> None:
    standard, classic = _fonts(books["sample"]["pdf"]), _fonts(books["classic"]["pdf"])
    modern, compact = _fonts(books["modern"]["pdf"]), _fonts(books["compact"]["pdf"])
    assert "NotoSansBold" in standard and not any("Display" in font for font in standard)
    assert "NotoSerifDisplay" in classic and not any("Sans" in font for font in classic)
    assert "NotoSansDisplayBold" in modern and "NotoSerif" in modern
    assert "NotoSans" in compact and not any(font.startswith("NotoSerif") for font in compact)
    assert "DejaVuSerifBold" in compact  # the book's own sheet sets h1 in DejaVu Serif, over the theme


def test_the_epub_links_the_theme_after_the_shared_sheets_and_before_the_books(books: dict) -> None:
    for theme in THEMES:
        chapter = _xhtml(books[theme]["epub"], "ch01.xhtml")
        hrefs = [link.get("href") for link in chapter.iterfind(".//x:link[@rel='stylesheet']", X)]
        own = ["styles/book-1.css"] if theme == "compact" else []
        assert [h for h in hrefs if h != "styles/options.css"] == ["styles/base.css", "styles/epub.css",
                                                                   f"styles/theme-{theme}.css", *own], hrefs
    sample = _xhtml(books["sample"]["epub"], "ch01.xhtml")
    assert not [link for link in sample.iterfind(".//x:link", X) if "theme" in link.get("href")]


def test_a_themed_epub_passes_ace(books: dict) -> None:
    """The modern theme colours headings, rules and tables: contrast is Ace's to judge."""
    assert_ace_clean(books["modern"]["epub"], books["tmp"]["folder"])


def test_an_unknown_theme_is_refused_at_its_line_with_the_nearest_name(tmp_path: Path) -> None:
    folder = write_book(tmp_path / "b", _manifest("en", 'theme = "clasic"\n'), CHAPTER)
    with pytest.raises(ManifestError) as caught:
        load_manifest(folder)
    diagnostic = caught.value.diagnostic
    assert (diagnostic.location.line, diagnostic.message) == (6, "[book] theme: no theme named 'clasic'")
    assert diagnostic.hint.startswith("did you mean 'classic'? The themes are standard, classic, modern, compact")
    assert load_manifest(write_book(tmp_path / "c", _manifest(), CHAPTER)).theme == "standard"
