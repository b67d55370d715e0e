"""Writing files: outputs and cache entries are replaced whole, never seen half written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import OutputError
from .resources import display_path


def write_atomically(target: Path, data: bytes) -> None:
    """Write next to the target, then rename over it: readers never see half a file.

    A symlink at ``target`` is replaced by the new file, never written through (``os.replace``
    renames over the link itself), so an output cannot overwrite the file a link points to.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        raise OutputError(f"output '{display_path(target)}' is a folder", hint="name a file")
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
