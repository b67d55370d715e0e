"""Setting up (issue 31): scripts/test.sh waits for a busy apt instead of dying at once, and
the quick start's PDF does not silently change with the fonts installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bookbuild.render.pdf.design_fonts import DESIGN_FONTS
from conftest import LITTLE_MANIFEST, ROOT, write_book
from validators import pdffonts, require

SCRIPT = ROOT / "scripts" / "test.sh"
LOCKED = "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)"


def _fake_apt_get(folder: Path, failures: int, message: str = LOCKED) -> Path:
    """An ``apt-get`` that fails with ``message`` ``failures`` times, then succeeds; each call's
    arguments are appended to ``calls``."""
    folder.mkdir()
    fake = folder / "apt-get"
    fake.write_text(f"""#!/usr/bin/env bash
echo "$*" >> {folder / "calls"}
n=$(wc -l < {folder / "calls"})
if [ "$n" -le {failures} ]; then echo "{message}" >&2; exit 100; fi
echo "fetched"
""")
    fake.chmod(0o755)
    return folder


def _apt_get(fake: Path, *args: str, timeout: int = 30) -> subprocess.CompletedProcess:
    """The script's own ``apt_get`` (read out of scripts/test.sh, not a copy), with ``fake``
    first on PATH and a short retry step."""
    script = f"set -euo pipefail\nsource <(sed -n '/^APT_LOCK_TIMEOUT=/,/^}}/p' {SCRIPT})\napt_get {' '.join(args)}"
    env = os.environ | {"PATH": f"{fake}:{os.environ['PATH']}", "APT_LOCK_TIMEOUT": str(timeout),
                        "APT_LOCK_RETRY": "0.1"}
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)


def test_every_apt_get_of_the_script_waits_for_the_lock() -> None:
    text = SCRIPT.read_text()
    calls = [line.strip() for line in text.splitlines() if re.search(r"\bapt-get\b", line) and
             not line.lstrip().startswith("#")]
    assert calls == ['until apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" "$@" 2>"$errors"; do'], calls
    assert "apt_get update" in text and "apt_get install" in text
    assert re.search(r"^APT_LOCK_TIMEOUT=\$\{APT_LOCK_TIMEOUT:-300\}$", text, re.M), "bounded: 5 minutes"


def test_a_held_lists_lock_is_waited_for(tmp_path: Path) -> None:
    fake = _fake_apt_get(tmp_path / "bin", failures=2)
    done = _apt_get(fake, "update", "-qq")
    assert done.returncode == 0, done.stderr
    calls = (fake / "calls").read_text().splitlines()
    assert calls == ["-o DPkg::Lock::Timeout=30 update -qq"] * 3
    assert done.stdout == "fetched\n"
    assert done.stderr.count("apt is busy in another process: waiting for it (at most 30 s)") == 1


def test_the_wait_is_bounded(tmp_path: Path) -> None:
    fake = _fake_apt_get(tmp_path / "bin", failures=10_000)
    started = time.monotonic()
    done = _apt_get(fake, "update", timeout=1)
    assert done.returncode == 1
    assert time.monotonic() - started < 10
    assert LOCKED in done.stderr  # apt's own words, once the wait is over


def test_other_failures_are_not_retried(tmp_path: Path) -> None:
    message = "E: Unable to locate package no-such-package"
    fake = _fake_apt_get(tmp_path / "bin", failures=10_000, message=message)
    done = _apt_get(fake, "install", "-y", "no-such-package")
    assert done.returncode == 1 and message in done.stderr
    assert len((fake / "calls").read_text().splitlines()) == 1


def _dejavu_only(folder: Path) -> Path:
    """A fontconfig configuration that sees only the DejaVu fonts: a machine without Noto."""
    dejavu = subprocess.run([require("fc-match"), "-f", "%{file}", "DejaVu Serif"], capture_output=True,
                            text=True, check=True).stdout
    assert Path(dejavu).name == "DejaVuSerif.ttf", "fonts-dejavu-core is installed by scripts/test.sh"
    folder.mkdir()
    config = folder / "fonts.conf"
    config.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig><dir>{Path(dejavu).parent}</dir><cachedir>{folder / "cache"}</cachedir></fontconfig>
""")
    return config


def _pdf(book: Path, out: Path, fontconfig: Path | None = None) -> tuple[str, list[str]]:
    """``bookbuild pdf`` in its own process (fontconfig is read once a process): its output and
    the fonts pdffonts finds embedded (without the subset prefix)."""
    env = dict(os.environ) | ({"FONTCONFIG_FILE": str(fontconfig)} if fontconfig else {})
    done = subprocess.run([sys.executable, "-m", "bookbuild.cli", "pdf", str(book), "-o", str(out)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr, sorted({font["name"].split("+")[-1] for font in pdffonts(out)})


@pytest.fixture(scope="module")
def quick_start(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The little book's PDF with the machine's fonts and on a machine with DejaVu only; and a
    book with its own font on the latter."""
    base = tmp_path_factory.mktemp("fonts")
    little = write_book(base / "little", LITTLE_MANIFEST, {"one.md": "# One\n\nHello.\n\n    code\n",
                                                          "two.md": "# Two\n\nBye.\n"})
    dejavu_only = _dejavu_only(base / "fontconfig")
    own = write_book(base / "own", LITTLE_MANIFEST.replace("chapters = [", 'fonts = ["fonts/Own.ttf"]\nchapters = ['),
                     {"one.md": "# One\n\nHello.\n", "two.md": "# Two\n\nBye.\n"})
    (own / "fonts").mkdir()
    shutil.copy(re.search(r"<dir>(.*)</dir>", dejavu_only.read_text())[1] + "/DejaVuSerif.ttf", own / "fonts" / "Own.ttf")
    return {"installed": _pdf(little, base / "installed.pdf"),
            "dejavu": _pdf(little, base / "dejavu.pdf", dejavu_only),
            "own": _pdf(own, base / "own.pdf", dejavu_only)}


def test_with_the_design_fonts_installed_the_pdf_uses_them_and_says_nothing(quick_start: dict) -> None:
    output, fonts = quick_start["installed"]
    assert "warning" not in output, output
    assert {"Noto-Serif", "Noto-Sans-Bold", "DejaVu-Sans-Mono"} <= set(fonts), fonts


def test_without_them_the_build_names_each_substitute_it_embedded(quick_start: dict) -> None:
    output, fonts = quick_start["dejavu"]
    assert not [font for font in fonts if "Noto" in font], fonts
    assert "DejaVu-Serif" in fonts and "DejaVu-Sans-Bold" in fonts, fonts  # what the warnings name
    warnings = [line for line in output.splitlines() if "warning" in line]
    assert warnings == [
        "bookbuild: warning: the PDF's text font 'Noto Serif' is not installed: it is set in 'DejaVu Serif' "
        "instead, so the PDF will look different on a machine that has Noto Serif (hint: install it "
        "(Debian/Ubuntu: apt-get install fonts-noto-core), or name the book's own font with [book] fonts)",
        "bookbuild: warning: the PDF's headings font 'Noto Sans' is not installed: it is set in 'DejaVu Sans' "
        "instead, so the PDF will look different on a machine that has Noto Sans (hint: install it "
        "(Debian/Ubuntu: apt-get install fonts-noto-core), or name the book's own font with [book] fonts)",
    ], output


def test_a_book_with_its_own_font_is_not_told_about_the_fonts_it_replaces(quick_start: dict) -> None:
    output, fonts = quick_start["own"]
    assert "warning" not in output, output
    assert "DejaVu-Serif" in fonts, fonts


def test_the_readme_quick_start_builds_in_one_command_and_names_the_design_fonts() -> None:
    """One command sets up and builds (no sudo needed: a root container has none); the design's
    fonts, what happens without them and how to install them, are said right after it."""
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("## ", 1)[0]
    block = quick.split("```sh", 1)[1].split("```", 1)[0]
    assert block.strip() == "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/bookbuild build"
    after = quick.split("```", 2)[2]
    install = after.find("apt-get install")
    assert install >= 0 and "is not installed: it is set in" in after
    for family, _role, package in DESIGN_FONTS:
        assert package in after[install:install + 80], (family, package)
        assert family in after  # named for macOS and Windows too
