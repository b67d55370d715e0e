"""The author's live loop: ``build --watch`` (watch.py) and ``preview`` (preview.py), the
long-running processes that rebuild through the pipeline when a file of the book changes."""
