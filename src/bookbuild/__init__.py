"""bookbuild: Markdown and XHTML chapters to EPUB 3 and print-quality PDF from one book model.

The public API (docs/api.md) is exported here but imported only when first used (PEP 562),
so that ``import bookbuild`` and ``bookbuild --help`` stay fast (tests/test_startup.py)::

    import bookbuild
    outputs = bookbuild.build("my-book", formats=["epub"], output_dir="dist")
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> the module that defines it, imported on first use
_EXPORTS = {
    "build": "api", "BuildOptions": "api", "BuildOutputs": "api", "BuildResult": "api",
    "check_book": "api.check", "CheckReport": "api.check",
    "build_catalog": "catalog", "CatalogOptions": "catalog", "CatalogReport": "catalog", "find_books": "catalog",
    "make_print_cover": "api.print_cover", "PrintCover": "api.print_cover",
    "BookError": "errors", "ManifestError": "errors", "SourceError": "errors", "OutputError": "errors",
    "UsageError": "errors", "Diagnostic": "errors", "Reporter": "errors",
}
__all__ = [  # noqa: RUF022 - in the order of _EXPORTS
    "__version__", "build", "BuildOptions", "BuildOutputs", "BuildResult", "check_book", "CheckReport",
    "build_catalog", "CatalogOptions", "CatalogReport", "find_books", "make_print_cover", "PrintCover", "BookError",
    "ManifestError", "SourceError", "OutputError", "UsageError", "Diagnostic", "Reporter",
]


def __getattr__(name: str) -> Any:
    """Import the module of a public name when it is first asked for, and keep the name."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bookbuild' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
