"""WeasyPrint's C libraries, found without running a compiler.

WeasyPrint opens each library it needs (GObject, Pango, HarfBuzz, fontconfig...) by trying
several names in turn: ``libgobject-2.0-0``, ``gobject-2.0-0``, ``gobject-2.0``, then the file
name ``libgobject-2.0.so.0``. For each name it cannot open as it is, cffi asks
``ctypes.util.find_library``, which on Linux runs ``ldconfig -p``, then gcc, then ld: 22 lookups
that were 0.16 to 0.28 s of every ``import weasyprint`` on a machine with a compiler (0.5 s in
all), paid by every PDF build and by each worker of the chapter-parallel PDF before its first
page. Whatever one of those names finds is a library's soname, which the loader then opens:
the same file the later name opens directly.

So while ``weasyprint.text.ffi`` runs (the module that opens them), ``find_library`` finds
nothing and WeasyPrint goes on to the names the loader opens itself. If a library cannot be
opened that way (a system whose file names differ from WeasyPrint's list), the module is run
again with ``find_library`` as it is, and WeasyPrint finds it, or explains, as it always does.
Installed when bookbuild's PDF renderer is imported (render/pdf/__init__.py); Linux only.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import io
import sys
from types import ModuleType
from typing import Any

MODULE = "weasyprint.text.ffi"


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


class _Loader(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: Any) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        import ctypes.util

        real = ctypes.util.find_library
        ctypes.util.find_library = _not_found
        try:  # WeasyPrint prints its installation advice before a failure: not this time
            with contextlib.redirect_stdout(io.StringIO()):
                self.loader.exec_module(module)
            return
        except OSError:
            pass
        finally:
            ctypes.util.find_library = real
        self.loader.exec_module(module)  # every name looked up, as WeasyPrint does on its own


def _not_found(name: str) -> None:
    return None


def install() -> None:
    """Open WeasyPrint's libraries by their file names first (see the module's text)."""
    if sys.platform.startswith("linux") and MODULE not in sys.modules \
            and not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
