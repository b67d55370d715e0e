"""Watch a book folder for edits: the one loop behind ``preview`` and ``build --watch``.

watchfiles (Rust ``notify``) reports changes; we keep only those that can matter to the
book (not the outputs we write ourselves, not editors' temporary files), so that a
build writing ``dist/`` inside the book folder cannot trigger itself forever.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

# watchfiles yields a batch once no new change has come for STEP_MS (or after DEBOUNCE_MS
# at most): a saved file reaches the rebuild 5 to 11 ms later (10 ms of quiet took 11 to 16,
# a fifth of a one-chapter EPUB rebuild of a long book), and an editor's write-then-rename,
# a millisecond's work, still arrives as one batch.
DEBOUNCE_MS = 80
STEP_MS = 5


def is_relevant(path: Path, ignored: Iterable[Path] = ()) -> bool:
    """True for a change the book may depend on; false for outputs and temporary files."""
    name = path.name
    if not path.suffix:  # editors' and sed's temporary files (4913, sedXYZ); folders
        return False
    if name.startswith(".") or name.endswith((".part", "~", ".swp", ".tmp")) or name.startswith("#"):
        return False
    return not any(path == folder or path.is_relative_to(folder) for folder in ignored)


def watch_changes(
    root: Path,
    stop_event: threading.Event,
    ignored: Iterable[Path] = (),
) -> Iterator[set[Path]]:
    """Yield each batch of relevant changed paths under ``root`` until ``stop_event`` is set.

    Ctrl-C ends the loop quietly instead of raising, so callers can clean up.
    """
    import watchfiles

    # watchfiles logs "KeyboardInterrupt caught, stopping watch" on Ctrl-C; we say it ourselves.
    logging.getLogger("watchfiles").setLevel(logging.ERROR)
    # the parse cache (cache.py) changes on every build: never a reason to build again
    ignored = tuple(folder.resolve() for folder in (*ignored, root / ".bookbuild-cache"))
    for batch in watchfiles.watch(
        root,
        stop_event=stop_event,
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        raise_interrupt=False,
    ):
        changed = {Path(name).resolve() for _change, name in batch}
        relevant = {path for path in changed if is_relevant(path, ignored)}
        if relevant:
            yield relevant
