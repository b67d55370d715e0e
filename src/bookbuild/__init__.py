"""bookbuild: Markdown and XHTML chapters to EPUB 3 and print-quality PDF from one book model."""

__version__ = "0.1.0"
