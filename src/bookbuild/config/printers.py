"""What each print-on-demand printer asks of a paperback's files, as data (``[print] preset``).

Every figure names where it was read (``SOURCES``; docs/printing.md quotes them). Where a
printer's own pages could not be found for a figure, the figure is None and the code that
needs it asks the author for it, or the comment says plainly whose summary it comes from.
Lengths are in inches, as both printers publish them.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCES = {
    "kdp-margins": "KDP Help, 'Set Trim Size, Bleed, and Margins' (kdp.amazon.com/help?topicId=GVBQ3CMEQW3W2VL6)",
    "kdp-cover": "KDP Help, 'Create a Paperback Cover' (kdp.amazon.com/en_US/help/topic/G201953020)",
    "kdp-submission": "KDP Help, 'Paperback Submission Guidelines' (kdp.amazon.com/en_US/help/topic/G201857950)",
    "createspace-cover": "CreateSpace (now KDP), 'How to Create a Cover PDF' (createspace.com/Products/Book/CoverPDF.jsp)",
    "createspace-specs": "CreateSpace (now KDP), 'Manufacturing Specifications' "
                         "(createspace.com/Special/Enterprise/Publisher/manufacturing_specifications.jsp)",
    "ingram-blog": "IngramSpark, 'File Requirements for Print Books' (ingramspark.com/blog/file-requirements-for-print-books)",
    "ingram-problems": "IngramSpark Help, 'File Problems that Cause Printing Problems of a Book' "
                       "(help.ingramspark.com/hc/en-us/articles/6443532453901)",
    "ingram-design": "IngramSpark Help, 'Creating and Designing Print-Ready Digital Files' "
                     "(help.ingramspark.com/hc/en-us/articles/5338619119245)",
    "ingram-tips": "IngramSpark Help, 'Manufacturing and File Setup Tips' (help.ingramspark.com/hc/en-us/articles/5338636202637)",
    "lightning-variations": "Lightning Source Help, 'Guide for Acceptable Variations in Production' "
                            "(help.lightningsource.com/hc/en-us/articles/5293923433229)",
}


@dataclass(frozen=True)
class Printer:
    """One printer's rules for a perfect-bound paperback."""

    name: str  # as an author writes it in [print] preset
    label: str  # as messages name it
    trims: tuple[tuple[float, float], ...]  # width, height
    bleed: float  # added to the outside, top and bottom edges of a page that bleeds, and to a cover's four
    gutters: tuple[tuple[int, float], ...]  # (up to this many pages, the least inside margin)
    outside: float  # the least top, bottom and outside margin of a page that does not bleed
    outside_bleed: float  # ...and of a page that bleeds
    min_pages: int | None
    papers: dict[str, float | None]  # paper -> spine inches per page (None: not published; ask the author)
    spine_text_pages: int | None  # spine text only from this many pages...
    spine_text_width: float | None  # ...or from this spine width
    spine_clearance: float  # spine text kept this far inside each fold
    cover_safe: float  # cover text kept this far inside the trim
    barcode: tuple[float, float, float, float]  # width, height, from the bottom trim, from the spine fold
    image_ppi: int  # images printed at less than this are warned about
    pdf_variant: str = "pdf/x-1a"

    def gutter(self, pages: int) -> float:
        """The least inside margin for a book of ``pages`` pages."""
        for most, margin in self.gutters:
            if pages <= most:
                return margin
        return self.gutters[-1][1]

    def trim_names(self) -> str:
        return ", ".join(f"{_number(w)}x{_number(h)}in" for w, h in self.trims)


def _number(value: float) -> str:
    return f"{value:g}"


KDP = Printer(
    name="kdp",
    label="Amazon KDP",
    # The US paperback trim sizes KDP lists on "Set Trim Size, Bleed, and Margins" (kdp-margins;
    # the page reads "the most common trim size ... is 6 x 9"; the full list as summarised by
    # third-party guides quoting that page: 17 sizes from 5 x 8 to 8.27 x 11.69).
    trims=((5, 8), (5.06, 7.81), (5.25, 8), (5.5, 8.5), (6, 9), (6.14, 9.21), (6.69, 9.61), (7, 10),
           (7.44, 9.69), (7.5, 9.25), (8, 10), (8.25, 6), (8.25, 8.25), (8.5, 8.5), (8.5, 11), (8.27, 11.69),
           (8.25, 11)),
    bleed=0.125,  # kdp-margins; kdp-cover: "add 0.125" (3.2 mm) to the top, bottom, and outside edges"
    # kdp-margins, the inside-margin table: 24-150 pages 0.375", 151-300 0.5", 301-500 0.625",
    # 501-700 0.75", 701-828 0.875"
    gutters=((150, 0.375), (300, 0.5), (500, 0.625), (700, 0.75), (828, 0.875)),
    outside=0.25,  # kdp-margins: outside margins "at least 0.25" (6.4 mm)" without bleed...
    outside_bleed=0.375,  # ...and "at least 0.375" (9.6 mm)" with bleed
    min_pages=24,  # kdp-submission: "The minimum page count is 24 pages"; createspace-specs the same
    # createspace-cover and kdp-cover: white paper "multiply page count by 0.002252", cream
    # "by 0.0025"; a colour interior "by 0.002347"
    papers={"white": 0.002252, "cream": 0.0025, "colour": 0.002347},
    spine_text_pages=79,  # kdp-cover: "To include spine text, your book must have at least 79 pages"
    spine_text_width=None,
    spine_clearance=0.0625,  # kdp-cover: spine text keeps 0.0625" from each fold
    cover_safe=0.125,  # createspace-cover: "Text and images must be at least .125" inside the trim lines"
    # KDP prints the barcode 2" x 1.2", 0.25" above the bottom trim and 0.25" from the spine on the
    # back cover (createspace-cover's template notes; KDP's cover calculator draws the same box)
    barcode=(2.0, 1.2, 0.25, 0.25),
    image_ppi=300,  # kdp-submission: "All images should be at least 300 DPI" (as quoted by third parties)
)

INGRAMSPARK = Printer(
    name="ingramspark",
    label="IngramSpark",
    # IngramSpark's trim list is in its File Creation Guide, which is only downloadable from an
    # account; these are the common trade sizes its help pages name (6.14 x 9.21 in
    # lightning-variations, the rest as for KDP). Check the book's trim in IngramSpark's list.
    trims=((5, 8), (5.25, 8), (5.5, 8.5), (6, 9), (6.14, 9.21), (7, 10), (8.5, 11)),
    bleed=0.125,  # the File Creation Guide's 0.125" bleed as summarised by third parties: not found on Ingram's own pages
    # ingram-blog: "Margins must be a minimum of 0.5" (13mm) from final trim size on all sides"; no
    # table by page count was found on IngramSpark's own pages, so 0.5" for every page count.
    gutters=((10_000, 0.5),),
    outside=0.5,
    outside_bleed=0.5,
    min_pages=None,  # not found in IngramSpark's public pages
    # IngramSpark publishes no spine figure per page outside its cover template generator
    # (ingram-tips); the author gives [print] spine_width from that template.
    papers={"white": None, "cream": None, "colour": None},
    spine_text_pages=None,
    spine_text_width=0.35,  # lightning-variations: "Text on spines with a spine width smaller than 0.35 in (9mm)"
    spine_clearance=0.0625,  # ingram-tips: an allowed variance of 1/16" (.0625") at the spine fold
    cover_safe=0.25,  # ingram-tips: cover art "at least .25" from the trim mark for perfect bound books"
    barcode=(2.0, 1.2, 0.25, 0.25),  # not published outside the template: KDP's box, kept clear
    image_ppi=300,  # not found on Ingram's own pages; the same warning as KDP's
)

PRINTERS = {printer.name: printer for printer in (KDP, INGRAMSPARK)}
INTERIORS = ("bw", "colour")
PAPERS = ("white", "cream", "colour")
