"""Join the tagged pieces of a chapter-parallel PDF into one tagged PDF, a piece at a time.

pypdf reads each piece and writes each of its objects; the join renumbers them into one
file and writes the few objects that span the book itself. Only one piece is parsed at a
time, so the main process's memory does not grow with the book (pypdf's own PdfWriter kept
every object of every piece: docs/benchmarks.md).

* **Pages** are copied in order under one page tree, with a blank verso wherever the
  single-document layout has one (a body piece starts on a right-hand page).
* **Tags.** WeasyPrint's structure tree is one Document element whose children are each
  page's elements in turn. The join makes one Document element of all the pieces'
  children, in order, and one parent tree of the pieces' parent trees, each piece's keys
  (``/StructParents`` of its pages, ``/StructParent`` of its links) moved past those of the
  pieces before it. The tag tree is then the single document's, element for element.
* **Links** keep their named destinations (``/Dest (id)``); the join writes one name tree
  mapping every id to the page and point of the piece that owns it.
* **Page labels** (``/PageLabels``, what a viewer shows as the page number) are made from the
  number each piece's pages print, as the single document's are (page_labels.py).
* **Bookmarks** come from the pieces' bookmark lists, made into one tree with WeasyPrint's
  own tree builder, so levels nest across pieces.
* **Fonts** are written once each, not once a piece: the pieces' subsets of a font are
  merged into one (fonts.py), and every piece's pages point at it.
* **Objects** are only what the pieces' pages and tags reach (each piece's catalog, page
  tree, outline and name tree are left behind), written as they come (pdf_file.py).
  WeasyPrint puts a piece's dictionaries in one object stream, which pypdf parses whole
  when asked for any one of them (slow on long books), so they are copied
  as bytes with their references renumbered (:func:`renumber`); pypdf reads the streams
  and the few objects the join must understand.
* **Kept parts.** Each piece's objects are numbered from a base of their own, with room
  after them, and the fonts' dictionaries have numbers of their own, so a piece's part of
  the file does not change when another piece changes within its room: a rebuild writes
  the unchanged pieces' parts again as the memo kept them (memo.py), and copies only the
  edited ones.
"""

from __future__ import annotations

import hashlib
import io
import queue
import threading
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from pypdf import PdfReader
from pypdf.generic import IndirectObject

from ..page_labels import label_ranges, page_labels_pdf
from .fonts import FontMerger, FontUse, MissingProgram
from .memo import JoinMemo
from .objects import PieceNumbers, PieceObjects, parent_tree
from .pdf_file import PdfFile, real, refs, serialize, text

SCALE = 0.75  # PDF points per CSS pixel (WeasyPrint's write_pdf at zoom 1)
# at most this many bytes of drawn pieces read ahead of their turn (BackgroundJoin._next): the
# large benchmark book is 6.3 MB; a cold build, whose early pieces wait longest, stays bounded
READ_AHEAD = 16 * 2**20
# A piece's objects are numbered from a base of their own, and the next piece's start past
# them and half as many again, at the next multiple of this many numbers (the unused ones are
# free entries of the cross-reference table); a rebuild numbers each piece from where the
# last build did (memo.JoinMemo.slots) unless a piece before it has outgrown that room. So a
# piece that grows by a few pages leaves the numbers of the pieces after it, and their joined
# bytes, as they were (memo.py). Its structure parent keys likewise, at KEYS_STEP.
# FONT_SLOTS numbers are the merged fonts'.
OBJECTS_STEP = 256
KEYS_STEP = 64
FONT_SLOTS = 64


def open_piece(result: dict) -> PieceObjects:
    """A drawn piece read for the join: its cross-reference table and object streams, which
    do not depend on the pieces before it."""
    piece = PieceObjects(PdfReader(io.BytesIO(result["pdf"])))
    piece.read_streams()
    return piece


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


class BackgroundJoin:
    """Pieces joined on a thread of the main process while the workers lay out the rest
    (the main process only waits on them otherwise), so that little is left to do after the
    last layout.

    The file must not depend on the order in which pieces happen to be drawn (a rebuild
    from the cache gives the same bytes as the cold build): pieces are joined in one fixed
    ``order``, each as soon as it and those before it in that order have come. A piece that
    comes again after it was joined (laid out anew) spoils the early joins, and
    :meth:`finish` joins every piece again, in the same order.
    """

    def __init__(self, memo: JoinMemo | None = None) -> None:
        self.order: list[int] = []
        self.memo = memo if memo is not None else JoinMemo(None)
        self.joiner = Joiner(self.memo)
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.joined: dict[int, dict] = {}  # the result joined for each piece
        self.spoiled = False
        self.error: BaseException | None = None
        self.opened: dict[int, tuple[dict, PieceObjects | None]] = {}  # read ahead (_next), by piece
        self.thread = threading.Thread(target=self._run, name="bookbuild-pdf-join", daemon=True)

    def start(self, order: list[int]) -> None:
        """Start joining, the pieces in this ``order``."""
        self.order = order
        self.thread.start()

    def submit(self, index: int, result: dict) -> None:
        self.queue.put((index, result))

    def _run(self) -> None:
        waiting: dict[int, dict] = {}
        while (item := self._next(waiting)) is not None:
            index, result = item
            if index in self.joined:
                self.spoiled = True
            if self.spoiled or self.error is not None:
                continue
            waiting[index] = result
            try:
                while len(self.joined) < len(self.order) and self.order[len(self.joined)] in waiting:
                    number = self.order[len(self.joined)]
                    self.joiner.add(number, waiting[number], self._opened(number, waiting[number]))
                    self.joined[number] = waiting.pop(number)
            except BaseException as exc:  # noqa: BLE001 - raised by finish(), in the main thread
                self.error = exc

    def _next(self, waiting: dict[int, dict]) -> tuple[int, dict] | None:
        """The next piece drawn; while none has come, the pieces that wait for one before them
        are read meanwhile (:func:`open_piece`: the part of a piece's join that does not
        depend on the pieces before it). A rebuild that lays out one chapter gets every
        other piece from the cache at once, and joins them quicker once it comes."""
        while True:
            try:
                return self.queue.get(block=False)
            except queue.Empty:
                # a piece whose part of the file is kept (memo.py) is not read at all
                pending = next((index for index in self.order if index in waiting and index not in self.opened
                                and not self.memo.has(waiting[index])), None)
                held = sum(len(result["pdf"]) for result, _ in self.opened.values())
                if pending is None or held > READ_AHEAD or self.spoiled or self.error is not None:
                    return self.queue.get()
                try:
                    self.opened[pending] = (waiting[pending], open_piece(waiting[pending]))
                except Exception:  # noqa: BLE001 - joined as it comes instead, where the error is raised
                    self.opened[pending] = (waiting[pending], None)

    def _opened(self, index: int, result: dict) -> PieceObjects | None:
        """The piece read by :meth:`_next` for this very result, if it was."""
        result_read, piece = self.opened.pop(index, (None, None))
        return piece if result_read is result else None

    def close(self) -> None:
        """Stop the thread (after what was submitted); closing twice is fine."""
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()

    def finish(self, results: list[dict], outline: list, two_sided: bool, language: str) -> bytes:
        """The joined PDF of these results (see :meth:`Joiner.finish`)."""
        self.close()
        if self.error is not None:
            raise self.error
        if self.spoiled or any(self.joined[index] is not results[index] for index in self.joined):
            self.memo.restart()
            self.joiner, self.joined = Joiner(self.memo), {}
        for index in self.order[len(self.joined):]:
            self.joiner.add(index, results[index], self._opened(index, results[index]))
        try:
            return self.joiner.finish(outline, two_sided, language)
        except MissingProgram:  # a kept font program went missing: joined again from the pieces alone
            self.memo.forget()
            self.joiner, self.joined = Joiner(self.memo), {}
            return self.finish(results, outline, two_sided, language)


@dataclass
class _Joined:
    """A piece in the joined file, with what the book-wide objects need of it."""

    front: bool
    pages: list[int]  # the object numbers of its pages
    children: list[int]  # of its top structure elements (the Document element's children)
    anchors: dict[str, tuple[int, Any, Any]]  # id -> (its page, left, top), for the ids it owns
    media_box: bytes
    parent_node: tuple[int, int, int] | None  # (first key, last key, node) of its parent tree
    info: bytes  # the document information WeasyPrint wrote, as the entries of a dictionary
    namespace: bytes | None  # the Document element's namespace (PDF 2), as written
    folios: list[str | None] = field(default_factory=list)  # the page number each page prints

    def to_json(self) -> dict:
        """What the memo keeps of it (the folios come with each build's result)."""
        return {"front": self.front, "pages": self.pages, "children": self.children,
                "anchors": {name: list(where) for name, where in self.anchors.items()},
                "media_box": self.media_box.decode("latin-1"), "parent_node": self.parent_node,
                "info": self.info.decode("latin-1"),
                "namespace": None if self.namespace is None else self.namespace.decode("latin-1")}

    @classmethod
    def from_json(cls, kept: dict) -> _Joined:
        node = kept["parent_node"]
        return cls(bool(kept["front"]), [int(n) for n in kept["pages"]], [int(n) for n in kept["children"]],
                   {name: (int(page), float(left), float(top)) for name, (page, left, top) in kept["anchors"].items()},
                   kept["media_box"].encode("latin-1"), None if node is None else (int(node[0]), int(node[1]), int(node[2])),
                   kept["info"].encode("latin-1"),
                   None if kept["namespace"] is None else kept["namespace"].encode("latin-1"))


class Joiner:
    """The joined PDF (see the module's docstring). Pieces may be added in any order, each
    once; :meth:`finish` puts them in book order."""

    def __init__(self, memo: JoinMemo | None = None) -> None:
        self.file = PdfFile()
        self.page_tree = self.file.reserve()
        self.document = self.file.reserve()  # the Document structure element
        self.pieces: dict[int, _Joined] = {}
        self.keys = 0  # structure parent keys used so far
        self.memo = memo if memo is not None else JoinMemo(None)
        # each font once, not once a piece (fonts.py), its dictionary at a number reserved now
        self.fonts = FontMerger(self.file, [self.file.reserve() for _ in range(FONT_SLOTS)], self.memo,
                                early=not self.memo.merged_kept())
        self.base = self.file.count  # where the next piece's objects are numbered from
        self.free = (self.base, 0)  # the first object number and structure key the pieces left free

    def add(self, index: int, result: dict, opened: PieceObjects | None = None) -> None:
        """Copy the piece ``index`` (its place in the book) from its layout ``result``
        (``opened``: read already by :func:`open_piece`), or write again its part of the
        file as the memo kept it (memo.py)."""
        if index in self.pieces:
            raise ValueError(f"piece {index} is joined already")
        # where the last build put it, if no piece before has grown past it (free numbers between)
        base, shift = self.base, self.keys
        slot = self.memo.slots.get(index)
        if slot is not None and slot[0] >= self.free[0] and slot[1] >= self.free[1]:
            base, shift = self.base, self.keys = slot  # _copy numbers keys from self.keys
        self.memo.new_slots[index] = (base, shift)
        where = (str(base), str(shift), self.fonts.state(), str(result["front"]), "\0".join(sorted(result["anchors"])))
        name = self.memo.name(hashlib.sha256(result["pdf"]).hexdigest(), *where)
        kept = self.memo.get(name) or self.memo.renumbered(name, result.get("made from"), where)
        if kept is not None:
            meta, data = kept
            cut = meta["rows"]  # the part's bytes, then its cross-reference rows
            self.file.append(base, meta["count"], data[:cut], data[cut:], [(n, offset) for n, offset in meta["placed"]])
            for use in meta["fonts"]:
                self.fonts.use(FontUse.from_json(use))
            joined, keys = _Joined.from_json(meta["joined"]), meta["keys"]
        else:
            start = self.file.begin(base)
            joined = self._copy(opened or open_piece(result), set(result["anchors"]), result["front"])
            data, rows, placed = self.file.end(base, start)
            keys = self.keys - shift
            self.memo.put(name, {"count": self.file.count - base, "keys": keys, "rows": len(data), "placed": placed,
                                 "joined": joined.to_json(), "fonts": [use.to_json() for use in self.fonts.uses]},
                          data + rows)
        self.fonts.uses = []
        joined.folios = list(result["folios"])
        self.pieces[index] = joined
        count = self.file.count - base
        self.free = (self.file.count, shift + keys)
        self.base = base + _step(count + count // 2, OBJECTS_STEP)
        self.keys = shift + _step(keys + keys // 2, KEYS_STEP)

    def _copy(self, piece: PieceObjects, anchors: set[str], front: bool) -> _Joined:
        """Copy one piece: its pages, what they and its tags reach, its parent tree as one
        node. Only a few objects are parsed (pypdf parses a whole object stream when asked
        for one of its objects); the rest are copied as
        bytes."""
        reader = piece.reader
        root = piece.parse(reader.trailer.raw_get("/Root"))
        if "/StructTreeRoot" not in root:
            raise ValueError("a piece of the parallel PDF is not tagged")
        structure = piece.parse(root.raw_get("/StructTreeRoot"))
        document_ref = list.__getitem__(structure.raw_get("/K"), 0)
        document = piece.parse(document_ref)
        numbers = PieceNumbers(self.file, {root.raw_get("/Pages").idnum: self.page_tree,
                                       document_ref.idnum: self.document}, piece, self.fonts)
        namespace = serialize(piece.parse(document.raw_get("/NS"))) if "/NS" in document else None
        pages = piece.pages(root.raw_get("/Pages"))
        joined = _Joined(front, [numbers.of(number) for number in pages],
                         [numbers.of(ref) for ref in list.__iter__(document.raw_get("/K"))], {},
                         serialize(piece.parse(pages[0])["/MediaBox"]), None, b"", namespace)
        shift = self.keys
        pairs, keys = parent_tree(piece.body(structure.raw_get("/ParentTree").idnum), numbers, shift)
        if keys:
            node = self.file.reserve()
            self.file.put(node, b"<</Limits[%d %d]/Nums[%s]>>" % (min(keys), max(keys), pairs))
            joined.parent_node = (min(keys), max(keys), node)
            self.keys = max(keys) + 1
        names = piece.direct(piece.direct(piece.direct(root.raw_get("/Names")).get("/Dests")).get("/Names")) or []
        position = {number: place for place, number in enumerate(pages)}
        for name, dest in zip(names[0::2], names[1::2]):
            dest = piece.direct(dest)
            if name in anchors:
                joined.anchors.setdefault(name, (position[list.__getitem__(dest, 0).idnum], float(dest[2]),
                                                 float(dest[3])))
        if "/Info" in reader.trailer:
            info = piece.parse(reader.trailer.raw_get("/Info"))
            joined.info = b"".join(serialize(key) + b" " + serialize(value) for key, value in dict.items(info)
                                   if not isinstance(value, IndirectObject))
        numbers.copy_all(shift)
        return joined

    def finish(self, outline: list, two_sided: bool, language: str) -> bytes:
        """The file: the pieces in book order, with blank versos where a piece must start
        on the right; the page tree, structure tree, names, outline, catalog and
        information."""
        put = self.file.put
        pages: list[int] = []
        children: list[int] = []
        folios: list[str | None] = []  # what each page prints as its number (a blank verso: none)
        destinations: dict[str, tuple[int, Any, Any]] = {}  # id -> (page, left, top)
        pieces = [self.pieces[index] for index in sorted(self.pieces)]
        for number, piece in enumerate(pieces):
            if two_sided and not piece.front and len(pages) % 2 == 1:
                pages.append(self.file.reserve())
                folios.append(None)
                put(pages[-1], b"<</Type/Page/Parent %d 0 R/MediaBox%s/Resources<<>>>>" % (
                    self.page_tree, pieces[number - 1].media_box))
            for name, (page, left, top) in piece.anchors.items():
                destinations.setdefault(name, (piece.pages[page], left, top))
            pages += piece.pages
            folios += piece.folios
            children += piece.children
        put(self.page_tree, b"<</Type/Pages/Count %d/Kids[%s]>>" % (len(pages), refs(pages)))
        structure = self._structure(pieces, children)
        dests = self.file.reserve()
        put(dests, b"<</Names[%s]>>" % b" ".join(
            text(name) + b" [%d 0 R/XYZ %s %s 0]" % (page, real(left), real(top))
            for name, (page, left, top) in sorted(destinations.items())))
        outlines = self.file.reserve()
        count, ends = self._outline(outline, outlines, pages)
        put(outlines, b"<</Type/Outlines%s/Count %d>>" % (ends, count))
        catalog = self.file.reserve()
        put(catalog, b"<</Type/Catalog/Pages %d 0 R/Outlines %d 0 R/Names<</Dests %d 0 R>>/StructTreeRoot %d 0 R"
                     b"/MarkInfo<</Marked true>>/ViewerPreferences<</DisplayDocTitle true>>/Lang %s/PageLabels %s>>" % (
                         self.page_tree, outlines, dests, structure, text(language),
                         page_labels_pdf(label_ranges(folios))))
        information = self.file.reserve()
        put(information, b"<<%s>>" % (pieces[0].info if pieces else b""))
        self.fonts.finish()
        return self.file.close(catalog, information)

    def _structure(self, pieces: list[_Joined], children: list[int]) -> int:
        """The structure tree root, the Document element and the parent tree."""
        put = self.file.put
        structure = self.file.reserve()
        namespace = next((piece.namespace for piece in pieces if piece.namespace), None)
        ns = b""
        if namespace is not None:
            number = self.file.reserve()
            put(number, namespace)
            ns = b"/NS %d 0 R" % number
        put(self.document, b"<</Type/StructElem/S/Document/P %d 0 R%s/K[%s]>>" % (structure, ns, refs(children)))
        parent_tree = self.file.reserve()
        nodes = sorted(piece.parent_node for piece in pieces if piece.parent_node)
        put(parent_tree, b"<</Kids[%s]>>" % refs([node for _, _, node in nodes]))
        namespaces = b"/Namespaces[%s]" % ns[4:] if ns else b""
        put(structure, b"<</Type/StructTreeRoot/K[%d 0 R]/ParentTree %d 0 R/ParentTreeNextKey %d%s>>" % (
            self.document, parent_tree, self.keys, namespaces))
        return structure

    def _outline(self, items: list, parent: int, pages: list[int]) -> tuple[int, bytes]:
        """Outline items (WeasyPrint's bookmark tree: label, (page, x, y), children, state)
        under ``parent``; the count of items shown when the parent is open (as its /Count
        wants), and its /First and /Last."""
        numbers = [self.file.reserve() for _ in items]
        visible = len(items)
        for index, (number, (label, (page, x, y), children, state)) in enumerate(zip(numbers, items)):
            links = b"/Parent %d 0 R" % parent
            if index:
                links += b"/Prev %d 0 R" % numbers[index - 1]
            if index + 1 < len(items):
                links += b"/Next %d 0 R" % numbers[index + 1]
            below, ends = self._outline(children, number, pages)
            count = b""
            if children:
                opened = state != "closed"
                count = b"/Count %d" % (below if opened else -below)
                visible += below if opened else 0
            self.file.put(number, b"<</Title %s%s%s%s/Dest[%d 0 R/XYZ %s %s 0]>>" % (
                text(label), links, ends, count, pages[page], real(x), real(y)))
        ends = b"/First %d 0 R/Last %d 0 R" % (numbers[0], numbers[-1]) if numbers else b""
        return visible, ends


def _step(count: int, step: int) -> int:
    """``count`` rounded up to a multiple of ``step``."""
    return -(-count // step) * step
