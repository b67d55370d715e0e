"""The transforms' per-chapter memo and the kept EPUB documents (transforms/memo.py,
render/epub/documents.py).

A rebuild after an edit must give the very bytes and warnings of a build without any cache;
a wrong hit would build an out-of-date book without a word. Each test edits one thing a
chapter exports to the others (ids, headings, figures, images, structure, notes) and checks
the incremental build against a build from scratch, and that the edit shows where it should.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from bookbuild.api import BuildOptions, build, load_book
from bookbuild.errors import Reporter
from bookbuild.config.manifest import load_manifest
from bookbuild.render.epub import documents
from bookbuild.transforms import memo as memo_module
from conftest import FEATURES_BOOK, SAMPLE_BOOK, read_pack, write_book, write_pack

MANIFEST = """[book]
title = "Memo Book"
authors = ["A. Writer"]
language = "en"
date = 2024-01-01
chapters = ["one.md", "two.md", "three.md"]
"""


def png(colour: str) -> bytes:
    from PIL import Image

    stream = io.BytesIO()
    Image.new("RGB", (2, 2), colour).save(stream, "PNG")
    return stream.getvalue()


PNG_RED, PNG_BLUE = png("red"), png("blue")
CHAPTERS = {
    "one.md": "# One\n\nSee [](two.md#results), [](two.md#fig-dot) and [the end](three.md).[^n]\n\n"
              "A link to [nowhere](missing.md).\n\n[^n]: A note on [](three.md#last-words).\n",
    "two.md": "# Two\n\n## Results\n\nWords.\n\n![A red dot](dot.png){#fig-dot}\n\nMore words.\n\n"
              "| a | b |\n|---|---|\n| 1 | 2 |\n\n: Numbers {#tbl-a}\n",
    "three.md": "# Three\n\n## Last words\n\n![Another dot](dot.png){#fig-again}\n\nEnd. [](#fig-dot), [](two.md#tbl-a)\n",
}


@pytest.fixture(autouse=True)
def reproducible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


@pytest.fixture
def memos(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every TransformMemo a build makes, to count its hits."""
    made: list = []
    original = memo_module.TransformMemo.__init__

    def remember(self, *args, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(memo_module.TransformMemo, "__init__", remember)
    return made


@pytest.fixture
def book(tmp_path: Path) -> Path:
    folder = write_book(tmp_path / "book", MANIFEST, CHAPTERS)
    (folder / "dot.png").write_bytes(PNG_RED)
    return folder


def epub(folder: Path, name: str, cache: bool = True) -> tuple[dict[str, bytes], list[str], bytes]:
    """The EPUB's members, the warnings (in order) and the file's bytes."""
    reporter = Reporter()
    path = folder.parent / name
    build(folder, ["epub"], output=path, options=BuildOptions(cache=cache), reporter=reporter)
    with zipfile.ZipFile(path) as archive:
        members = {entry: archive.read(entry) for entry in archive.namelist()}
    return members, [f"{d.location.file}:{d.location.line}: {d.message}" for d in reporter.warnings], path.read_bytes()


def incremental_matches_scratch(folder: Path, memos: list) -> tuple[dict[str, bytes], int]:
    """Build with the cache, then without; both must agree byte for byte and warning for warning.
    Returns the members and how many chapters the incremental build took from the memo."""
    members, warnings, data = epub(folder, "incremental.epub")
    hits = len(memos[-1].entries)
    _, scratch_warnings, scratch = epub(folder, "scratch.epub", cache=False)
    assert warnings == scratch_warnings
    assert data == scratch
    return members, hits


def text(members: dict[str, bytes], chapter: int) -> str:
    return members[f"EPUB/ch{chapter:02d}.xhtml"].decode("utf-8")


def test_a_prose_edit_transforms_and_renders_only_its_chapter(book: Path, memos: list,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    first, _, _ = epub(book, "first.epub")
    assert len(memos[-1].entries) == 0
    again, _, _ = epub(book, "again.epub")
    assert len(memos[-1].entries) == 3 and again == first
    rendered: list[str] = []
    original = documents.KeptDocuments.put
    monkeypatch.setattr(documents.KeptDocuments, "put",
                        lambda self, chapter, *rest: (rendered.append(chapter.id), original(self, chapter, *rest)))
    with (book / "two.md").open("a", encoding="utf-8") as stream:
        stream.write("\nA new paragraph, and a link to [the first](one.md).\n")
    members, hits = incremental_matches_scratch(book, memos)
    assert hits == 2
    assert rendered[:4] == ["ch02", "ch01", "ch02", "ch03"]  # the rebuild renders one, the scratch build all
    assert "A new paragraph" in text(members, 2) and 'href="ch01.xhtml#one"' in text(members, 2)
    assert "A new paragraph" not in text(members, 1)


def test_warnings_of_memo_hits_are_replayed_in_order(book: Path, memos: list) -> None:
    _, first, _ = epub(book, "first.epub")
    assert any("missing.md" in w for w in first)
    (book / "three.md").write_text(CHAPTERS["three.md"] + "\nA [](#no-such-id) link.\n", encoding="utf-8")
    _, warnings, _ = epub(book, "second.epub")
    assert len(memos[-1].entries) == 2
    assert warnings[0] == first[0] and any("no-such-id" in w for w in warnings)
    incremental_matches_scratch(book, memos)


def test_warnings_name_files_from_the_folder_the_build_runs_in(book: Path, memos: list,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(book.parent)
    _, here, _ = epub(book, "first.epub")
    assert any(w.startswith("book/one.md:") for w in here)
    monkeypatch.chdir(book)
    _, there, _ = epub(book, "second.epub")
    assert any(w.startswith("one.md:") for w in there) and not any(w.startswith("book/") for w in there)
    _, scratch, _ = epub(book, "scratch.epub", cache=False)
    assert there == scratch


EDITS = {
    # an id of an earlier chapter takes "results": the later heading becomes results-2
    "clashing id": ("one.md", lambda t: t + '\nAn <span id="results">earlier</span> anchor.\n',
                    lambda m: 'id="results-2"' in text(m, 2) and 'href="ch02.xhtml#results-2"' in text(m, 1)),
    # a figure before the others renumbers them, and the cross-reference texts follow
    "new figure": ("one.md", lambda t: t + "\n![A first dot](dot.png){#fig-first}\n",
                   lambda m: "Figure 2." in text(m, 2) and ">Figure 2</a>" in text(m, 1)),
    # a captioned table before the others renumbers them (no id, no heading: only the count changes)
    "new table": ("one.md", lambda t: t + "\n| x |\n|---|\n| 1 |\n\n: Earlier\n",
                  lambda m: "Table 2." in text(m, 2) and ">Table 2</a>" in text(m, 3)),
    # a heading's text is the label a cross-reference shows
    "heading text": ("two.md", lambda t: t.replace("## Results", "## Findings {#results}"),
                     lambda m: ">Findings</a>" in text(m, 1)),
    # an image earlier in the book changes the assets' order and names
    "new image": ("one.md", lambda t: t + "\nAn icon: ![blue](blue.png) inline.\n",
                  lambda m: "images/001-blue.png" in text(m, 1) and "images/002-dot.png" in text(m, 2)),
    # a footnote added to the second chapter; its ids are taken book-wide
    "new note": ("two.md", lambda t: t + "\nNoted.[^x]\n\n[^x]: The note.\n",
                 lambda m: 'epub:type="noteref"' in text(m, 2)),
    # a title written in front matter is the chapter's label where a link has no text
    "chapter title": ("three.md", lambda t: "---\ntitle: The Very End\n---\n" + t,
                      lambda m: "The Very End" in text(m, 3)),
}


@pytest.mark.parametrize("edit", EDITS)
def test_an_edit_that_changes_what_a_chapter_exports_misses_every_entry(book: Path, memos: list, edit: str) -> None:
    (book / "blue.png").write_bytes(PNG_BLUE)
    epub(book, "first.epub")
    name, change, shows = EDITS[edit]
    path = book / name
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    members, hits = incremental_matches_scratch(book, memos)
    assert shows(members), edit
    assert hits == 0


def test_an_image_that_turns_bad_is_left_out_of_every_chapter(book: Path, memos: list) -> None:
    first, _, _ = epub(book, "first.epub")
    assert "images/001-dot.png" in text(first, 2)
    (book / "dot.png").write_bytes(PNG_RED[:40])  # truncated: fails the check
    members, hits = incremental_matches_scratch(book, memos)
    assert hits == 0
    assert "001-dot.png" not in text(members, 2) and "001-dot.png" not in text(members, 3)


def test_other_bytes_under_an_image_name_miss_every_entry(book: Path, memos: list) -> None:
    epub(book, "first.epub")
    (book / "dot.png").write_bytes(PNG_BLUE)  # still a valid PNG: the XHTML is the same
    members, hits = incremental_matches_scratch(book, memos)
    assert hits == 0  # the bytes are an export all the same: never assume
    assert members["EPUB/images/001-dot.png"] == PNG_BLUE


def test_chapters_in_another_order_are_transformed_again(book: Path, memos: list) -> None:
    epub(book, "first.epub")
    manifest = book / "book.toml"
    manifest.write_text(MANIFEST.replace('"two.md", "three.md"', '"three.md", "two.md"'), encoding="utf-8")
    members, hits = incremental_matches_scratch(book, memos)
    assert hits == 0
    assert "Three" in text(members, 2) and "Figure 2." in text(members, 3)


def test_a_forged_or_renamed_entry_is_not_used(book: Path, memos: list) -> None:
    epub(book, "first.epub")
    pack = book / ".bookbuild-cache" / "transforms.pack"
    entries = read_pack(pack)
    names = sorted(name for name in entries if name != "exports")
    # Swap two entries: each name now holds another chapter's result.
    entries[names[0]], entries[names[1]] = entries[names[1]], entries[names[0]]
    # And claim other exports for every chapter: with a MAC that does not match, they are read again.
    forged = {name: [[[], [], []], mac] for name, (_value, mac) in json.loads(entries["exports"]).items()}
    entries["exports"] = json.dumps(forged).encode()
    write_pack(pack, entries)
    _, hits = incremental_matches_scratch(book, memos)
    assert hits == 1


@pytest.mark.parametrize("damage", ["cut", "longer", "sizes"])
def test_a_damaged_entry_is_a_miss(book: Path, memos: list, damage: str) -> None:
    """An entry is a JSON line, then the body and notes as they are: cut short, with bytes
    after them, or with sizes that do not add up, it is transformed again, not read wrong."""
    epub(book, "first.epub")
    pack = book / ".bookbuild-cache" / "transforms.pack"
    entries = read_pack(pack)
    name = sorted(name for name in entries if name != "exports")[0]
    raw = entries[name]
    header, _, texts = raw.partition(b"\n")
    sizes = json.loads(header)["sizes"]
    assert sum(sizes) + len(sizes) == len(raw) - len(header)  # the layout the damage breaks
    if damage == "cut":
        entries[name] = raw[:-1]
    elif damage == "longer":
        entries[name] = raw + b"x"
    else:
        entries[name] = header.replace(b'"sizes": [', b'"sizes": [1, ') + b"\n" + texts
    write_pack(pack, entries)
    _, hits = incremental_matches_scratch(book, memos)
    assert hits == 2


def test_kept_documents_are_checked_against_their_names(book: Path, memos: list) -> None:
    epub(book, "first.epub")
    pack = book / ".bookbuild-cache" / "epub.pack"
    kept = read_pack(pack)
    names = sorted(kept)
    assert len(names) == 3
    kept[names[0]] = kept[names[1]]  # another chapter's document under this name
    write_pack(pack, kept)
    incremental_matches_scratch(book, memos)


TOUR = FEATURES_BOOK.parent.parent.parent / "examples" / "feature-tour"
BOOKS = [SAMPLE_BOOK, FEATURES_BOOK, TOUR, FEATURES_BOOK.parent / "accessible", FEATURES_BOOK.parent / "fa"]


@pytest.mark.parametrize("source", BOOKS, ids=[b.name for b in BOOKS])
def test_real_books_rebuild_to_the_same_book_and_bytes(source: Path, tmp_path: Path, memos: list) -> None:
    """The feature tour (parts, includes, math, an XHTML chapter, front and back matter), a
    part book and a right-to-left book: after an edit to the last Markdown chapter, the
    memo's book is the book made without any cache, field by field, and so is the EPUB."""
    folder = tmp_path / source.name
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns(".bookbuild-cache", "dist"))
    epub(folder, "first.epub")
    chapter = sorted(folder.glob("chapters/*.md"))[-1]
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\nOne more paragraph.\n", encoding="utf-8")
    members, warnings, data = epub(folder, "incremental.epub")
    assert len(memos[-1].entries) == len(memos[-1].keys) - 1
    _, scratch_warnings, scratch = epub(folder, "scratch.epub", cache=False)
    assert (data, warnings) == (scratch, scratch_warnings)
    assert any(b"One more paragraph." in data for data in members.values())
    manifest = load_manifest(folder)
    remembered, fresh = load_book(manifest, Reporter()), load_book(manifest, Reporter(), cache=False)
    assert len(memos[-2].entries) == len(memos[-2].keys) > 0  # the first load: every chapter a hit
    assert remembered.chapters == fresh.chapters and remembered.assets == fresh.assets
    assert remembered.labels == fresh.labels and remembered.id_owner == fresh.id_owner


@pytest.mark.parametrize("change", ["stylesheet", "language", "version"])
def test_the_build_context_is_in_every_key(book: Path, memos: list, monkeypatch: pytest.MonkeyPatch,
                                           change: str) -> None:
    manifest = book / "book.toml"
    manifest.write_text(MANIFEST.replace('chapters = [', 'styles = ["extra.css"]\nchapters = ['), encoding="utf-8")
    (book / "extra.css").write_text("p { color: black; }\n", encoding="utf-8")
    epub(book, "first.epub")
    epub(book, "second.epub")
    assert len(memos[-1].entries) == 3
    if change == "stylesheet":
        (book / "extra.css").write_text("p { color: #222; }\n", encoding="utf-8")
    elif change == "language":
        manifest.write_text(manifest.read_text(encoding="utf-8").replace('"en"', '"fr"'), encoding="utf-8")
    else:
        import bookbuild

        monkeypatch.setattr(bookbuild, "__version__", bookbuild.__version__ + ".dev1")
    members, hits = incremental_matches_scratch(book, memos)
    assert hits == 0
    if change == "language":
        assert ">Tableau 1</a>" in text(members, 3)
