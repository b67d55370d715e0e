"""Per-format content: ``::: only-epub`` and ``::: only-pdf`` blocks.

The model keeps both, as ``<div class="only-epub">``/``<div class="only-pdf">``; just
before a renderer runs, the blocks meant for other formats are removed (not hidden), so
no reader and no screen reader meets them. Positions found in one format's book (where the
PDF's pages begin) are moved to the same text of another's by :func:`translate_page_starts`.
"""

from __future__ import annotations

from lxml import etree

from ..model import Book, PageStart
from ..xhtml import parse_fragment, remove_keep_tail, serialize_fragment, unwrap

FORMAT_CLASSES = {"epub": "only-epub", "pdf": "only-pdf"}
_ORDINAL = "data-bb-ordinal"  # an element's place in the unfiltered body, while translating


def for_format(book: Book, fmt: str) -> Book:
    """The book as one format shows it: other formats' blocks gone, its own unwrapped."""
    if not any("only-" in chapter.body for chapter in book.chapters):
        return book
    chapters = []
    for chapter in book.chapters:
        if "only-" not in chapter.body:
            chapters.append(chapter)
            continue
        wrapper = parse_fragment(chapter.body)
        _keep_format(wrapper, fmt)
        chapters.append(chapter.replace(body=serialize_fragment(wrapper)))
    return book.replace(chapters=tuple(chapters))


def _keep_format(wrapper: etree._Element, fmt: str) -> None:
    """Remove the blocks of other formats from a parsed body, and unwrap those of ``fmt``."""
    drop = {css for name, css in FORMAT_CLASSES.items() if name != fmt}
    for node in list(wrapper.iter("div")):
        classes = set((node.get("class") or "").split())
        if classes & drop:
            remove_keep_tail(node)
        elif FORMAT_CLASSES.get(fmt) in classes:
            unwrap(node)


def translate_page_starts(book: Book, starts: dict[str, tuple[PageStart, ...]], source: str,
                          target: str) -> dict[str, tuple[PageStart, ...]]:
    """Page starts found in ``source``'s book (``book`` before :func:`for_format`), moved to
    the same text in ``target``'s book.

    A start inside a block that ``target`` shows is kept there; one inside text that only
    ``source`` has moves to the start of the next block ``target`` shows, where the text of
    ``target`` resumes on that page. Pages of ``source``'s text alone have nothing to point
    at in ``target`` and get no start: of several starts that land in one place, the last
    is kept, and one with nothing of its chapter after it is dropped.
    """
    bodies = {chapter.id: chapter.body for chapter in book.chapters if "only-" in chapter.body}
    translated = {}
    for container, pages in starts.items():
        if container not in bodies:
            translated[container] = pages
            continue
        source_tree, target_tree = _numbered(bodies[container], source), _numbered(bodies[container], target)
        moved = [page for page in (_translate(page, source_tree, target_tree) for page in pages) if page]
        translated[container] = tuple(page for page, after in zip(moved, [*moved[1:], None])
                                      if after is None or (after.path, after.chars) != (page.path, page.chars))
    return translated


def _numbered(body: str, fmt: str) -> etree._Element:
    """The body as ``fmt`` shows it, each element marked with its place in the whole body."""
    wrapper = parse_fragment(body)
    for ordinal, node in enumerate(wrapper.iter()):
        if isinstance(node.tag, str):
            node.set(_ORDINAL, str(ordinal))
    _keep_format(wrapper, fmt)
    return wrapper


def _translate(page: PageStart, source: etree._Element, target: etree._Element) -> PageStart | None:
    block = source
    for index in page.path:
        children = [child for child in block if isinstance(child.tag, str)]
        if index >= len(children):
            break
        block = children[index]
    ordinal = int(block.get(_ORDINAL, "0"))
    for node in target.iter():
        if not isinstance(node.tag, str) or node is target:
            continue
        found = int(node.get(_ORDINAL, "0"))
        if found == ordinal:
            return PageStart(page.label, _path_of(node, target), page.chars)
        if found > ordinal:  # the page begins in text the target does not have
            return PageStart(page.label, _path_of(node, target), 0)
    return None


def _path_of(node: etree._Element, wrapper: etree._Element) -> tuple[int, ...]:
    path = []
    while node is not wrapper:
        parent = node.getparent()
        path.append([child for child in parent if isinstance(child.tag, str)].index(node))
        node = parent
    return tuple(reversed(path))
