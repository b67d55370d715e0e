"""Book + PdfOptions -> PDF through WeasyPrint (imported only inside this package).

``document``: the book as one HTML document, laid out and written (every PDF needs it);
``page_setup``: what the ``[pdf]`` options mean as CSS; ``math_svg``, ``glyphs``: MathML as
SVG and the missing-glyph check; ``parallel/``: the chapter-parallel, cached layout of long books.
"""

from .libraries import install

install()  # before anything here imports WeasyPrint: its libraries opened without a compiler
