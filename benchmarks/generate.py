"""Generate benchmark books: real bookbuild books (book.toml, Markdown chapters, PNG images).

The text is nonsense built from a seeded vocabulary, but it has the shape of a long
technical book: headings, paragraphs with emphasis and inline code, lists, block quotes,
fenced code, GFM tables, footnotes, figures and links to other chapters. The same size and
seed always give the same files (byte for byte, for a given Pillow), so timings made on
different days compare like with like.

Usage: python benchmarks/generate.py large /tmp/bench-large   (sizes: small, medium, large)
"""

from __future__ import annotations

import argparse
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

SIZES = {"small": 3, "medium": 20, "large": 100}
WORDS_PER_CHAPTER = 2400
SEED = 20261125
_SYLLABLES = ("ka", "lo", "mer", "tan", "si", "ve", "dor", "pri", "na", "gul", "the", "ro", "bin", "stel",
              "qua", "mi", "zen", "for", "da", "ult", "cor", "e", "an", "is", "op", "ny", "sha", "tri")
_LANGUAGES = ("python", "rust", "javascript", "c")


@dataclass(frozen=True)
class ChapterPlan:
    """What one chapter is called and which section ids it offers to links from elsewhere."""

    number: int
    file: str
    title: str
    sections: tuple[str, ...]


class _Writer:
    """Seeded prose: words, sentences, paragraphs."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.vocabulary = sorted({self._word() for _ in range(3000)})

    def _word(self) -> str:
        return "".join(self.rng.choice(_SYLLABLES) for _ in range(self.rng.choice((1, 2, 2, 3, 3, 4))))

    def words(self, count: int) -> list[str]:
        return [self.rng.choice(self.vocabulary) for _ in range(count)]

    def title(self, count: int = 3) -> str:
        return " ".join(self.words(count)).capitalize()

    def sentence(self) -> str:
        words = self.words(self.rng.randint(6, 18))
        for position in self.rng.sample(range(len(words)), k=min(2, len(words))):
            roll = self.rng.random()
            if roll < 0.15:
                words[position] = f"*{words[position]}*"
            elif roll < 0.22:
                words[position] = f"**{words[position]}**"
            elif roll < 0.28:
                words[position] = f"`{words[position]}()`"
        text = " ".join(words)
        return text[0].upper() + text[1:] + self.rng.choice(".....?!")

    def paragraph(self, sentences: int | None = None) -> str:
        return " ".join(self.sentence() for _ in range(sentences or self.rng.randint(3, 7)))


def plan_book(size: str, seed: int = SEED, chapters: int | None = None) -> tuple[_Writer, list[ChapterPlan]]:
    """Chapter files, titles and section ids, decided before any text so links can point ahead.
    ``chapters``: fewer (or more) chapters than the size has, each as long (tests use a short
    medium book)."""
    writer = _Writer(seed)
    plans = []
    for number in range(1, (chapters or SIZES[size]) + 1):
        title = writer.title(writer.rng.randint(2, 5))
        sections = tuple(f"sec-{number}-{k}" for k in range(1, writer.rng.randint(4, 7) + 1))
        plans.append(ChapterPlan(number, f"chapters/{number:03d}-{title.split()[0].lower()}.md", title, sections))
    return writer, plans


def chapter_markdown(writer: _Writer, plan: ChapterPlan, plans: list[ChapterPlan],
                     words: int = WORDS_PER_CHAPTER) -> str:
    """One chapter of about ``words`` words with every construct the benchmark covers."""
    rng = writer.rng
    out = [f"# {plan.title} {{#chapter-{plan.number}}}", "", writer.paragraph(5), ""]
    notes: list[str] = []
    words_per_section = words // len(plan.sections)
    for position, section in enumerate(plan.sections):
        out += [f"## {writer.title()} {{#{section}}}", ""]
        written = 0
        while written < words_per_section:
            paragraph = writer.paragraph()
            if rng.random() < 0.25:
                label = f"n{plan.number}-{len(notes) + 1}"
                paragraph += f"[^{label}]"
                notes.append(f"[^{label}]: {writer.paragraph(2)}")
            if rng.random() < 0.2:
                target = rng.choice(plans)
                link = f"../{target.file}#{rng.choice(target.sections)}" if target is not plan else f"#{section}"
                paragraph += f" See [{' '.join(writer.words(3))}]({link})."
            out += [paragraph, ""]
            written += len(paragraph.split())
        out += _block(writer, plan, position)
    out += notes
    return "\n".join(out) + "\n"


def _block(writer: _Writer, plan: ChapterPlan, position: int) -> list[str]:
    """One of the non-prose constructs, chosen by the section's position."""
    rng = writer.rng
    kind = position % 5
    if kind == 0:
        name = f"fig-{plan.number:03d}.png"
        return [f"![Figure {plan.number}: {writer.title(4)}](../images/{name})", ""]
    if kind == 1:
        language = rng.choice(_LANGUAGES)
        lines = [f"def {w}(x):\n    return x + {rng.randint(1, 99)}" for w in writer.words(4)]
        return [f"```{language}", *lines, "```", ""]
    if kind == 2:
        header = writer.words(4)
        rows = ["| " + " | ".join(header) + " |", "|" + "---|" * 4]
        rows += ["| " + " | ".join(writer.words(1)[0] if c else str(rng.randint(1, 9999)) for c in range(4)) + " |"
                 for _ in range(rng.randint(4, 8))]
        return [*rows, ""]
    if kind == 3:
        return [*(f"- {writer.sentence()}" for _ in range(rng.randint(3, 6))), ""]
    return [f"> {writer.paragraph(2)}", ""]


def draw_figure(path: Path, number: int, seed: int) -> None:
    """A small deterministic bar chart, so PDFs and EPUBs carry real image bytes."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed * 1000 + number)
    image = Image.new("RGB", (640, 320), "white")
    draw = ImageDraw.Draw(image)
    bars = rng.randint(5, 12)
    width = 600 // bars
    for bar in range(bars):
        height = rng.randint(20, 280)
        colour = (rng.randint(0, 200), rng.randint(0, 200), rng.randint(60, 255))
        draw.rectangle((20 + bar * width, 300 - height, 20 + (bar + 1) * width - 6, 300), fill=colour)
    draw.line((15, 300, 625, 300), fill="black", width=2)
    image.save(path, format="PNG", optimize=False)


def generate(size: str, folder: Path, seed: int = SEED, index_entries: int = 0, chapters: int | None = None,
             words: int = WORDS_PER_CHAPTER) -> Path:
    """Write the book of ``size`` into ``folder`` (replacing it); returns the book.toml path.
    ``index_entries``: that many index marks spread over the chapters (docs/authoring.md, Index);
    ``chapters``, ``words``: another number of chapters than the size's, of about that many
    words each (tests use smaller books of the same shape)."""
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "chapters").mkdir(parents=True)
    (folder / "images").mkdir()
    writer, plans = plan_book(size, seed, chapters)
    for plan in plans:
        text = chapter_markdown(writer, plan, plans, words)
        if index_entries:
            text = add_index_marks(text, plan, len(plans), index_entries, seed)
        (folder / plan.file).write_text(text, encoding="utf-8")
        draw_figure(folder / "images" / f"fig-{plan.number:03d}.png", plan.number, seed)
    chapter_list = "".join(f'    "{plan.file}",\n' for plan in plans)
    manifest = folder / "book.toml"
    manifest.write_text(
        "# Generated by benchmarks/generate.py: nonsense text with the shape of a long book.\n"
        "[book]\n"
        f'title = "Benchmark Book {size.capitalize()}"\n'
        'authors = ["Bench Mark"]\n'
        'language = "en"\n'
        "date = 2026-01-01\n"
        f"chapters = [\n{chapter_list}]\n",
        encoding="utf-8",
    )
    return manifest


def add_index_marks(text: str, plan: ChapterPlan, chapters: int, entries: int, seed: int) -> str:
    """The chapter with its share of ``entries`` index marks: the first word of a paragraph
    marked, one term in four a sub-entry of the term before it (the large book with 500
    entries: the index's cost, docs/benchmarks.md)."""
    rng = random.Random(seed * 1000 + plan.number)
    mine = [n for n in range(entries) if n % chapters == plan.number - 1]
    blocks = text.split("\n\n")
    prose = [n for n, block in enumerate(blocks) if block[:1].isalpha()]
    words = {n: blocks[n].split(" ") for n in prose}
    for count, number in enumerate(mine):
        if not prose:
            break
        at = prose[count % len(prose)] if count >= len(prose) else prose[rng.randrange(len(prose))]
        free = [n for n, word in enumerate(words[at]) if word.isalpha()]
        if not free:
            continue
        place = free[rng.randrange(len(free))]
        main = f"Term {number - number % 4:04d}"
        term = main if number % 4 == 0 else f"{main}!sub {number:04d}"
        words[at][place] = f'[{words[at][place]}]{{index="{term}"}}'
    for n, block in words.items():
        blocks[n] = " ".join(block)
    return "\n\n".join(blocks)


def word_count(folder: Path) -> int:
    """Words of all chapters, as ``wc -w`` counts them."""
    return sum(len(path.read_text(encoding="utf-8").split()) for path in (folder / "chapters").glob("*.md"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", choices=sorted(SIZES))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--index-entries", type=int, default=0, metavar="N",
                        help="put N index marks into the book (the index benchmark)")
    args = parser.parse_args()
    generate(args.size, args.folder, args.seed, args.index_entries)
    print(f"{args.folder}: {SIZES[args.size]} chapters, {word_count(args.folder)} words")


if __name__ == "__main__":
    main()
