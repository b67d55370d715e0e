"""Join the pieces of a chapter-parallel PDF into one file with pypdf.

Pages are copied in order, with a blank verso wherever the single-document layout has one
(a body piece starts on a right-hand page). Each piece's links keep their named
destinations (``/Dest (id)``); the join writes one name tree mapping every id to the page
and point of the piece that holds it, so links across pieces land where they should.
Bookmarks are rebuilt from the pieces' bookmark lists with WeasyPrint's own tree builder,
so levels nest across pieces (a chapter of a part begun in an earlier piece).
"""

from __future__ import annotations

import io
from types import SimpleNamespace

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (ArrayObject, DictionaryObject, FloatObject, NameObject, NumberObject,
                           TextStringObject)

SCALE = 0.75  # PDF points per CSS pixel (WeasyPrint's write_pdf at zoom 1)


def page_bookmarks(results: list[dict], two_sided: bool) -> list[tuple[float, list]]:
    """(height, bookmarks) of every page of the joined PDF, blank versos included."""
    pages: list[tuple[float, list]] = []
    for result in results:
        if two_sided and not result["front"] and len(pages) % 2 == 1:
            pages.append((0, []))
        pages += result["bookmarks"]
    return pages


def bookmark_tree(pages: list[tuple[float, list]]) -> list:
    """The bookmarks of all pieces as one tree, as WeasyPrint builds it for one document
    (run where WeasyPrint is imported already: a worker)."""
    from weasyprint.anchors import make_page_bookmark_tree
    from weasyprint.matrix import Matrix

    root: list = []
    skipped: list[int] = []
    last_by_depth = [root]
    previous = 0
    for number, (height, bookmarks) in enumerate(pages):
        matrix = Matrix(a=SCALE, d=-SCALE, f=height * SCALE)
        page = SimpleNamespace(height=height, bookmarks=bookmarks)
        previous = make_page_bookmark_tree(page, skipped, last_by_depth, previous, number, matrix)
    return root


def join_pieces(results: list[dict], two_sided: bool, language: str, outline: list | None = None) -> bytes:
    """One PDF from the pieces' results (see pdf_parallel._layout_piece), in order, with the
    ``outline`` made by :func:`bookmark_tree` (made here when not given)."""
    writer = PdfWriter()
    readers = [PdfReader(io.BytesIO(result["pdf"])) for result in results]
    offsets = []
    for result, reader in zip(results, readers):
        if two_sided and not result["front"] and len(writer.pages) % 2 == 1:
            box = writer.pages[-1].mediabox
            writer.add_blank_page(box.width, box.height)
        offsets.append(len(writer.pages))
        for page in reader.pages:
            writer.add_page(page)
    _destinations(writer, results, readers, offsets)
    if outline is None:
        outline = bookmark_tree(page_bookmarks(results, two_sided))
    _add_items(writer, outline, None)
    info = readers[0].metadata or {}
    writer.add_metadata({key: value for key, value in info.items() if key != "/Producer"})
    writer._root_object[NameObject("/Lang")] = TextStringObject(language)
    if "/Producer" in info:
        writer.add_metadata({"/Producer": info["/Producer"]})
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _destinations(writer: PdfWriter, results: list[dict], readers: list[PdfReader], offsets: list[int]) -> None:
    """The /Dests name tree: each id at the page and point of the piece that owns it."""
    dests: dict[str, ArrayObject] = {}
    for result, reader, offset in zip(results, readers, offsets):
        for name, dest in reader.named_destinations.items():
            if name not in result["anchors"] or name in dests:
                continue
            page = writer.pages[offset + reader.get_destination_page_number(dest)]
            dests[name] = ArrayObject([page.indirect_reference, NameObject("/XYZ"),
                                       FloatObject(dest.left or 0), FloatObject(dest.top or 0), NumberObject(0)])
    names = ArrayObject()
    for name in sorted(dests):
        names += [TextStringObject(name), dests[name]]
    tree = DictionaryObject({NameObject("/Names"): names})
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/Dests"): writer._add_object(tree)})


def _add_items(writer: PdfWriter, items: list, parent: object) -> None:
    from pypdf.generic import Fit

    for label, (page, x, y), children, state in items:
        item = writer.add_outline_item(title=label, page_number=page, parent=parent, fit=Fit.xyz(x, y, 0),
                                       is_open=state != "closed")
        _add_items(writer, children, item)
