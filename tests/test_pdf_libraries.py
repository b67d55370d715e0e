"""render/pdf/libraries.py: WeasyPrint's C libraries opened by their file names, without
ctypes' compiler lookups, and the same libraries as WeasyPrint opens on its own."""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import redirect_stdout
from types import ModuleType

import pytest

from bookbuild.render.pdf import libraries

_MAPPED = """
import sys
if sys.argv[1] == "fast":
    import bookbuild.render.pdf
import ctypes.util
asked = []
real = ctypes.util.find_library
ctypes.util.find_library = lambda name: asked.append(name) or real(name)
import weasyprint
libraries = sorted({line.split()[-1] for line in open("/proc/self/maps")
                    if any(name in line for name in ("gobject", "pango", "harfbuzz", "fontconfig"))})
print(len(asked))
print("\\n".join(libraries))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the shortcut is taken on Linux only")
def test_weasyprint_opens_the_same_libraries_without_asking_ctypes() -> None:
    plain = subprocess.run([sys.executable, "-c", _MAPPED, "plain"], capture_output=True, text=True, check=True)
    fast = subprocess.run([sys.executable, "-c", _MAPPED, "fast"], capture_output=True, text=True, check=True)
    plain_asked, *plain_files = plain.stdout.split()
    fast_asked, *fast_files = fast.stdout.split()
    assert int(plain_asked) > 10  # WeasyPrint's own way: a lookup for each name it cannot open
    assert int(fast_asked) == 0  # the shortcut answers them all, without ctypes
    assert fast_files == plain_files and any("libpango" in name for name in fast_files)
    assert fast.stderr == plain.stderr


class _Loader:
    """Stands in for the module's own loader: fails while find_library finds nothing, as on a
    system whose library files are named otherwise, after printing WeasyPrint's advice."""

    def __init__(self) -> None:
        self.runs: list[object] = []

    def create_module(self, spec: object) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        import ctypes.util

        self.runs.append(ctypes.util.find_library)
        if ctypes.util.find_library is libraries._not_found:
            print("WeasyPrint could not import some external libraries")
            raise OSError("cannot load library 'libpango-1.0-0'")
        module.opened = True  # type: ignore[attr-defined]


def test_a_library_not_opened_by_its_file_name_is_looked_up_as_weasyprint_does() -> None:
    import ctypes.util

    real = ctypes.util.find_library
    inner = _Loader()
    module = ModuleType(libraries.MODULE)
    printed = io.StringIO()
    with redirect_stdout(printed):
        libraries._Loader(inner).exec_module(module)
    assert inner.runs == [libraries._not_found, real]  # tried without lookups, then with them
    assert module.opened and ctypes.util.find_library is real
    assert printed.getvalue() == ""  # the first try's advice is not shown
