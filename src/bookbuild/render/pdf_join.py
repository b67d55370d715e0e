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


def join_pieces(results: list[dict], two_sided: bool, language: str) -> bytes:
    """One PDF from the pieces' results (see pdf_parallel._layout_piece), in order."""
    writer = PdfWriter()
    readers = [PdfReader(io.BytesIO(result["pdf"])) for result in results]
    offsets, fake_pages = [], []
    for result, reader in zip(results, readers):
        if two_sided and not result["front"] and len(writer.pages) % 2 == 1:
            box = writer.pages[-1].mediabox
            writer.add_blank_page(box.width, box.height)
            fake_pages.append(SimpleNamespace(height=0, bookmarks=[]))
        offsets.append(len(writer.pages))
        for page in reader.pages:
            writer.add_page(page)
        fake_pages += [SimpleNamespace(height=height, bookmarks=marks) for height, marks in result["bookmarks"]]
    _destinations(writer, results, readers, offsets)
    _outline(writer, fake_pages)
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


def _outline(writer: PdfWriter, fake_pages: list[SimpleNamespace]) -> None:
    """The bookmarks of all pieces as one tree, as WeasyPrint builds it for one document."""
    from weasyprint.anchors import make_page_bookmark_tree
    from weasyprint.matrix import Matrix

    root: list = []
    skipped: list[int] = []
    last_by_depth = [root]
    previous = 0
    for number, page in enumerate(fake_pages):
        matrix = Matrix(a=SCALE, d=-SCALE, f=page.height * SCALE)
        previous = make_page_bookmark_tree(page, skipped, last_by_depth, previous, number, matrix)
    _add_items(writer, root, None)


def _add_items(writer: PdfWriter, items: list, parent: object) -> None:
    from pypdf.generic import Fit

    for label, (page, x, y), children, state in items:
        item = writer.add_outline_item(title=label, page_number=page, parent=parent, fit=Fit.xyz(x, y, 0),
                                       is_open=state != "closed")
        _add_items(writer, children, item)
