"""``bookbuild new FOLDER --from-docx manuscript.docx``: a Word manuscript becomes a book.

sources/docx.py reads the document (bounded, nothing outside it fetched) into mammoth's
HTML; sources/docx_markdown.py writes Markdown from it. Here the book is laid out: the
metadata from the document's properties and its Title and Subtitle paragraphs, one chapter
per top-level heading (or per heading of the level asked for; those above it become parts),
front and back matter recognised by their headings in the book's language (the names in
config/labels.py, and the usual headings of a book), the pictures in ``images/``. What the
author should look at is returned as notes for the command to print, with the warnings.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..config.labels import LABELS
from ..errors import BookError, Reporter
from ..resources import display_path, templates_dir
from ..slugs import file_slug
from . import ScaffoldError, title_from_folder, toml_string

if TYPE_CHECKING:
    from ..sources.docx import DocxDocument

# The usual heading of each kind of front and back matter, by language (with English always).
KIND_HEADINGS = {
    "en": {"foreword": "foreword", "preface": "preface", "acknowledgments": "acknowledgments|acknowledgements",
           "introduction": "introduction", "prologue": "prologue", "epilogue": "epilogue",
           "afterword": "afterword", "glossary": "glossary", "bibliography": "bibliography|references|works cited",
           "colophon": "colophon", "dedication": "dedication", "epigraph": "epigraph"},
    "fr": {"foreword": "avant-propos", "preface": "préface", "acknowledgments": "remerciements",
           "introduction": "introduction", "prologue": "prologue", "epilogue": "épilogue", "afterword": "postface",
           "glossary": "glossaire", "bibliography": "bibliographie", "colophon": "colophon"},
    "de": {"foreword": "geleitwort", "preface": "vorwort", "acknowledgments": "danksagung|dank",
           "introduction": "einleitung|einführung", "prologue": "prolog", "epilogue": "epilog",
           "afterword": "nachwort", "glossary": "glossar", "bibliography": "literaturverzeichnis|bibliographie",
           "colophon": "kolophon"},
    "es": {"preface": "prefacio", "prologue": "prólogo", "acknowledgments": "agradecimientos",
           "introduction": "introducción", "epilogue": "epílogo", "glossary": "glosario",
           "bibliography": "bibliografía", "colophon": "colofón"},
    "it": {"preface": "prefazione", "foreword": "premessa", "acknowledgments": "ringraziamenti",
           "introduction": "introduzione", "prologue": "prologo", "epilogue": "epilogo", "afterword": "postfazione",
           "glossary": "glossario", "bibliography": "bibliografia"},
    "pt": {"preface": "prefácio", "acknowledgments": "agradecimentos", "introduction": "introdução",
           "prologue": "prólogo", "epilogue": "epílogo", "afterword": "posfácio", "glossary": "glossário",
           "bibliography": "bibliografia"},
    "nl": {"preface": "voorwoord", "acknowledgments": "dankwoord", "introduction": "inleiding",
           "prologue": "proloog", "epilogue": "epiloog", "afterword": "nawoord", "glossary": "woordenlijst",
           "bibliography": "bibliografie|literatuurlijst", "colophon": "colofon"},
}
OPENING = "chapters/00-opening.md"


@dataclass(frozen=True)
class ChapterPlan:
    """One chapter of the new book: where it goes, what it is, and the part it opens or is in."""

    file: str
    title: str
    kind: str = "chapter"
    part: str | None = None
    section: object = None


@dataclass
class DocxImport:
    """What ``--from-docx`` wrote, and what the author should look at."""

    folder: Path
    chapters: list[ChapterPlan]
    pictures: int
    notes: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        """The lines the command prints."""
        kinds = [c.kind for c in self.chapters if c.kind != "chapter" and c.file != OPENING]
        front = f" ({', '.join(kinds)} recognised)" if kinds else ""
        place = display_path(self.folder)
        return [(f"created the book in {place}/: book.toml, {len(self.chapters)} chapter(s) in chapters/{front}, "
                f"{self.pictures} picture(s) in images/"),
                *(f"note: {note}" for note in self.notes),
                f"next: cd {place} && bookbuild preview   (or: bookbuild check, bookbuild build)"]


def heading_kind(title: str, language: str) -> str | None:
    """The kind of front or back matter a heading names in the book's language (or English)."""
    text = re.sub(r"[\s:.\u00a0]+$", "", " ".join(title.split())).casefold()
    primary = language.lower().split("-")[0]
    for table in (KIND_HEADINGS.get(primary, {}), KIND_HEADINGS["en"]):
        for kind, names in table.items():
            if re.fullmatch(names, text):
                return kind
    labels = LABELS.get(primary, {})
    for kind in ("dedication", "epigraph"):
        if labels.get(kind, "\0").casefold() == text:
            return kind
    for appendix in {labels.get("appendix", "Appendix {}"), "Appendix {}"}:
        words = re.escape(appendix.casefold()).replace(r"\{\}", r"(?:\s*[\w.]{1,4})?")
        if re.match(words + r"(?:\s*[:.\u2013\u2014-]|\s*$)", text):
            return "appendix"
    return None


def book_from_docx(docx: Path, folder: Path, reporter: Reporter, *, title: str | None = None,
                   author: str | None = None, language: str | None = None,
                   chapter_level: int | None = None) -> DocxImport:
    """Write a new book into ``folder`` (missing or empty) from the Word document ``docx``."""
    try:
        import mammoth  # noqa: F401 - the docx extra; imported by this command only
    except ImportError:
        raise ScaffoldError("reading Word documents needs mammoth, which is not installed",
                            hint="install bookbuild's docx extra: pip install 'bookbuild[docx]'") from None
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ScaffoldError(f"'{display_path(folder)}' is not an empty folder", hint="name a new folder for the book")
    from ..sources.docx import read_docx
    from ..sources.docx_markdown import parse, split

    document = read_docx(docx, reporter)
    body, notes = parse(document.html)
    title_paragraphs = _title_paragraphs(body)
    level = chapter_level or min((int(e.tag[1]) for e in body if re.fullmatch(r"h[1-6]", e.tag or "")
                                  and e.text_content().strip()), default=1)
    language = language or _language(document)
    meta = _metadata(document, title_paragraphs, docx, title, author, language)
    plan, advice = _plan(split(body, level), level, language, meta["title"])
    folder.mkdir(parents=True, exist_ok=True)
    try:
        _write_chapters(folder, plan, notes, level, document.name, reporter)
        for picture in document.pictures:
            (folder / "images").mkdir(exist_ok=True)
            (folder / "images" / picture.name).write_bytes(picture.data)
        (folder / "styles").mkdir(exist_ok=True)
        shutil.copyfile(templates_dir() / "new" / "book.css", folder / "styles" / "book.css")
        (folder / ".gitignore").write_text("dist/\n", encoding="utf-8")
        (folder / "book.toml").write_text(_manifest(meta, plan, document.name), encoding="utf-8")
        _validate(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return DocxImport(folder, plan, len(document.pictures), meta["notes"] + advice)


def _title_paragraphs(body: list) -> dict[str, str]:
    """Take the Title and Subtitle paragraphs before the first heading out of the text."""
    found: dict[str, str] = {}
    for element in list(body):
        if re.fullmatch(r"h[1-6]", element.tag or ""):
            break
        for kind in ("title", "subtitle"):
            if f"docx-{kind}" in (element.get("class") or "") and kind not in found:
                found[kind] = " ".join(element.text_content().split())
                body.remove(element)
    return found


def _language(document: DocxDocument) -> str:
    """The language most of the text is marked with (runs without a mark count for the default)."""
    marked = document.properties.language
    counts = dict(document.scan.languages)
    unmarked = counts.pop("", 0)
    if marked:
        counts[marked] = counts.get(marked, 0) + unmarked
    usable = {tag: n for tag, n in counts.items() if re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", tag)}
    return max(sorted(usable), key=lambda tag: usable[tag]) if usable else "en"


def _metadata(document: DocxDocument, paragraphs: dict, docx: Path, title: str | None, author: str | None,
              language: str) -> dict:
    props, notes = document.properties, []
    authors = [author] if author else [a.strip() for a in re.split(r";|\s+and\s+", props.creator) if a.strip()]
    if not authors:
        authors = ["Unknown Author"]
        notes.append("the document names no author: set authors in book.toml")
    elif not author:
        notes.append(f"authors = {', '.join(authors)} (the document's Author property): check it in book.toml")
    date = next((d[:10] for d in (props.modified, props.created) if re.match(r"\d{4}-\d\d-\d\d", d)), None)
    chosen = title or paragraphs.get("title") or props.title or title_from_folder(docx.with_suffix(""))
    if not (title or paragraphs.get("title") or props.title):
        notes.append(f"the document has no title: '{chosen}' is made from its file name; set title in book.toml")
    keywords = [k.strip() for k in re.split(r"[;,]", props.keywords) if k.strip()]
    return {"title": chosen, "subtitle": paragraphs.get("subtitle"), "authors": authors, "language": language,
            "date": date, "description": props.description or None, "subjects": keywords, "notes": notes}


def _plan(sections: list, level: int, language: str, book_title: str) -> tuple[list[ChapterPlan], list[str]]:
    """Files, kinds and parts for the sections; notes on what the author should decide."""
    plan: list[ChapterPlan] = []
    advice: list[str] = []
    part: str | None = None
    taken: set[str] = set()
    opening = sections[0]
    if len(sections) == 1:
        advice.append(f"the document has no headings at level {level}: its text is one chapter")
        return [ChapterPlan("chapters/01-text.md", book_title, "chapter", None, opening)], advice
    if any(e.text_content().strip() or e.find(".//img") is not None for e in opening.elements):
        plan.append(ChapterPlan(OPENING, book_title, "epigraph", None, opening))
        advice.append(f"{OPENING} holds the text before the first heading, set as an untitled page (kind "
                      "'epigraph'): give it the kind it is in book.toml, or move its text")
    width = 3 if len(sections) > 99 else 2
    number = 0
    for section in sections[1:]:
        if section.level < level:
            part = section.title
            if not any(e.text_content().strip() for e in section.elements):
                continue
            advice.append(f"the text under the part heading '{part}' is set as a chapter of that title")
        number += 1
        slug = file_slug(section.title, default="chapter", max_length=40)
        stem = f"{number:0{width}d}-{slug}"
        while stem in taken:
            stem += "-2"
        taken.add(stem)
        kind = heading_kind(section.title, language) or "chapter"
        plan.append(ChapterPlan(f"chapters/{stem}.md", section.title, kind, part, section))
    advice += _front_matter_advice(plan, language)
    return plan, advice


def _front_matter_advice(plan: list[ChapterPlan], language: str) -> list[str]:
    """Chapters before the first 'Chapter N' heading that were not recognised: maybe front matter."""
    label = LABELS.get(language.lower().split("-")[0], LABELS["en"])["chapter"].split("{}")[0].strip()
    numbered = [i for i, c in enumerate(plan) if label and c.title.casefold().startswith(label.casefold())]
    advice = [f"'{c.title}' ({c.file}) is numbered as a chapter; if it is front matter, set its kind in "
              "book.toml (preface, foreword, introduction...)"
              for c in plan[: numbered[0] if numbered else 0] if c.kind == "chapter"]
    if numbered:
        advice.append(f"headings such as '{plan[numbered[0]].title}' name their number: bookbuild numbers "
                      "chapters itself, so you may drop the number from the headings")
    return advice


def _write_chapters(folder: Path, plan: list[ChapterPlan], notes: dict, level: int, name: str,
                    reporter: Reporter) -> None:
    """Each chapter's Markdown, with links to bookmarks sent to the chapter that holds them."""
    from ..sources.docx_markdown import ChapterWriter

    elements = [(c, e) for c in plan for e in ([c.section.heading] if c.section.heading is not None else [])
                + c.section.elements]
    wanted = {a.get("href")[1:] for _, e in elements for a in e.iterfind(".//a[@href]")
              if a.get("href").startswith("#") and not re.match(r"#(foot|end)note-", a.get("href"))}
    home = {a.get("id"): chapter.file for chapter, e in elements for a in e.iterfind(".//a[@id]")
            if a.get("id") in wanted and re.fullmatch(r"[A-Za-z_][\w.-]*", a.get("id"))}
    (folder / "chapters").mkdir()
    for chapter in plan:
        def link(target: str, here: str = chapter.file) -> str | None:
            where = home.get(target)
            return None if where is None else (f"#{target}" if where == here else f"{Path(where).name}#{target}")

        def warn(message: str, here: str = chapter.file) -> None:
            reporter.warn(f"{message} (in {here})", name)

        writer = ChapterWriter(notes, link, set(home), warn, base_level=level)
        (folder / chapter.file).write_text(writer.chapter(chapter.section), encoding="utf-8")


def _manifest(meta: dict, plan: list[ChapterPlan], name: str) -> str:
    lines = [f"# Written by `bookbuild new --from-docx` from {Path(name).name}: its properties and headings.",
             "[book]", f"title = {toml_string(meta['title'])}"]
    if meta["subtitle"]:
        lines.append(f"subtitle = {toml_string(meta['subtitle'])}")
    lines += [f"authors = [{', '.join(toml_string(a) for a in meta['authors'])}]",
              f"language = {toml_string(meta['language'])}"]
    if meta["date"]:
        lines.append(f"date = {toml_string(meta['date'])}")
    if meta["description"]:
        lines.append(f"description = {toml_string(meta['description'])}")
    if meta["subjects"]:
        lines.append(f"subjects = [{', '.join(toml_string(s) for s in meta['subjects'])}]")
    lines += ["math = false  # a Word document holds no TeX: a $ is a dollar sign", 'styles = ["styles/book.css"]',
              "chapters = ["]
    part = None
    for chapter in plan:
        if chapter.part != part:
            if part:
                lines.append("    ] },")
            if chapter.part:
                lines.append(f"    {{ part = {toml_string(chapter.part)}, chapters = [")
            part = chapter.part
        indent = "        " if part else "    "
        if chapter.kind == "chapter":
            lines.append(f"{indent}{toml_string(chapter.file)},")
        else:
            title = f", title = {toml_string(chapter.title)}" if chapter.file == OPENING else ""
            lines.append(f"{indent}{{ file = {toml_string(chapter.file)}, kind = {toml_string(chapter.kind)}{title} }},")
    if part:
        lines.append("    ] },")
    lines += ["]", "", "[pdf]", 'page_size = "A5"', ""]
    return "\n".join(lines)


def _validate(folder: Path) -> None:
    """Load the new book.toml as a build would: a value the document gave that bookbuild
    refuses (a language tag, a date) is an error naming it, and no book is left behind."""
    from ..config.manifest import load_manifest

    try:
        load_manifest(folder)
    except BookError as exc:
        raise ScaffoldError(f"the document's properties make a book.toml bookbuild refuses: "
                            f"{exc.diagnostic.message}", hint="give it with --title, --author or --language") from None
