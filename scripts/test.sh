#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian/Ubuntu machine, then run it.
#   System packages (apt-get, only those missing, only as root): Java for EPUBCheck,
#   poppler-utils and qpdf for PDF checks, fonts the test books use (Noto core and CJK); calibre (ebook-convert),
#   chromium, nodejs and npm for the EPUB readers and Ace by DAISY.
#   npm: @daisy/ace-cli into $BOOKBUILD_VALIDATORS (default ~/.cache/bookbuild-validators).
#   Python: a venv (.venv-test, or $VENV) with bookbuild and its [test] extras.
# Usage: scripts/test.sh [pytest arguments...]   (on every core: BOOKBUILD_TEST_WORKERS=N or 0 for one process)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v pdffonts >/dev/null 2>&1 || need+=(poppler-utils)
command -v qpdf >/dev/null 2>&1 || need+=(qpdf)
fc-list 2>/dev/null | grep "NotoSerif-Regular" >/dev/null || need+=(fonts-noto-core)
fc-list 2>/dev/null | grep "DejaVuSans.ttf" >/dev/null || need+=(fonts-dejavu-core)
command -v ebook-convert >/dev/null 2>&1 || need+=(calibre)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
# The Chinese and Japanese test books need Noto CJK; Arabic and Hebrew come with fonts-noto-core.
fc-list 2>/dev/null | grep "NotoSerifCJK" >/dev/null || need+=(fonts-noto-cjk)
command -v fc-match >/dev/null 2>&1 || need+=(fontconfig)
# The CMYK profile of the print presets' PDF/X output intent (render/pdf/print_press.py).
[ -f /usr/share/color/icc/ghostscript/default_cmyk.icc ] || need+=(libgs-common)
# Another apt or dpkg process (unattended-upgrades, a second terminal) may hold the locks:
# wait for it, at most APT_LOCK_TIMEOUT seconds, instead of dying at once. apt-get waits for
# the dpkg lock itself (DPkg::Lock::Timeout, apt >= 1.9.11); for the package lists' lock of
# `apt-get update` it does not, so that is tried again every few seconds until the same limit.
APT_LOCK_TIMEOUT=${APT_LOCK_TIMEOUT:-300}
apt_get() {
  local deadline=$((SECONDS + APT_LOCK_TIMEOUT)) errors said=""
  errors=$(mktemp)
  until apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" "$@" 2>"$errors"; do
    if grep -q "Could not get lock" "$errors" && [ "$SECONDS" -lt "$deadline" ]; then
      [ -n "$said" ] || echo "apt is busy in another process: waiting for it (at most ${APT_LOCK_TIMEOUT} s)" >&2
      said=1
      sleep "${APT_LOCK_RETRY:-5}"
      continue
    fi
    cat "$errors" >&2
    rm -f "$errors"
    return 1
  done
  cat "$errors" >&2
  rm -f "$errors"
}

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing system packages: ${need[*]}"
    apt_get update -qq
    DEBIAN_FRONTEND=noninteractive apt_get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing system packages (install them as root): ${need[*]}" >&2
    exit 1
  fi
fi

# Ace by DAISY drives the Debian chromium (its Puppeteer runner passes --no-sandbox itself).
ACE_HOME=${BOOKBUILD_VALIDATORS:-$HOME/.cache/bookbuild-validators}
if [ ! -x "$ACE_HOME/node_modules/.bin/ace-cli" ]; then
  echo "installing @daisy/ace-cli into $ACE_HOME"
  mkdir -p "$ACE_HOME"
  (cd "$ACE_HOME" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --silent --no-audit --no-fund @daisy/ace-cli >/dev/null)
fi
export PUPPETEER_EXECUTABLE_PATH=${PUPPETEER_EXECUTABLE_PATH:-$(command -v chromium)}

VENV=${VENV:-.venv-test}
PYTHON=${PYTHON:-python3}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
"$VENV/bin/python" -m pip install -q ".[test]"

# Every core, a test file to each worker in turn (pytest-xdist): a file's books are built once,
# on one worker. BOOKBUILD_TEST_WORKERS=0 runs the suite in this one process.
WORKERS=${BOOKBUILD_TEST_WORKERS:-$(nproc 2>/dev/null || echo 2)}
# Python writes bytecode (__pycache__, ignored by git) even where the environment says not to:
# the suite starts hundreds of Python processes (the CLI, PDF and catalogue workers) that would
# otherwise compile the same modules again each time.
unset PYTHONDONTWRITEBYTECODE
set +e
if [ "$WORKERS" = 0 ]; then
  "$VENV/bin/python" -m pytest "$@"
else
  "$VENV/bin/python" -m pytest -n "$WORKERS" --dist loadfile "$@"
fi
status=$?
set -e
if [ $status -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit $status
