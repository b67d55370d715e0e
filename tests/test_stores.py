"""The stores' editions: Kobo's kepub (render/epub/kepub.py) and the Kindle checks (render/epub/kindle.py).

The kepubs of the sample book and of a real book (Standard Ebooks' Frankenstein: time
elements, images, endnotes, semantic inflection everywhere) are built once for the module,
with the EPUB they come from; each is asked of EPUBCheck, Ace and Calibre once.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from clirun import run
from conftest import write_book
from lxml import etree
from PIL import Image
from validators import assert_ace_clean, run_epubchecks

from bookbuild.api import build
from bookbuild.errors import Reporter
from bookbuild.render.epub.kepub import kepub_document, kepub_from_epub, split_sentences
from bookbuild.render.epub.kindle import kindle_problems

ROOT = Path(__file__).resolve().parents[1]
BOOKS = {"sample": ROOT / "book", "frankenstein": ROOT / "tests" / "real" / "frankenstein"}
X = "http://www.w3.org/1999/xhtml"
NS = {"x": X}
KOBO_ID = re.compile(r"kobo\.\d+\.\d+")
SLUG = "qi-jun-probably-the-best-investor-who-understands"


@pytest.fixture(scope="module")
def editions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """Each book's EPUB and kepub, built in one call (the kepub is a format of the API)."""
    out = tmp_path_factory.mktemp("stores")
    made = {}
    for name, folder in BOOKS.items():
        results = build(folder, ["epub", "kepub"], output_dir=out / name)
        made[name] = {result.format: result.path for result in results}
    return made


@pytest.fixture(scope="module")
def epubchecks(editions: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    names = list(editions)
    reports = run_epubchecks([editions[name]["kepub"] for name in names], tmp_path_factory.mktemp("epubcheck"))
    return dict(zip(names, reports))


def documents(epub: Path) -> dict[str, bytes]:
    """The XHTML members of an EPUB by name."""
    with zipfile.ZipFile(epub) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name.endswith(".xhtml")}


def without_kobo_markup(data: bytes) -> etree._Element:
    """A kepub document with Kobo's spans, wrapper divs and style taken out again."""
    root = etree.fromstring(data)
    for element in list(root.iter(f"{{{X}}}span", f"{{{X}}}div")):
        if element.get("class") == "koboSpan" or element.get("id") in ("book-columns", "book-inner"):
            unwrap(element)
    style = root.find(f".//{{{X}}}style[@id='kobostylehacks']")
    if style is not None:
        style.getparent().remove(style)
    return root


def unwrap(element: etree._Element) -> None:
    """Put an element's text and children where it stood."""
    parent = element.getparent()
    index = parent.index(element)
    previous = parent[index - 1] if index else None
    text = (element.text or "")
    if previous is None:
        parent.text = (parent.text or "") + text
    else:
        previous.tail = (previous.tail or "") + text
    children = list(element)
    tail = element.tail or ""
    parent.remove(element)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    if children:
        children[-1].tail = (children[-1].tail or "") + tail
    elif previous is None:
        parent.text = (parent.text or "") + tail
    else:
        previous.tail = (previous.tail or "") + tail


def text_of(root: etree._Element) -> str:
    return "".join(root.find(f"{{{X}}}body").itertext())


@pytest.mark.parametrize("book", list(BOOKS))
def test_every_content_paragraph_has_kobo_spans_with_unique_ids(editions: dict, book: str) -> None:
    kepub = documents(editions[book]["kepub"])
    checked = 0
    for name, data in kepub.items():
        root = etree.fromstring(data)
        if root.find(".//x:nav", NS) is not None and name.endswith("nav.xhtml"):
            assert root.find(".//x:span[@class='koboSpan']", NS) is None  # the nav is left as it is
            continue
        body = root.find("x:body", NS)
        assert [(d.get("id")) for d in body.iterchildren()] == ["book-columns"], name
        assert body[0][0].get("id") == "book-inner" and len(body[0]) == 1
        ids = [span.get("id") for span in root.iterfind(".//x:span[@class='koboSpan']", NS)]
        assert ids and all(KOBO_ID.fullmatch(i) for i in ids), name
        all_ids = [node.get("id") for node in root.iter() if isinstance(node.tag, str) and node.get("id")]
        assert len(all_ids) == len(set(all_ids)), name
        for paragraph in root.iterfind(".//x:p", NS):
            if "".join(paragraph.itertext()).strip():
                checked += 1
                assert paragraph.find(".//x:span[@class='koboSpan']", NS) is not None, (name, paragraph.sourceline)
                # every piece of the paragraph's text is inside a span
                loose = [t for t in paragraph.xpath(".//text()[not(ancestor::x:span[@class='koboSpan'])]",
                                                    namespaces=NS) if t.strip()]
                assert loose == [], (name, loose)
    assert checked > (10 if book == "sample" else 50)


@pytest.mark.parametrize("book", list(BOOKS))
def test_the_kepub_is_the_epub_plus_kobo_markup_only(editions: dict, book: str) -> None:
    epub, kepub = editions[book]["epub"], editions[book]["kepub"]
    with zipfile.ZipFile(epub) as before, zipfile.ZipFile(kepub) as after:
        assert after.namelist() == before.namelist()
        assert after.namelist()[0] == "mimetype" and after.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        changed = {name for name in before.namelist() if before.read(name) != after.read(name)}
    originals, spanned = documents(epub), documents(kepub)
    assert changed == {name for name in originals if not name.endswith("nav.xhtml")}
    for name in sorted(changed):
        original = etree.fromstring(originals[name])
        restored = without_kobo_markup(spanned[name])
        assert text_of(etree.fromstring(spanned[name])).strip() == text_of(original).strip(), name
        assert etree.tostring(restored, method="c14n") == etree.tostring(original, method="c14n"), name


def test_the_kepub_is_a_post_process_of_the_epub_and_reproducible(editions: dict) -> None:
    epub, kepub = editions["sample"]["epub"], editions["sample"]["kepub"]
    assert kepub_from_epub(epub.read_bytes()) == kepub.read_bytes()
    assert kepub_from_epub(kepub.read_bytes()) == kepub.read_bytes()  # a kepub is left as it is


@pytest.mark.slow
@pytest.mark.parametrize("book", list(BOOKS))
def test_epubcheck_passes_the_kepub(epubchecks: dict, book: str) -> None:
    assert epubchecks[book].problems == []


@pytest.mark.slow
@pytest.mark.parametrize("book", list(BOOKS))
def test_ace_finds_no_violation_in_the_kepub(editions: dict, book: str, tmp_path: Path) -> None:
    assert_ace_clean(editions[book]["kepub"], tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(("book", "title", "author"), [
    ("sample", "Qi Jun: Probably the best investor who understands architecture", "Qi Jun"),
    ("frankenstein", "Frankenstein: Or, the Modern Prometheus", "Mary Shelley")])
def test_calibre_opens_the_kepub(editions: dict, book: str, title: str, author: str) -> None:
    ebook_meta = shutil.which("ebook-meta")
    assert ebook_meta, "calibre is not installed: run scripts/test.sh, which installs it"
    out = subprocess.run([ebook_meta, str(editions[book]["kepub"])], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    fields = {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in out.splitlines())}
    assert fields["Title"] == title
    assert fields["Author(s)"].startswith(author)


@pytest.mark.slow
def test_calibre_converts_the_epub_to_azw3_without_a_warning(editions: dict, tmp_path: Path) -> None:
    convert = shutil.which("ebook-convert")
    assert convert, "calibre is not installed: run scripts/test.sh, which installs it"
    done = subprocess.run([convert, str(editions["sample"]["epub"]), str(tmp_path / "book.azw3")],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    said = (done.stdout + done.stderr).lower()
    assert "warning" not in said and "error" not in said, said[-2000:]
    assert (tmp_path / "book.azw3").read_bytes()[60:68] == b"BOOKMOBI"
    assert kindle_problems(editions["sample"]["epub"].read_bytes()) == []


# Kobo's markup on small documents: what is split, what is kept whole, what is left alone.

DOCUMENT = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><head><title>T</title></head>
<body>
<section>
<h1>One. Two</h1>
<p>First sentence. Second <em>with emphasis. And</em> more<a epub:type="noteref" href="#n1">1</a>! Last?</p>
<p>Call <code>a. b. c()</code> now. In <time>1818</time>, <img src="x.png" alt="x"/> then.</p>
<pre><code>let x = 1. y = 2;</code></pre>
<p><math xmlns="http://www.w3.org/1998/Math/MathML"><mi>x</mi></math> is. <svg xmlns="http://www.w3.org/2000/svg"><text>t. u</text></svg></p>
<ul>
<li>Item one. Item two.</li>
</ul>
<aside epub:type="footnote" id="n1"><p>A note. Two.</p></aside>
</section>
</body>
</html>"""


def spans(root: etree._Element) -> list[tuple[str, str]]:
    return [(span.get("id"), "".join(span.itertext())) for span in root.iterfind(".//x:span[@class='koboSpan']", NS)]


def test_sentences_are_split_without_breaking_markup() -> None:
    root = etree.fromstring(kepub_document(DOCUMENT.encode()))
    assert spans(root) == [
        ("kobo.1.1", "One. "), ("kobo.1.2", "Two"),
        ("kobo.2.1", "First sentence. "), ("kobo.2.2", "Second "), ("kobo.2.3", "with emphasis. "),
        ("kobo.2.4", "And"), ("kobo.2.5", " more"), ("kobo.2.6", "1"), ("kobo.2.7", "! "), ("kobo.2.8", "Last?"),
        ("kobo.3.1", "Call "), ("kobo.3.2", "a. b. c()"), ("kobo.3.3", " now. "), ("kobo.3.4", "In "),
        ("kobo.3.5", "1818"), ("kobo.3.6", ", "), ("kobo.4.1", ""), ("kobo.4.2", " then."),
        ("kobo.5.1", " is. "),
        ("kobo.6.1", "Item one. "), ("kobo.6.2", "Item two."),
        ("kobo.7.1", "A note. "), ("kobo.7.2", "Two."),
    ]
    # inline code is one span inside its element; <time> and <img> sit whole inside theirs
    assert root.find(".//x:code/x:span", NS).text == "a. b. c()"
    assert root.find(".//x:span[@id='kobo.3.5']/x:time", NS).text == "1818"
    assert root.find(".//x:span[@id='kobo.4.1']/x:img", NS) is not None
    # the note reference keeps its link and its target; pre, MathML and SVG are untouched
    assert root.find(".//x:a[@href='#n1']/x:span", NS).text == "1"
    assert root.find(".//x:pre", NS).xpath("count(.//*)") == 1
    assert root.find(".//{http://www.w3.org/1998/Math/MathML}mi").text == "x"
    assert root.find(".//{http://www.w3.org/2000/svg}text").text == "t. u"
    # whitespace between list items stays bare text: a <ul> may hold no span
    assert all(child.tag == f"{{{X}}}li" for child in root.find(".//x:ul", NS))
    assert text_of(without_kobo_markup(etree.tostring(root))) == text_of(etree.fromstring(DOCUMENT.encode()))


@pytest.mark.parametrize("text", ["", " ", "One. Two!  Three?\n", "No stop at all", "Ends here.", "“Quoted.” Next",
                                  "Wait… what", "a.b.c", "你好。再见！好", "1. 2. 3."])
def test_sentences_join_back_to_the_text(text: str) -> None:
    assert "".join(split_sentences(text)) == text


def test_split_points() -> None:
    assert split_sentences("He said “Go.” She went. Then… nothing") == ["He said “Go.” ", "She went. ", "Then… ", "nothing"]
    assert split_sentences("v1.2 is out. Yes") == ["v1.2 is out. ", "Yes"]
    assert split_sentences("你好。再见！") == ["你好。", "再见！"]


# The command line

def test_kepub_command_writes_beside_the_other_outputs(tmp_path: Path) -> None:
    book = tmp_path / "book"
    shutil.copytree(BOOKS["sample"], book)
    result = run(["kepub", str(book)], tmp_path)
    assert result.exit_code == 0, result.output
    written = book / "dist" / f"{SLUG}.kepub.epub"
    assert written.is_file()
    assert re.fullmatch(rf"\S*dist/{SLUG}\.kepub\.epub  \d+(\.\d)? KB  \d+\.\d\d s\n", result.output), result.output
    named = run(["-q", "kepub", str(book), "-o", str(tmp_path / "out.kepub.epub")], tmp_path)
    assert named.exit_code == 0 and named.output == ""
    assert (tmp_path / "out.kepub.epub").read_bytes() == written.read_bytes()


def test_kepub_command_fails_with_exit_codes(tmp_path: Path) -> None:
    missing = run(["kepub", str(tmp_path / "nowhere")], tmp_path)
    assert missing.exit_code == 1 and "nowhere: no such book manifest" in missing.output
    wrong = run(["kepub", "--no-such-flag"], tmp_path)
    assert wrong.exit_code == 2 and "No such option" in wrong.output
    folder = tmp_path / "out"
    folder.mkdir()
    book = write_book(tmp_path / "b", '[book]\ntitle = "B"\nauthors = ["A"]\nlanguage = "en"\nchapters = ["c.md"]\n',
                      {"c.md": "# C\n\nText.\n"})
    into_folder = run(["kepub", str(book), "-o", str(folder)], tmp_path)
    assert into_folder.exit_code == 1 and "is a folder" in into_folder.output


def png(size: tuple[int, int]) -> bytes:
    data = io.BytesIO()
    Image.new("RGB", size, "white").save(data, "PNG")
    return data.getvalue()


def small_cover_book(folder: Path) -> Path:
    book = write_book(folder, '[book]\ntitle = "B"\nauthors = ["A"]\nlanguage = "en"\ncover = "front.png"\n'
                              'chapters = ["c.md"]\n', {"c.md": "# C\n\nText.\n"})
    (book / "front.png").write_bytes(png((400, 640)))
    return book


def test_kindle_command_warns_of_a_small_cover_and_strict_refuses_it(tmp_path: Path) -> None:
    book = small_cover_book(tmp_path / "b")
    result = run(["kindle", str(book)], tmp_path)
    assert result.exit_code == 0, result.output
    assert ("book.toml: warning: Kindle: the cover image is 400 x 640 pixels: under 500 pixels on its shortest side, "
            "Amazon does not show it on the website (KDP, Cover Image Guidelines)") in result.output
    assert (book / "dist" / "b.epub").is_file()
    (book / "dist" / "b.epub").unlink()
    strict = run(["kindle", str(book), "--strict"], tmp_path)
    assert strict.exit_code == 1 and "treated as errors" in strict.output
    assert not (book / "dist" / "b.epub").exists()


def test_kindle_command_is_quiet_for_a_book_that_meets_the_requirements(tmp_path: Path) -> None:
    book = tmp_path / "book"
    shutil.copytree(BOOKS["sample"], book)
    result = run(["kindle", str(book), "--strict"], tmp_path)
    assert result.exit_code == 0 and "warning" not in result.output, result.output
    assert re.fullmatch(rf"\S*dist/{SLUG}\.epub  \d+(\.\d)? KB  \d+\.\d\d s\n", result.output), result.output


def with_member(epub: bytes, name: str, data: bytes, opf_item: str = "") -> bytes:
    """The EPUB with one more member, listed in the package when ``opf_item`` is given."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(epub)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.endswith("content.opf") and opf_item:
                content = content.replace(b"</manifest>", opf_item.encode() + b"</manifest>")
            target.writestr(info, content)
        target.writestr(name, data)
    return out.getvalue()


def test_kindle_problems_name_fonts_css_and_cover_sizes(editions: dict, tmp_path: Path) -> None:
    epub = editions["sample"]["epub"].read_bytes()
    font = with_member(epub, "EPUB/fonts/a.woff2", b"wOF2",
                       '<item href="fonts/a.woff2" id="f" media-type="font/woff2"/>')
    assert [p.message for p in kindle_problems(font)] == [
        ("font a.woff2 is neither OpenType (OTF) nor TrueType (TTF), the only embedded fonts Kindle supports "
         "(KPG, Embedded Font Guidelines)")]
    css = with_member(epub, "EPUB/styles/x.css", b"p { line-height: -1em }",
                      '<item href="styles/x.css" id="x" media-type="text/css"/>')
    assert [p.message for p in kindle_problems(css)] == [
        ("stylesheet styles/x.css sets a negative line-height, which Kindle does not support "
         "(KPG, HTML Guideline: avoid negative values for line height)")]
    reporter = Reporter()
    book = small_cover_book(tmp_path / "b")
    (book / "front.png").write_bytes(png((1000, 1600)))
    build(book, ["kindle"], output=tmp_path / "k.epub", reporter=reporter)
    assert [w.message for w in reporter.warnings] == [
        ("Kindle: the cover image is 1000 x 1600 pixels: smaller than the 1600 x 2560 pixels Amazon recommends "
         "(KDP reminds you at upload) (KDP, Cover Image Guidelines)")]


def test_kindle_warns_of_an_epub_without_a_cover(tmp_path: Path) -> None:
    book = write_book(tmp_path / "b", '[book]\ntitle = "B"\nauthors = ["A"]\nlanguage = "en"\nchapters = ["c.md"]\n'
                                      '[epub]\ngenerate_cover = false\n', {"c.md": "# C\n\nText.\n"})
    reporter = Reporter()
    build(book, "kindle", output=tmp_path / "k.epub", reporter=reporter)
    assert [(w.message, Path(w.location.file).name) for w in reporter.warnings] == [
        ("Kindle: the EPUB has no cover image: Kindle's library shows none (KPG 4.2 makes an internal cover "
         "mandatory for books not sent through KDP)", "book.toml")]


def test_kindle_names_the_authors_stylesheet_and_line_and_check_says_it_too(tmp_path: Path) -> None:
    # the EPUB packs styles/book.css as styles/book-1.css: the warning names the author's file
    book = write_book(tmp_path / "b", '[book]\ntitle = "B"\nauthors = ["A"]\nlanguage = "en"\nchapters = ["c.md"]\n'
                                      'styles = ["styles/book.css"]\n', {
        "c.md": "# C\n\nText.\n",
        "styles/book.css": '@import "more.css";\n\nh1 { color: navy; }\np {\n  line-height: -1.2;\n}\n',
        "styles/more.css": "@media screen {\n  .x { margin: 0; line-height: -2em }\n}\n.y { line-height: 1.4 }\n"})
    expected = [
        ("styles/book.css:5:3: warning: Kindle: negative line-height '-1.2', which Kindle does not support "
         "(KPG, HTML Guideline: avoid negative values for line height) (hint: use a positive line-height"),
        "styles/more.css:2:19: warning: Kindle: negative line-height '-2em', which Kindle does not support"]
    result = run(["kindle", str(book)], tmp_path)
    assert result.exit_code == 0, result.output
    assert all(line in result.output for line in expected), result.output
    assert "book-1.css" not in result.output and "import-" not in result.output
    assert result.output.count("warning: Kindle") == 2  # the packed sheets are not told again
    check = run(["check", str(book)], tmp_path)
    assert all(line in check.output for line in expected), check.output


@pytest.mark.parametrize("formats", [["epub", "kepub", "kindle"], ["kindle", "kepub", "epub"]])
def test_one_build_renders_the_epub_once_for_every_edition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            formats: list[str]) -> None:
    """The store editions are made from the build's one EPUB, whatever the order asked: each
    warning of the EPUB's rendering is said once, and the kepub holds the EPUB's own chapters."""
    import bookbuild.render.epub as epub_renderer

    rendered = []
    real = epub_renderer.render_epub

    def counted(book, build, reporter, *rest):  # noqa: ANN001, ANN202 - as pipeline.render calls it
        rendered.append(book)
        reporter.warn("a warning of the EPUB's rendering")
        return real(book, build, reporter, *rest)

    monkeypatch.setattr(epub_renderer, "render_epub", counted)
    folder = write_book(tmp_path / "book", '[book]\ntitle = "Once"\nauthors = ["A. Writer"]\nlanguage = "en"\n'
                        'chapters = ["one.md"]\n', {"one.md": "# One\n\nHello.\n"})
    reporter = Reporter()
    results = build(folder, formats, output_dir=tmp_path / "out", reporter=reporter)
    assert len(rendered) == 1
    assert [w.message for w in reporter.warnings].count("a warning of the EPUB's rendering") == 1
    made = {r.format: r.path for r in results}
    assert set(made) == set(formats)
    with zipfile.ZipFile(made["epub"]) as epub, zipfile.ZipFile(made["kepub"]) as kepub:
        assert [n for n in epub.namelist() if n.endswith(".xhtml")] == [n for n in kepub.namelist() if n.endswith(".xhtml")]
