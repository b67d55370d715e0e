"""Unit tests of the safety gates: the resolver, the remote fetcher's address rules, the
WeasyPrint URL fetcher, atomic writes and the image checks."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from bookbuild.api import write_atomically
from bookbuild.errors import BookError
from bookbuild.files import write_cache_entry
from bookbuild.sources.images import check_image, sanitize_svg
from bookbuild.sources.remote import check_remote_url, fetch_remote, public_address
from bookbuild.resources import resolve_in_book, resolve_url, styles_dir


@pytest.fixture
def book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    (root / "images").mkdir(parents=True)
    (root / "images" / "a.png").write_bytes(b"x")
    (tmp_path / "secret.txt").write_text("secret")
    return root


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("../secret.txt", "outside the book folder"),
        ("images/../../secret.txt", "outside the book folder"),
        ("/etc/passwd", "absolute path"),
        ("C:/Windows/win.ini", "absolute path"),
        ("\\\\server\\share\\x.png", "absolute path"),
        ("file:///etc/passwd", "file: URL"),
        ("FILE:images/a.png", "file: URL"),
        ("images/a.png\0.txt", "control characters"),
        ("images", "is a folder"),
        ("images/missing.png", "not found"),
        ("", "empty path"),
    ],
)
def test_resolver_refuses(book: Path, written: str, message: str) -> None:
    with pytest.raises(BookError, match=message) as info:
        resolve_in_book(book, book, written, what="image", file="c.md", line=7)
    assert info.value.diagnostic.location.line == 7


def test_resolver_follows_symlinks_before_checking(book: Path, tmp_path: Path) -> None:
    os.symlink(tmp_path / "secret.txt", book / "images" / "link.png")
    with pytest.raises(BookError, match="outside the book folder"):
        resolve_in_book(book, book, "images/link.png", what="image")
    os.symlink("a.png", book / "images" / "inside.png")
    assert resolve_in_book(book, book, "images/inside.png", what="image") == (book / "images" / "a.png").resolve()


def test_resolve_url_maps_file_urls_through_the_same_checks(book: Path, tmp_path: Path) -> None:
    assert resolve_url(book, (book / "images" / "a.png").as_uri(), what="x") == (book / "images" / "a.png").resolve()
    assert resolve_url(book, (styles_dir() / "base.css").as_uri(), what="x", extra_roots=(styles_dir(),)).is_file()
    for url in ((tmp_path / "secret.txt").as_uri(), "file:///etc/passwd", "file://host/share/x",
                "http://example.com/x", (book / "images").as_uri(), "file:///dev/zero"):
        with pytest.raises(BookError):
            resolve_url(book, url, what="x")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.1.2.3", "192.168.0.1", "172.16.5.4",
                                  "169.254.169.254", "::1", "0.0.0.0", "100.64.0.1", "224.0.0.1", "[::ffff:127.0.0.1]"])
def test_remote_refuses_internal_addresses(host: str) -> None:
    with pytest.raises(BookError, match="local or private address"):
        public_address(host.strip("[]"), 80)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://x/", "http:///nohost",
                                 "http://example.com:99999/"])
def test_remote_refuses_other_schemes(url: str) -> None:
    with pytest.raises(BookError):
        check_remote_url(url)


def test_fetch_remote_refuses_loopback_before_connecting() -> None:
    with pytest.raises(BookError, match="local or private address"):
        fetch_remote("http://127.0.0.1:9/x.png", timeout=1)


def test_pdf_fetcher_serves_only_book_files(book: Path, tmp_path: Path) -> None:
    from bookbuild.config.manifest import load_manifest
    from bookbuild.model import Book
    from bookbuild.render.pdf.document import _fetcher_class

    (book / "book.toml").write_text('[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\nchapters = ["c.md"]\n')
    (book / "c.md").write_text("# C\n")
    manifest = load_manifest(book)
    fetcher = _fetcher_class()(Book(meta=manifest.meta, language=manifest.language, source=manifest.path, chapters=()))
    assert fetcher.fetch((book / "images" / "a.png").as_uri()).read() == b"x"
    for url in ((tmp_path / "secret.txt").as_uri(), "http://127.0.0.1:9/x", "https://example.com/x.css",
                "ftp://example.com/x", (book / "images" / "..%2F..%2Fsecret.txt").as_uri()):
        with pytest.raises(ValueError, match="refused|disallowed"):
            fetcher.fetch(url)


def test_write_atomically_replaces_a_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "out" / "book.epub"
    link.parent.mkdir()
    os.symlink(victim, link)
    write_atomically(link, b"new")
    assert victim.read_text() == "keep me"
    assert not link.is_symlink() and link.read_bytes() == b"new"
    assert [p.name for p in link.parent.iterdir()] == ["book.epub"]  # no temporary file left


def test_a_cache_entry_replaces_a_symlink_and_an_old_entry_never_writing_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    folder = tmp_path / ".bookbuild-cache"
    folder.mkdir()
    os.symlink(victim, folder / "chapters.pack")
    write_cache_entry(folder / "chapters.pack", b"first")
    assert victim.read_text() == "keep me"
    assert not (folder / "chapters.pack").is_symlink()
    write_cache_entry(folder / "chapters.pack", b"second")
    assert (folder / "chapters.pack").read_bytes() == b"second"
    assert [p.name for p in folder.iterdir()] == ["chapters.pack"]  # no temporary file left


def test_a_cache_entry_in_place_of_a_folder_fails_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "epub.pack").mkdir()
    (tmp_path / "epub.pack" / "inside").write_text("x")
    with pytest.raises(OSError):
        write_cache_entry(tmp_path / "epub.pack", b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epub.pack"]
    assert (tmp_path / "epub.pack" / "inside").read_text() == "x"


def test_write_atomically_refuses_a_folder(tmp_path: Path) -> None:
    (tmp_path / "x.epub").mkdir()
    with pytest.raises(BookError, match="is a folder"):
        write_atomically(tmp_path / "x.epub", b"data")


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("L", size).save(out, "PNG")
    return out.getvalue()


def test_image_checks() -> None:
    assert check_image(_png((4, 4)), ".png")
    with pytest.raises(BookError, match="really PNG"):
        check_image(_png((4, 4)), ".gif")
    with pytest.raises(BookError, match="pixels"):
        check_image(_png((6000, 6000)), ".png")
    with pytest.raises(BookError, match="not PNG"):
        check_image(b"BM....", ".bmp")


def test_svg_sanitised() -> None:
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="x()">'
           b'<?xml-stylesheet href="file:///etc/x.css"?><script>alert(1)</script>'
           b'<foreignObject><p>html</p></foreignObject><use xlink:href="#r"/><use href="other.svg#r"/>'
           b'<a href="javascript:alert(1)"><rect id="r" style="fill:url(http://x/y)" width="1" height="1"/></a>'
           b'<set attributeName="href" to="javascript:alert(1)"/><style>@import "http://x/y.css";</style></svg>')
    clean = sanitize_svg(svg).decode()
    for bad in ("onload", "<script", "foreignObject", "other.svg", "javascript:", "http://x", "xml-stylesheet",
                "<set", "@import"):
        assert bad not in clean
    assert 'xlink:href="#r"' in clean and "<rect" in clean
    with pytest.raises(BookError, match="not an SVG"):
        sanitize_svg(b"<html/>")


def test_mathml_keeps_presentation_markup_and_loses_the_rest() -> None:
    from bookbuild.errors import Reporter
    from bookbuild.sources.sanitise import html_to_fragment
    from bookbuild.xhtml import serialize_fragment

    reporter = Reporter()
    html = ('<p><math><mrow><mi mathvariant="bold" onclick="x()">x</mi>'
            '<maction actiontype="statusline"><mtext>bad</mtext></maction>'
            '<mo href="javascript:alert(1)">+</mo><annotation-xml><script>alert(1)</script></annotation-xml>'
            '</mrow></math></p>')
    body = serialize_fragment(html_to_fragment(html, reporter, "c.md"))
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML">' in body
    assert '<mi mathvariant="bold">x</mi>' in body
    for gone in ("onclick", "maction", "bad", "javascript", "annotation-xml", "script", "alert"):
        assert gone not in body, gone
    messages = [d.message for d in reporter.warnings]
    assert "<maction> removed from a formula" in messages
    assert "attribute 'href' removed from <mo>" in messages


def test_real_path_is_realpath_with_folders_kept_for_the_build(tmp_path: Path) -> None:
    """resources.real_path keeps each folder's real path for the build (a rebuild resolves some
    1,800 paths): it must give what os.path.realpath gives, links and all, and a folder swapped
    for a link after it was kept must fail to read, never lead out of the book."""
    from bookbuild.files import read_book_file
    from bookbuild.resources import forget_folders, real_path

    book, outside = tmp_path / "book", tmp_path / "outside"
    (book / "chapters").mkdir(parents=True)
    outside.mkdir()
    (book / "chapters" / "one.md").write_text("one", encoding="utf-8")
    (outside / "one.md").write_text("secret", encoding="utf-8")
    (book / "linked.md").symlink_to(book / "chapters" / "one.md")
    (book / "out.md").symlink_to(outside / "one.md")
    (book / "folder-link").symlink_to(book / "chapters", target_is_directory=True)
    forget_folders()
    for name in ("chapters/one.md", "linked.md", "out.md", "folder-link/one.md", "folder-link/../linked.md",
                 "chapters/./one.md", "missing.md", "chapters/missing/x.md", "chapters"):
        assert real_path(book / name) == os.path.realpath(book / name), name
        assert real_path(book / name) == real_path(book / name), name  # kept, the same again
    assert read_book_file(book / "chapters" / "one.md", book, "chapter") == b"one"
    (book / "two.md").write_text("two", encoding="utf-8")
    assert read_book_file(book / "two.md", book, "chapter") == b"two"  # its real path kept
    (book / "two.md").unlink()
    (book / "two.md").symlink_to(outside / "one.md")  # a file swapped for a link after it was kept
    with pytest.raises(BookError):
        read_book_file(book / "two.md", book, "chapter")
    (book / "chapters").rename(book / "moved")
    (book / "chapters").symlink_to(outside, target_is_directory=True)  # swapped after it was kept
    with pytest.raises(BookError):
        read_book_file(book / "chapters" / "one.md", book, "chapter")
    forget_folders()  # the next build resolves afresh: outside the book, refused as such
    with pytest.raises(BookError, match="outside the book folder"):
        read_book_file(book / "chapters" / "one.md", book, "chapter")
