"""Language facts from BCP 47 tags, and the manifest keys that go with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.errors import ManifestError
from bookbuild.config.languages import language_facts
from bookbuild.config.manifest import load_manifest
from conftest import write_book


@pytest.mark.parametrize("tag, direction", [
    ("ar", "rtl"), ("fa-IR", "rtl"), ("he", "rtl"), ("ur", "rtl"), ("yi", "rtl"),
    ("en", "ltr"), ("zh-CN", "ltr"), ("ja", "ltr"), ("az-Arab", "rtl"), ("pa-Arab-PK", "rtl"),
    ("ku-Latn", "ltr"), ("sr-Cyrl", "ltr"),
])
def test_direction_follows_language_and_script(tag: str, direction: str) -> None:
    assert language_facts(tag).direction == direction


def test_manifest_direction_overrides_the_language() -> None:
    assert language_facts("ar", "ltr").direction == "ltr"
    assert language_facts("en", "rtl").is_rtl


@pytest.mark.parametrize("tag, hyphenate", [
    ("en", True), ("de-DE", True), ("zh-Hans", False), ("ja", False), ("ko", False),
    ("ar", False), ("he", False), ("th", False),
])
def test_hyphenation_is_off_where_the_script_is_not_hyphenated(tag: str, hyphenate: bool) -> None:
    assert language_facts(tag).hyphenate is hyphenate


def test_quotes_and_labels_follow_the_language_and_chinese_script() -> None:
    assert language_facts("ja").quotes.open == "「"
    assert language_facts("zh-TW").quotes.open == "「"
    assert language_facts("zh-Hant").label("contents") == "目錄"
    assert language_facts("zh-CN").quotes.open == "\u201c"
    assert language_facts("zh-CN").label("contents") == "目录"
    assert language_facts("de").quotes.open == "\u201e"
    assert language_facts("fa").label("contents") == "فهرست مطالب"
    assert language_facts("xx").label("contents") == "Contents"
    assert language_facts("tlh").quotes.open == "\u201c"


MANIFEST = """[book]
title = "T"
authors = ["A"]
language = "en"
chapters = ["01.md"]
{extra}
"""


def test_bad_direction_writing_mode_and_font_are_errors_with_their_line(tmp_path: Path) -> None:
    cases = {
        'direction = "up"': ("[book] direction: 'up' is not one of ltr, rtl", 6),
        '[epub]\nwriting_mode = "sideways"': ("[epub] writing_mode: 'sideways' is not one of", 7),
        '[epub]\nsubset_fonts = "yes"': ("[epub] subset_fonts: expected true or false", 7),
        'fonts = ["01.md"]': ("[book] fonts: '01.md' is not a font file", 6),
        'fonts = ["missing.ttf"]': ("[book] fonts: font 'missing.ttf' not found", 6),
    }
    for number, (extra, (message, line)) in enumerate(cases.items()):
        book = write_book(tmp_path / str(number), MANIFEST.format(extra=extra), {"01.md": "# One\n"})
        with pytest.raises(ManifestError) as raised:
            load_manifest(book)
        assert message in str(raised.value), str(raised.value)
        assert raised.value.diagnostic.location.line == line, str(raised.value)


def test_manifest_reads_direction_fonts_and_epub_options(tmp_path: Path) -> None:
    book = write_book(tmp_path, MANIFEST.format(
        extra='direction = "rtl"\nfonts = ["f/x.ttf"]\n[epub]\nwriting_mode = "vertical-rl"\nsubset_fonts = true'),
        {"01.md": "# One\n", "f/x.ttf": ""})
    manifest = load_manifest(book)
    assert manifest.language.direction == "rtl"
    assert manifest.fonts == ((tmp_path / "f" / "x.ttf").resolve(),)
    assert manifest.epub.writing_mode == "vertical-rl" and manifest.epub.subset_fonts


def test_every_language_has_every_label_with_the_same_fields() -> None:
    """A table missing a key would fail a build in that language; a translation that lost a
    field ({title}, {authors}) or the number ({}) would drop it from the page."""
    import string

    from bookbuild.config.labels import LABELS

    def fields(text: str) -> list[str]:
        return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)

    english = LABELS["en"]
    for language, table in LABELS.items():
        assert table.keys() == english.keys(), language
        for key, text in table.items():
            assert fields(text) == fields(english[key]), (language, key)
            assert text.strip() == text and text, (language, key)


def test_a_french_book_is_french_in_what_bookbuild_writes_itself(tmp_path: Path) -> None:
    """Landmarks, the title page's name, the copyright page and the cover's description are
    in the book's language (a screen reader speaks them in the book's voice); numbered
    things too. The English words appear nowhere."""
    import zipfile

    from clirun import run
    from validators import run_epubcheck

    write_book(tmp_path / "b", '[book]\ntitle = "Le Livre"\nauthors = ["Anne Auteur"]\nlanguage = "fr"\n'
               'publisher = "Éditions Test"\ndate = 2026-01-01\nchapters = ["un.md", "deux.md"]\n',
               {"un.md": "# Premier\n\nVoir [](deux.md).\n", "deux.md": "# Second\n\nFin.\n"})
    result = run(["epub", "b", "-o", "livre.epub"], tmp_path)
    assert result.exit_code == 0, result.output
    epub = tmp_path / "livre.epub"
    assert run_epubcheck(epub, tmp_path).problems == []
    with zipfile.ZipFile(epub) as archive:
        nav = archive.read("EPUB/nav.xhtml").decode()
        rights = archive.read("EPUB/copyright.xhtml").decode()
        title = archive.read("EPUB/titlepage.xhtml").decode()
        cover = archive.read("EPUB/cover.xhtml").decode()
        first = archive.read("EPUB/ch01.xhtml").decode()
    for landmark in ("Couverture", "Page de titre", "Table des matières", "Début du contenu", "Droits d’auteur"):
        assert f">{landmark}</a>" in nav
    assert 'aria-label="Repères"' in nav
    assert "<h1 id=\"copyright-title\" class=\"copyright-title\">Droits d’auteur</h1>" in rights
    assert "par Anne Auteur" in rights and "Publié par Éditions Test, 1 janvier 2026" in rights
    assert "urn:uuid:" not in rights and "Réalisé avec bookbuild." in rights  # an id no reader can use
    assert 'aria-label="Page de titre"' in title
    assert 'alt="Couverture\u00a0: Le Livre, par Anne Auteur"' in cover
    assert "Chapitre 2" in first
    for english in ("Cover", "Title page", "Start of content", "Published", "Made with", "by Anne", "Chapter 2"):
        assert english not in nav + rights + title + cover + first, english


def quoted(tmp_path: Path, language: str, text: str) -> str:
    """A paragraph of Markdown as the reader writes it in ``language``."""
    from lxml import etree

    from bookbuild.config.manifest import ChapterEntry
    from bookbuild.sources import read_chapter

    path = tmp_path / "q.md"
    path.write_text(f"# T\n\n{text}\n", encoding="utf-8")
    body = read_chapter(ChapterEntry(path), 1, language=language).body
    return "".join(etree.fromstring(f"<div>{body}</div>").find("p").itertext())


@pytest.mark.parametrize("language, text, expected", [
    # Simplified Chinese: “ ” (GB/T 15834-2011, the mainland standard), ‘ ’ inside.
    ("zh-Hans", '他说"你好"。', "他说“你好”。"),
    ("zh-CN", "他说\"我听见'你好'了\"。", "他说“我听见‘你好’了”。"),
    ("zh", '他说"你好"。', "他说“你好”。"),
    # Traditional Chinese and Japanese: corner brackets, white ones inside.
    ("zh-Hant", '他說"你好"。', "他說「你好」。"),
    ("zh-TW", "他說：\"我聽見'你好'了\"", "他說：「我聽見『你好』了」"),
    ("ja", '彼は"こんにちは"と言った。', "彼は「こんにちは」と言った。"),
    ("ja", "母は\"早く'行って'\"と書いた", "母は「早く『行って』」と書いた"),
    # Korean: “ ”, also when a particle follows the closing mark.
    ("ko", '그는 "안녕"이라고 말했다.', "그는 “안녕”이라고 말했다."),
    # Latin text inside a CJK book is set as before.
    ("zh-Hans", 'Rust 的 "Hello, world" 程序 don\'t', "Rust 的 “Hello, world” 程序 don’t"),
])
def test_straight_quotes_next_to_cjk_characters_become_the_languages_marks(
        tmp_path: Path, language: str, text: str, expected: str) -> None:
    assert quoted(tmp_path, language, text) == expected


@pytest.mark.parametrize("tag", ["en", "fr", "de", "es", "pt", "pl", "ru", "ja", "zh", "zh-Hans", "zh-Hant",
                                 "zh-HK", "ko", "ar", "he", "tlh"])
def test_the_reader_sets_the_quotes_the_language_facts_name(tmp_path: Path, tag: str) -> None:
    """One table: what the text gets is what the fonts are subset for and the docs describe."""
    marks = language_facts(tag).quotes
    assert quoted(tmp_path, tag, "\"a\" 'b'") == f"{marks.open}a{marks.close} {marks.inner_open}b{marks.inner_close}"
