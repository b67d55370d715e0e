"""The chapter-parallel, cached PDF of long books: ``plan`` (the main process: pieces, schedule,
renumbering), ``workers`` and ``pieces`` (worker processes that lay pieces out and draw them),
``compressed`` (laid-out pieces kept as bytes), ``renumber`` (true page numbers printed without a
new layout), ``join`` and ``pdf_file`` (one tagged PDF from the pieces), ``cache`` (pieces kept
between builds). A plain PDF needs none of it.
"""
