"""Harness for hostile books: a canary outside the book, a local HTTP server that must stay
silent, and checks that nothing outside the output folder changed."""

from __future__ import annotations

import io
import os
import subprocess
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from bookbuild.cli import main

CANARY_TOKEN = "CANARY-5e1f0c2b-SECRET"
CANARY_SIZE = (37, 23)  # a picture size no test book uses, to spot the canary image in the PDF


def png_bytes(size: tuple[int, int] = (20, 10), color: tuple[int, int, int] = (0, 128, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


class _Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).requests.append(self.path)
        body = png_bytes(CANARY_SIZE)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def http_server():
    """A server on 127.0.0.1 that records every request; no hostile book may reach it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.timeout = 1
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@dataclass
class Workspace:
    """One hostile build: the book, a secret folder beside it, the output folder."""

    root: Path
    port: int
    book: Path = field(init=False)
    secret: Path = field(init=False)
    out: Path = field(init=False)

    def __post_init__(self) -> None:
        self.book = self.root / "book"
        self.secret = self.root / "secret"
        self.out = self.root / "out"
        self.secret.mkdir(parents=True)
        self.book.mkdir()
        self.out.mkdir()
        (self.secret / "canary.txt").write_text(f"{CANARY_TOKEN}\n")
        (self.secret / "canary.md").write_text(f"# {CANARY_TOKEN}\n\n{CANARY_TOKEN}\n")
        (self.secret / "canary.css").write_text(f'body::before {{ content: "{CANARY_TOKEN}"; }}\n')
        (self.secret / "canary.png").write_bytes(png_bytes(CANARY_SIZE, (255, 0, 0)))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write(self, name: str, content: str | bytes) -> Path:
        path = self.book / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def snapshot(self) -> dict[str, tuple]:
        """Every path outside ``out/`` with its type, size and content hash (symlinks not followed)."""
        state: dict[str, tuple] = {}
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            here = Path(dirpath)
            cache = self.book / ".bookbuild-cache"
            if here == self.out or self.out in here.parents or here == cache or cache in here.parents:
                dirnames[:] = []
                continue
            for name in dirnames + filenames:
                path = here / name
                if path == self.out or (name == ".bookbuild-cache" and path.parent == self.book):
                    continue  # the output, and the book's own cache (checked in test_cache.py)
                info = path.lstat()
                if path.is_symlink():
                    state[str(path)] = ("link", os.readlink(path))
                elif path.is_file():
                    state[str(path)] = ("file", info.st_size, hash(path.read_bytes()))
                else:
                    state[str(path)] = ("other", info.st_mode)
        return state

    def run(self, args: list[str]) -> Result:
        old = os.getcwd()
        os.chdir(self.root)
        try:
            return CliRunner().invoke(main, args, catch_exceptions=False)
        finally:
            os.chdir(old)


@pytest.fixture
def workspace(tmp_path: Path, http_server: ThreadingHTTPServer) -> Workspace:
    _Recorder.requests.clear()
    return Workspace(tmp_path / "w", http_server.server_address[1])


def server_requests() -> list[str]:
    return list(_Recorder.requests)


def output_blobs(path: Path, tmp: Path) -> list[bytes]:
    """Everything an output holds, decompressed: each EPUB entry; the PDF's streams and text."""
    data = path.read_bytes()
    if path.suffix == ".epub":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [name.encode() for name in archive.namelist()] + [archive.read(n) for n in archive.namelist()]
    if path.suffix == ".pdf":
        plain = tmp / (path.name + ".qdf")
        subprocess.run(["qpdf", "--qdf", "--object-streams=disable", "--stream-data=uncompress",
                        str(path), str(plain)], capture_output=True, timeout=120)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, timeout=120).stdout
        images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, timeout=120).stdout
        return [data, plain.read_bytes() if plain.exists() else b"", text, images]
    return [data]


def pdf_image_sizes(path: Path) -> list[tuple[int, int]]:
    out = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, timeout=120).stdout
    sizes = []
    for line in out.splitlines()[2:]:
        cells = line.split()
        if len(cells) > 4 and cells[3].isdigit() and cells[4].isdigit():
            sizes.append((int(cells[3]), int(cells[4])))
    return sizes
