"""EPUBCheck kept running for one test process (tests/validators.py starts it).

Each line read from standard input is ``EPUB<TAB>REPORT``; the service runs EPUBCheck's own
command line (``com.adobe.epubcheck.tool.EpubChecker``, what ``java -jar epubcheck.jar EPUB
--json REPORT`` runs) in this one Java VM and answers a line: the exit code, or ``error``
and what went wrong. Most of a lone EPUBCheck run is the VM starting and its schemas being
compiled, about 4 s of CPU for a small book; kept running, a check of the same book takes
about 0.2 s. The verdict is EPUBCheck's own JSON report, read as before.

Usage: python epubcheck_service.py EPUBCHECK_JAR   (JPype starts the VM in this process)
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path


def _leave_with_the_parent(parent: int) -> None:
    """Stop when the test process that started this one is gone, however it ended."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def main() -> None:
    jar = Path(sys.argv[1])
    # Java prints EPUBCheck's messages on standard output: the answers go on their own copy of
    # the pipe, and Java's output to /dev/null.
    answers = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    threading.Thread(target=_leave_with_the_parent, args=(os.getppid(),), daemon=True).start()

    import jpype
    import jpype.imports  # noqa: F401 (makes Java packages importable)

    jpype.startJVM("-XX:+UseSerialGC", classpath=[str(jar), *map(str, sorted((jar.parent / "lib").glob("*.jar")))],
                   convertStrings=True)
    from java.lang import String  # type: ignore[import-not-found]

    from com.adobe.epubcheck.tool import EpubChecker  # type: ignore[import-not-found]

    for line in sys.stdin:
        epub, _, report = line.rstrip("\n").partition("\t")
        try:
            code = EpubChecker().run(jpype.JArray(String)([epub, "--json", report]))
            answers.write(f"{int(code)}\n")
        except Exception as error:  # a Java exception, reported to the test that asked
            answers.write(f"error {type(error).__name__}: {' '.join(str(error).split())[:500]}\n")


if __name__ == "__main__":
    main()
