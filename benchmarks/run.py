"""Time bookbuild against pandoc and a single-document WeasyPrint render, side by side.

Every measured command runs as a fresh process; the runner reaps it with ``os.wait4``, whose
resource usage covers the process and every descendant it waited for, so "peak RSS" is the
largest resident set of any process of that command. Tasks alternate within each round
(the order rotates), so a slow minute on a shared machine hits every tool alike. Medians
are reported, with the load average before and after.

Usage (from the repository, in a venv with bookbuild, pypandoc-binary and weasyprint):
    python benchmarks/run.py --size large --runs 3 --work /tmp/bookbuild-bench
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import SIZES, generate, plan_book, word_count  # noqa: E402
from warm import edited_text  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
STYLES = REPO / "styles"
EDIT_CHAPTER = 0.5  # the rebuild edits the chapter halfway through the book


@dataclass
class Sample:
    seconds: float
    peak_rss_mib: float
    cpu_seconds: float = 0.0  # user + system time of the command and its descendants


@dataclass
class Task:
    """One measured command (a list of steps run one after the other), with untimed preparation."""

    name: str
    steps: list[list[str]]
    prepare: Callable[[], None] = lambda: None
    finish: Callable[[], None] = lambda: None
    samples: list[Sample] = field(default_factory=list)

    def run(self, cwd: Path) -> Sample:
        self.prepare()
        total, peak, cpu = 0.0, 0.0, 0.0
        for step in self.steps:
            seconds, rss, used = measure(step, cwd)
            total, peak, cpu = total + seconds, max(peak, rss), cpu + used
        self.finish()
        sample = Sample(total, peak, cpu)
        self.samples.append(sample)
        return sample

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu_seconds for s in self.samples)

    @property
    def peak(self) -> float:
        return max(s.peak_rss_mib for s in self.samples)


def measure(command: list[str], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MiB) and CPU seconds (user and system) of one command and all
    its descendants."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = process.stderr.read() if process.stderr else b""
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(command)}\n{stderr.decode(errors='replace')}")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def tools(venv_bin: Path) -> dict[str, str]:
    """Paths of the programs measured: bookbuild and weasyprint from the venv, pandoc from pypandoc."""
    import pypandoc

    return {
        "bookbuild": str(venv_bin / "bookbuild"),
        "weasyprint": str(venv_bin / "weasyprint"),
        "pandoc": pypandoc.get_pandoc_path(),
        "python": str(venv_bin / "python"),
    }


def precompile() -> None:
    """Write bookbuild's bytecode before measuring, as ``pip install .`` does. An editable
    install with PYTHONDONTWRITEBYTECODE set (as on the machine of the figures) would
    otherwise compile bookbuild's 45 modules again in every run: 47 ms of each."""
    import compileall

    import bookbuild

    compileall.compile_dir(Path(bookbuild.__file__).parent, quiet=1)


def make_tasks(book: Path, out: Path, size: str, bins: dict[str, str], with_pdf: bool,
               with_single_pdf: bool = True) -> list[Task]:
    """The commands compared; cold bookbuild runs start without a cache."""
    _writer, plans = plan_book(size)
    chapters = [plan.file for plan in plans]
    edited = book / chapters[int(len(chapters) * EDIT_CHAPTER)]
    original = edited.read_bytes()
    cache = book / ".bookbuild-cache"
    bb = bins["bookbuild"]
    # document-css=false: without it pandoc adds its own page styles (36em columns, big margins)
    # and WeasyPrint lays out half as many pages again as bookbuild does for the same text.
    title = ["--metadata", f"title=Benchmark Book {size}", "--metadata", "lang=en", "--resource-path", "chapters",
             "--metadata", "document-css=false"]

    def drop_cache() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def warm_then_edit(command: list[str], edit: str = "word") -> Callable[[], None]:
        """An untimed cold build fills the cache, then one chapter is edited (benchmarks/warm.py:
        "word" keeps the chapter's page count, "pages" adds pages and moves every later chapter)."""
        def prepare() -> None:
            drop_cache()
            measure(command, book)
            edited.write_text(edited_text(original.decode("utf-8"), edit, time.time_ns() % 100000), encoding="utf-8")
        return prepare

    def restore() -> None:
        edited.write_bytes(original)

    tasks = [
        Task("bookbuild epub (cold)", [[bb, "epub", str(book), "-o", str(out / "bookbuild.epub")]], drop_cache),
        Task("pandoc epub", [[bins["pandoc"], *title, "-o", str(out / "pandoc.epub"), *chapters]]),
        Task("bookbuild epub (one chapter edited)", [[bb, "epub", str(book), "-o", str(out / "bookbuild-warm.epub")]],
             warm_then_edit([bb, "epub", str(book), "-o", str(out / "bookbuild-warm.epub")]), restore),
    ]
    if with_pdf:
        html = book / "pandoc-html" / "book.html"
        html.parent.mkdir(exist_ok=True)
        sheets = ["-s", str(STYLES / "base.css"), "-s", str(STYLES / "print.css")]
        # the default: chapter-parallel for any book longer than a few pages (pdf_options.PARALLEL_PDF_FROM)
        default = [bb, "pdf", str(book), "-o", str(out / "bookbuild.pdf")]
        if with_single_pdf:
            single = [bb, "pdf", str(book), "--single-process", "-o", str(out / "bookbuild-single.pdf")]
            tasks.append(Task("bookbuild pdf --single-process (cold)", [single], drop_cache))
        tasks += [
            Task("bookbuild pdf (cold)", [default], drop_cache),
            Task("bookbuild pdf (one chapter edited)", [default], warm_then_edit(default), restore),
            Task("bookbuild pdf (one chapter edited, pages added)", [default], warm_then_edit(default, "pages"),
                 restore),
            Task("pandoc html + weasyprint pdf", [
                [bins["pandoc"], *title, "-s", "--to", "html5", "-o", str(html), *chapters],
                [bins["weasyprint"], *sheets, str(html), str(out / "weasyprint.pdf")],
            ]),
        ]
    return tasks


def warm_rebuilds(python: str, book: Path, out: Path, fmt: str, edit: str, rounds: int, via: str = "api") -> dict:
    """benchmarks/warm.py: one-chapter rebuilds in a running process, through the API or the
    real ``bookbuild FORMAT --watch`` (from the save to the new file in place)."""
    command = [python, str(Path(__file__).resolve().parent / "warm.py"), str(book), "--format", fmt,
               "--edit", edit, "--via", via, "--rounds", str(rounds), "--out", str(out / "warm")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def startup(bins: dict[str, str], runs: int, cwd: Path) -> Task:
    """``bookbuild --help``: the start-up a user feels on every command."""
    task = Task("bookbuild --help", [[bins["bookbuild"], "--help"]])
    for _ in range(runs):
        task.run(cwd)
    return task


def report(tasks: dict[str, Task], meta: dict) -> str:
    """A Markdown table of medians and peaks, then the ratios the targets are written in."""
    lines = [f"Book: {meta['size']} ({meta['chapters']} chapters, {meta['words']} words); "
             f"{meta['runs']} alternating runs; {meta['cpus']} CPUs; load average before "
             f"{meta['load_before']}, after {meta['load_after']}.", "",
             "| task | median s | runs (s) | median CPU s | peak RSS MiB |", "|---|---:|---|---:|---:|"]
    for task in tasks.values():
        runs = ", ".join(f"{s.seconds:.2f}" for s in task.samples)
        lines.append(f"| {task.name} | {task.median:.3f} | {runs} | {task.cpu:.1f} | {task.peak:.0f} |")

    def ratio(a: str, b: str, what: str = "time") -> None:
        if a in tasks and b in tasks:
            x, y = {"time": (tasks[a].median, tasks[b].median), "CPU time": (tasks[a].cpu, tasks[b].cpu),
                    "peak RSS": (tasks[a].peak, tasks[b].peak)}[what]
            rounds = ""
            if what == "time" and len(tasks[a].samples) == len(tasks[b].samples) > 1:
                # each round's own ratio: this machine's speed drifts by tens of percent over a
                # run, and a round's two measurements are the closest to side by side
                each = ", ".join(f"{p.seconds / q.seconds:.2f}" for p, q in zip(tasks[a].samples, tasks[b].samples))
                rounds = f" (round by round: {each})"
            lines.append(f"- {what} {a} / {b}: **{x / y:.2f}**{rounds}")

    lines.append("")
    ratio("bookbuild epub (cold)", "pandoc epub")
    ratio("bookbuild epub (one chapter edited)", "bookbuild epub (cold)")
    ratio("bookbuild pdf (cold)", "pandoc html + weasyprint pdf")
    ratio("bookbuild pdf (cold)", "pandoc html + weasyprint pdf", "CPU time")
    ratio("bookbuild pdf (cold)", "pandoc html + weasyprint pdf", "peak RSS")
    ratio("bookbuild pdf (one chapter edited)", "bookbuild pdf (cold)")
    ratio("bookbuild pdf (one chapter edited, pages added)", "bookbuild pdf (cold)")
    ratio("bookbuild pdf --single-process (cold)", "pandoc html + weasyprint pdf")
    ratio("bookbuild pdf (cold)", "bookbuild pdf --single-process (cold)")
    ratio("bookbuild pdf (cold)", "bookbuild pdf --single-process (cold)", "peak RSS")
    for key, title in (("warm", "One-chapter rebuilds in a running process, through the API as the watch loop "
                                "calls it (benchmarks/warm.py --via api), against the cold command above:"),
                       ("watched", "Edit to output under `bookbuild FORMAT --watch` (benchmarks/warm.py --via "
                                   "watch): from saving the chapter to the new file in place, against the cold "
                                   "command above:")):
        rows = meta.get(key, {})
        if not rows:
            continue
        lines += ["", title, "", "| rebuild | cold s there | rebuilds (s) | median s | / cold command |",
                  "|---|---:|---|---:|---:|"]
        for name, (cold_task, result) in rows.items():
            rebuilds = result["rebuilds"]
            median = statistics.median(rebuilds)
            cold = tasks[cold_task].median if cold_task in tasks else result["cold"]
            lines.append(f"| {name} | {result['cold']:.2f} | {', '.join(f'{x:.3f}' for x in rebuilds)} | "
                         f"{median:.3f} | **{median / cold:.3f}** |")
    preview = meta.get("preview")
    if preview:
        ms = sorted(preview)
        tenths = statistics.quantiles(ms, n=10)
        lines += ["", f"Preview, from saving a chapter to headless Chromium showing its new text "
                  f"(benchmarks/preview.py, {len(ms)} edits): median **{statistics.median(ms):.0f} ms**, "
                  f"p10 {tenths[0]:.0f}, p90 {tenths[-1]:.0f}, min {ms[0]:.0f}, max {ms[-1]:.0f}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="large")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bookbuild-bench"))
    parser.add_argument("--no-pdf", action="store_true", help="skip the (slow) PDF comparison")
    parser.add_argument("--no-single-pdf", action="store_true",
                        help="skip bookbuild's single-document PDF, --single-process (the slowest task)")
    parser.add_argument("--warm-rounds", type=int, default=5,
                        help="one-chapter rebuilds per kind, through the API and under --watch (0: none)")
    parser.add_argument("--preview-rounds", type=int, default=20,
                        help="edits timed in the preview with headless Chromium (0: none)")
    parser.add_argument("--json", type=Path, help="also write the samples here")
    args = parser.parse_args()

    bins = tools(Path(sys.executable).parent)
    precompile()
    book = args.work / f"book-{args.size}"
    out = args.work / "out"
    out.mkdir(parents=True, exist_ok=True)
    generate(args.size, book)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    tasks = {t.name: t for t in make_tasks(book, out, args.size, bins, not args.no_pdf, not args.no_single_pdf)}
    order = list(tasks.values())
    for round_number in range(args.runs):
        shift = round_number % len(order)
        for task in order[shift:] + order[:shift]:
            sample = task.run(book)
            print(f"round {round_number + 1}: {task.name}: {sample.seconds:.2f} s, {sample.cpu_seconds:.1f} CPU s, "
                  f"{sample.peak_rss_mib:.0f} MiB",
                  file=sys.stderr, flush=True)
    help_task = startup(bins, max(10, args.runs), args.work)
    tasks[help_task.name] = help_task
    warm: dict[str, tuple[str, dict]] = {}
    watched: dict[str, tuple[str, dict]] = {}
    if args.warm_rounds:
        kinds = [("epub", "word", "bookbuild epub (cold)")]
        if not args.no_pdf:
            kinds += [("pdf", "word", "bookbuild pdf (cold)"), ("pdf", "pages", "bookbuild pdf (cold)")]
        for via, rows in (("api", warm), ("watch", watched)):
            for fmt, edit, cold_task in kinds:
                name = f"{fmt}, {'one word changed' if edit == 'word' else 'pages added'}"
                rows[name] = (cold_task, warm_rebuilds(bins["python"], book, out, fmt, edit, args.warm_rounds, via))
                print(f"rebuilds via {via}: {name}: {rows[name][1]}", file=sys.stderr, flush=True)
    preview = None
    if args.preview_rounds:
        from preview import measure as preview_latency

        preview = [round(s * 1000, 1) for s in preview_latency(book, args.preview_rounds)]
    meta = {"size": args.size, "chapters": SIZES[args.size], "words": word_count(book), "runs": args.runs,
            "cpus": os.cpu_count(), "load_before": load_before,
            "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()), "warm": warm, "watched": watched,
            "preview": preview}
    print(report(tasks, meta))
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "tasks": {
            name: [[s.seconds, s.peak_rss_mib, s.cpu_seconds] for s in task.samples] for name, task in tasks.items()}},
            indent=1))


if __name__ == "__main__":
    main()
