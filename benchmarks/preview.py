"""Preview latency: from saving a chapter to a real browser showing the new text (issue 30).

``bookbuild preview`` runs on a generated book; headless Debian Chromium (driven by
Playwright, as tests/test_preview.py does) shows a chapter halfway through the book. Each
round appends a paragraph with a fresh marker to that chapter's file and times, from the
moment the file is written and closed to the moment the browser shows the marker: the page
itself notes the time (``performance.timeOrigin + now()``, the machine's clock) at the first
animation frame after the marker entered its document, whether the preview swapped the text
in place or reloaded the page. Asking from here with Playwright's waits instead would add
their polling steps (20, 50, 100 ms apart) to every figure. The first rounds warm up and
are dropped; the distribution of the rest is printed.

Usage (from the repository, in a venv with bookbuild and the test extra):
    python benchmarks/preview.py --size large --rounds 30 --work /tmp/bookbuild-bench
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import SIZES, generate  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# In every document the page loads: at the first animation frame after the round's marker
# (kept in sessionStorage, so that it outlives a reload) is in the document, note the time.
SEEN_SCRIPT = """(() => {
  let asked = false;
  function check() {
    const marker = sessionStorage.getItem("bench-marker");
    if (asked || !marker || sessionStorage.getItem("bench-seen") || !document.body) return;
    if (!document.body.textContent.includes(marker)) return;
    asked = true;
    requestAnimationFrame(() => {
      sessionStorage.setItem("bench-seen", String(performance.timeOrigin + performance.now()));
      asked = false;
    });
  }
  new MutationObserver(check).observe(document, {childList: true, subtree: true});
  document.addEventListener("DOMContentLoaded", check);
})();"""
WARM_UP = 3


def start_preview(book: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "bookbuild.cli", "preview", str(book), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if "serving" in line and " at " in line:
            return process, line.split(" at ", 1)[1].split()[0]
    process.kill()
    raise SystemExit("the preview did not start")


def measure(book: Path, rounds: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    chapters = sorted((book / "chapters").glob("*.md"))
    position = len(chapters) // 2
    chapter = chapters[position]
    original = chapter.read_bytes()
    process, url = start_preview(book)
    samples = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.add_init_script(SEEN_SCRIPT)
            _page_of(page, url, chapter, position)
            for number in range(rounds + WARM_UP):
                marker = f"Marker{number}x{os.getpid()}"
                text = original + f"\n\nA new paragraph, {marker}.\n".encode()
                page.evaluate("m => { sessionStorage.removeItem('bench-seen'); sessionStorage.setItem('bench-marker', m); }",
                              marker)
                started = time.time()
                with open(chapter, "wb") as handle:  # noqa: PTH123 - the benchmark's own file
                    handle.write(text)
                seen = page.wait_for_function("sessionStorage.getItem('bench-seen')", timeout=20_000).json_value()
                took = float(seen) / 1000 - started
                if number >= WARM_UP:
                    samples.append(took)
                time.sleep(0.3)
            browser.close()
    finally:
        chapter.write_bytes(original)
        process.terminate()
        process.wait(timeout=20)
    return samples


def _page_of(page, url: str, chapter: Path, position: int) -> str:  # noqa: ANN001
    """The preview page of ``chapter`` (``chNN.html`` by its place in the book), checked by its heading."""
    heading = next(line for line in chapter.read_text(encoding="utf-8").splitlines() if line.startswith("# "))
    heading = heading[2:].split("{")[0].strip()
    name = f"ch{position + 1:02d}.html"
    page.goto(url + name)
    if heading not in page.inner_text("h1"):
        raise SystemExit(f"{name} does not show {heading!r}")
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="large")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bookbuild-bench"))
    parser.add_argument("--json", type=Path, help="also write the samples here")
    args = parser.parse_args()
    book = args.work / f"book-{args.size}"
    if not (book / "book.toml").is_file():
        shutil.rmtree(book, ignore_errors=True)
        generate(args.size, book)
    samples = measure(book, args.rounds)
    ms = sorted(round(s * 1000, 1) for s in samples)
    quantiles = statistics.quantiles(ms, n=10)
    print(f"preview latency, {args.size} book, {len(ms)} edits after {WARM_UP} warm-up, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"  median {statistics.median(ms):.0f} ms, p10 {quantiles[0]:.0f}, p90 {quantiles[-1]:.0f}, "
          f"min {ms[0]:.0f}, max {ms[-1]:.0f}")
    if args.json:
        args.json.write_text(json.dumps({"size": args.size, "ms": ms}, indent=1))


if __name__ == "__main__":
    main()
