from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.errors import ManifestError, Reporter
from bookbuild.config.manifest import default_identifier, find_manifest, load_manifest
from conftest import write_book

GOOD = """[book]
title = "A Book"
authors = ["An Author"]
language = "en"
chapters = ["one.md", { file = "two.md", title = "Second" }]
"""


def make(tmp_path: Path, manifest: str, chapters: tuple[str, ...] = ("one.md", "two.md")) -> Path:
    return write_book(tmp_path / "book", manifest, {name: "# Hello\n" for name in chapters})


def test_valid_manifest_loads_with_defaults(tmp_path: Path) -> None:
    manifest = load_manifest(make(tmp_path, GOOD))
    assert manifest.meta.title == "A Book"
    assert manifest.meta.authors == ("An Author",)
    assert [c.path.name for c in manifest.chapters] == ["one.md", "two.md"]
    assert manifest.chapters[1].title == "Second"
    assert manifest.meta.identifier == default_identifier("A Book", ["An Author"])
    assert manifest.meta.identifier.startswith("urn:uuid:")
    assert manifest.pdf.page_size_css == "210mm 297mm"
    assert manifest.slug == "a-book"


def test_identifier_is_stable_and_depends_on_title_and_authors() -> None:
    assert default_identifier("T", ["A"]) == default_identifier("T", ["A"])
    assert default_identifier("T", ["A"]) != default_identifier("T", ["B"])


def test_find_manifest_in_folder_file_and_book_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make(tmp_path, GOOD)
    assert find_manifest(folder) == (folder / "book.toml").resolve()
    assert find_manifest(folder / "book.toml") == (folder / "book.toml").resolve()
    monkeypatch.chdir(tmp_path)
    assert find_manifest() == (folder / "book.toml").resolve()


def test_no_manifest_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ManifestError, match="no book.toml"):
        find_manifest()


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (GOOD.replace('title = "A Book"\n', ""), ":1: error: [book] title: required key missing"),
        (GOOD.replace('title = "A Book"', "title = 42"), ":2: error: [book] title: expected a string, got an integer"),
        (GOOD.replace('["An Author"]', "[]"), ":3: error: [book] authors: list at least one author"),
        (GOOD.replace('language = "en"', 'language = "not a tag!"'), ":4: error: [book] language: 'not a tag!'"),
        (GOOD.replace('"one.md", ', '"missing.md", '), ":5: error: [book] chapters: chapter 'missing.md' not found"),
        (GOOD.replace('"one.md", ', '"../outside.md", '), "is outside the book folder"),
        (GOOD.replace("chapters = [", "chapters = ]"), ":5:12: error: malformed TOML"),
        (GOOD.replace("[book]", "[boo]"), "error: missing [book] table"),
        (GOOD + 'date = "June"\n', ":6: error: [book] date: 'June' is not a date written YYYY, YYYY-MM or YYYY-MM-DD"),
    ],
)
def test_bad_manifest_is_one_line_with_file_and_line(tmp_path: Path, manifest: str, expected: str) -> None:
    (tmp_path / "outside.md").write_text("# Out\n")
    folder = make(tmp_path, manifest)
    with pytest.raises(ManifestError) as caught:
        load_manifest(folder)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(Path("book.toml"))) or "book.toml" in message
    assert expected in message


def test_unknown_keys_warn_with_line(tmp_path: Path) -> None:
    reporter = Reporter()
    load_manifest(make(tmp_path, GOOD + 'colour = "blue"\n\n[pdf]\npage_size = "A5"\npaper_colour = "cream"\n'), reporter)
    messages = [d.format() for d in reporter.warnings]
    assert any(":6: warning: [book] unknown key 'colour'" in m for m in messages), messages
    assert any(":10: warning: [pdf] unknown key 'paper_colour'" in m for m in messages), messages


def test_page_size_presets_and_custom(tmp_path: Path) -> None:
    manifest = load_manifest(make(tmp_path, GOOD + '\n[pdf]\npage_size = "Letter"\n'))
    assert manifest.pdf.page_size_css == "8.5in 11in"
    manifest = load_manifest(make(tmp_path, GOOD + '\n[pdf]\npage_size = "100mm 150mm"\n'))
    assert manifest.pdf.page_size_css == "100mm 150mm"


@pytest.mark.parametrize(("written", "css"), [("5x8in", "5in 8in"), ("5.06x7.81in", "5.06in 7.81in"),
                                              ("6 x 9 in", "6in 9in"), ("148x210mm", "148mm 210mm")])
def test_a_page_size_written_as_a_printers_trim(tmp_path: Path, written: str, css: str) -> None:
    """Newcomer report item 3: the trims the printers' error lists ("5.06x7.81in") are accepted as written."""
    assert load_manifest(make(tmp_path, GOOD + f'\n[pdf]\npage_size = "{written}"\n')).pdf.page_size_css == css


def _errors(tmp_path: Path, manifest: str) -> list[str]:
    """Every diagnostic of a manifest that does not load, as the command line prints them."""
    with pytest.raises(ManifestError) as caught:
        load_manifest(make(tmp_path, manifest))
    return [d.format().split("book.toml:", 1)[1] for d in caught.value.diagnostics]


@pytest.mark.parametrize(("line", "hint"), [
    ('language = "en\n', 'close the text on the same line: language = "en"'),
    ('title = My Book\n', 'put text in double quotes: title = "My Book"'),
])
def test_toml_hints_are_about_the_line_that_is_wrong(tmp_path: Path, line: str, hint: str) -> None:
    manifest = GOOD.replace('language = "en"\n', line) if line.startswith("language") else \
        GOOD.replace('title = "A Book"\n', line)
    (diagnostic,) = _errors(tmp_path, manifest)
    assert f"(hint: {hint})" in diagnostic
    assert 'title = "My Book"' not in diagnostic or line.startswith("title")


def test_an_unquoted_chapter_path_is_told_to_quote_that_path(tmp_path: Path) -> None:
    (diagnostic,) = _errors(tmp_path, GOOD.replace('"one.md", {', 'one.md, {'))
    assert diagnostic.startswith("5:") and '(hint: put text in double quotes: "one.md")' in diagnostic


def test_every_mistake_is_told_in_one_run_in_line_order_with_did_you_mean(tmp_path: Path) -> None:
    manifest = ('[book]\ntitle = "A Book"\ntitel = "Typo"\nauthors = "An Author"\nlanguage = "english"\n'
                'date = "June 2020"\nchapters = ["one.md"]\n\n[pdf]\npage_sizes = "A5"\nmargin_top = "wide"\n'
                '\n[epub]\npage_list = "yes"\n')
    found = _errors(tmp_path, manifest)
    assert [line.split(":")[0] for line in found] == ["3", "5", "6", "10", "11", "14"], found
    assert found[0].startswith("3: warning: [book] unknown key 'titel' ignored (hint: did you mean 'title'?)")
    assert found[1].startswith("5: error: [book] language: 'english' is not a BCP 47 language tag")
    assert "did you mean 'en'?" in found[1]
    assert "'June 2020' is not a date written YYYY, YYYY-MM or YYYY-MM-DD" in found[2]
    assert "unknown key 'page_sizes' ignored (hint: did you mean 'page_size'?)" in found[3]
    assert "[pdf] margin_top: 'wide' is not a length" in found[4]
    assert "[epub] page_list: expected true or false" in found[5]


def test_the_command_line_prints_them_all_in_line_order(tmp_path: Path) -> None:
    from clirun import run

    make(tmp_path, '[book]\ntitle = 3\ntitel = "x"\nauthors = ["A"]\nlanguage = "en_GB"\nchapters = ["one.md"]\n')
    result = run(["check", "book"], tmp_path)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if ": error: " in line or ": warning: " in line]
    assert [line.split(":")[1] for line in lines] == ["2", "3", "5"], result.output
    assert "did you mean 'en-GB'?" in lines[2]


@pytest.mark.parametrize("tag", ["en", "en-GB", "zh-Hans", "sr-Latn-RS", "de-CH-1996", "fa-IR", "yue-Hant"])
def test_real_language_tags_are_accepted(tmp_path: Path, tag: str) -> None:
    assert load_manifest(make(tmp_path, GOOD.replace('"en"', f'"{tag}"'))).meta.language == tag


@pytest.mark.parametrize(("date", "kept"), [('"2020"', "2020"), ('"2020-06"', "2020-06"), ("2020-06-16", "2020-06-16")])
def test_dates_in_the_three_documented_forms(tmp_path: Path, date: str, kept: str) -> None:
    assert load_manifest(make(tmp_path, GOOD + f"date = {date}\n")).meta.date == kept


@pytest.mark.parametrize(("date", "told"), [
    ('"2020-13-01"', "'2020-13-01' is not a date: month 13 does not exist (01 to 12)"),
    ('"2020-06-31"', "'2020-06-31' is not a date: day 31: June 2020 has 30 days"),
    ('"2021-02-29"', "'2021-02-29' is not a date: day 29: February 2021 has 28 days"),
    ('"2020-00"', "'2020-00' is not a date: month 00 does not exist"),
])
def test_a_date_that_names_no_real_day_says_what_is_wrong(tmp_path: Path, date: str, told: str) -> None:
    """Newcomer report item 14: "2020-13-01" is written YYYY-MM-DD; the problem is month 13."""
    (diagnostic,) = _errors(tmp_path, GOOD + f"date = {date}\n")
    assert diagnostic.startswith("6: error: [book] date: ") and told in diagnostic, diagnostic


@pytest.mark.parametrize("written", ["2020-06-16T10:00:00Z", "2020-06-16T23:30:00-05:00", "2020-06-16T10:00:00"])
def test_a_toml_date_time_keeps_its_day(tmp_path: Path, written: str) -> None:
    """Newcomer report item 1: a TOML date-time is the day the author wrote (EPUB's dc:date
    and the printed date take the day); the quoted form is told to write the day alone."""
    assert load_manifest(make(tmp_path, GOOD + f"date = {written}\n")).meta.date == "2020-06-16"
    (diagnostic,) = _errors(tmp_path / "quoted", GOOD + f'date = "{written}"\n')
    assert diagnostic.startswith("6: error:") and '(hint: write the day alone: date = "2020-06-16")' in diagnostic


@pytest.mark.parametrize(("identifier", "told"), [
    ("urn:isbn:12345", "'12345' is not an ISBN: an ISBN has 13 digits"),
    ("urn:isbn:9780000000018", "'9780000000018' is not an ISBN: its check digit should be 9, not 8"),
    ("isbn:0-306-40615-3", "'0-306-40615-3' is not an ISBN: its check digit should be 2, not 3"),
])
def test_an_isbn_identifier_must_be_an_isbn(tmp_path: Path, identifier: str, told: str) -> None:
    """Newcomer report item 6: the copyright page prints isbn: identifiers as ISBNs."""
    (diagnostic,) = _errors(tmp_path, GOOD + f'identifier = "{identifier}"\n')
    assert diagnostic.startswith("6: error: [book] identifier: ") and told in diagnostic, diagnostic


@pytest.mark.parametrize("identifier", ["urn:isbn:9780000000019", "isbn:978-0-306-40615-7", "isbn:0-306-40615-2",
                                        "isbn:080442957X", "urn:uuid:1234", "https://example.org/b"])
def test_real_isbns_and_other_identifiers_load(tmp_path: Path, identifier: str) -> None:
    reporter = Reporter()
    assert load_manifest(make(tmp_path, GOOD + f'identifier = "{identifier}"\n'), reporter).meta.identifier == identifier
    assert reporter.warnings == []


def test_an_isbn_written_as_prose_is_told_to_write_isbn_colon(tmp_path: Path) -> None:
    reporter = Reporter()
    load_manifest(make(tmp_path, GOOD + 'identifier = "ISBN 978-0-00-000001-9"\n'), reporter)
    (warning,) = [d.format() for d in reporter.warnings]
    assert warning.endswith("book.toml:6: warning: [book] identifier: 'ISBN 978-0-00-000001-9' is not read as an "
                            'ISBN: the copyright page leaves it out (hint: write identifier = "isbn:9780000000019")')


@pytest.mark.parametrize(("table", "key", "value", "meant"), [
    ("pdf", "link_urls", "footnotes", "footnote"), ("pdf", "link_urls", "Footnote", "footnote"),
    ("print", "interior", "color", "colour"), ("book", "direction", "RTL", "rtl"),
    ("epub", "writing_mode", "vertical", "vertical-rl"),
])
def test_every_choice_suggests_what_was_meant(tmp_path: Path, table: str, key: str, value: str, meant: str) -> None:
    """Newcomer report item 10: TableReader.choice says "did you mean" for every choice."""
    manifest = GOOD + f'{key} = "{value}"\n' if table == "book" else GOOD + f'\n[{table}]\n{key} = "{value}"\n'
    (diagnostic,) = _errors(tmp_path, manifest)
    assert f"[{table}] {key}: '{value}' is not one of" in diagnostic and f"(hint: did you mean '{meant}'?)" in diagnostic


def test_a_choice_nothing_like_the_choices_gets_no_suggestion(tmp_path: Path) -> None:
    (diagnostic,) = _errors(tmp_path, GOOD + '\n[pdf]\nlink_urls = "zzz"\n')
    assert "is not one of footnote, after, none" in diagnostic and "hint" not in diagnostic


def test_one_author_may_be_written_as_text(tmp_path: Path) -> None:
    """``authors = "Ada Writer"`` is one author (documented in docs/authoring.md), not an error."""
    manifest = load_manifest(make(tmp_path, GOOD.replace('authors = ["An Author"]', 'authors = "Ada Writer"')))
    assert manifest.meta.authors == ("Ada Writer",)


def test_a_chapter_entry_holds_sections(tmp_path: Path) -> None:
    """``sections`` continue their chapter (issue 25, item 3): listed right after it, with the
    kind "section", in its part; a section that is not a list of files names its line."""
    manifest = load_manifest(make(tmp_path, GOOD.replace(
        'chapters = ["one.md", { file = "two.md", title = "Second" }]',
        'chapters = [{ part = "P", chapters = [\n    { file = "one.md", sections = ["one-a.md", "one-b.md"] },\n'
        '    "two.md",\n] }]'), ("one.md", "one-a.md", "one-b.md", "two.md")))
    assert [(c.path.name, c.kind, c.part) for c in manifest.chapters] == [
        ("one.md", "chapter", "P"), ("one-a.md", "section", "P"), ("one-b.md", "section", "P"),
        ("two.md", "chapter", "P")]
    with pytest.raises(ManifestError) as raised:
        load_manifest(make(tmp_path / "bad", GOOD.replace('"one.md", {', '{ file = "one.md", sections = "x.md" },\n{')))
    assert "book.toml:5: error: [book] chapters: sections of 'one.md' must be a list of files" in str(raised.value)
