"""Check every image before it is packed or laid out.

An image from a stranger can lie about its type, be cut short, unpack to gigabytes of
pixels (a "decompression bomb"), or, as SVG, carry scripts, entity bombs and references
to local files or the network. Raster images are opened with Pillow (header and full
decode, within a pixel cap); SVG is parsed without entities, DTDs or network and
re-serialised from an allow-list of what a drawing needs.
"""

from __future__ import annotations

import io
import re
import warnings

from lxml import etree

from ..errors import BookError

MAX_PIXELS = 25_000_000  # 5000 x 5000; a full-page 300 dpi A4 picture is 8.7 million
MAX_IMAGE_BYTES = 20 * 1024 * 1024
# The images a book may show: file suffix -> media type (the EPUB's core media types).
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}
# media type -> the suffix a packed file of that type is given (.jpg, not .jpeg)
MEDIA_TYPE_SUFFIXES = {media_type: suffix for suffix, media_type in reversed(IMAGE_TYPES.items())}
# the raster types, by Pillow's name for their format (SVG is checked as XML)
PILLOW_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WEBP"}

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_SVG_DROP = frozenset({"script", "foreignObject", "iframe", "embed", "object", "handler", "listener"})
_ANIMATIONS = frozenset({"set", "animate", "animateTransform", "animateMotion", "animateColor"})
_EXTERNAL_CSS = re.compile(r"@import|url\s*\(\s*['\"]?\s*(?!#)", re.IGNORECASE)
_SAFE_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);", re.IGNORECASE)


def check_image(data: bytes, suffix: str) -> bytes:
    """The image's bytes if safe to use (SVG: cleaned), else :class:`BookError` saying why."""
    suffix = suffix.lower()
    if len(data) > MAX_IMAGE_BYTES:
        raise BookError(f"is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    if suffix == ".svg":
        return sanitize_svg(data)
    expected = PILLOW_FORMATS.get(suffix)
    if expected is None:
        raise BookError("is not PNG, JPEG, GIF, SVG or WebP")
    _check_raster(data, expected)
    return data


def _check_raster(data: bytes, expected: str) -> None:
    from PIL import (
        ImageFile,  # imported when an image is checked: a rebuild may check none
    )

    # WeasyPrint sets Pillow's global LOAD_TRUNCATED_IMAGES on import; a check must not inherit it.
    previous, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        _decode(data, expected)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _decode(data: bytes, expected: str) -> None:
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.format != expected:
                    raise BookError(f"is really {image.format or 'not an image'}, not {expected}",
                                    hint="give the file the suffix of its real type")
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise _bomb(width, height)
                image.load()
        except BookError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise BookError("has too many pixels (a decompression bomb?)",
                            hint=f"images are limited to {MAX_PIXELS:,} pixels") from None
        except UnidentifiedImageError:
            raise BookError(f"is not a readable {expected} image") from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise BookError(f"is damaged or truncated ({exc})") from None


def _bomb(width: int, height: int) -> BookError:
    return BookError(f"is {width} x {height} pixels: over the limit of {MAX_PIXELS:,} (a decompression bomb?)",
                     hint="scale the image down")


def sanitize_svg(data: bytes) -> bytes:
    """An SVG without entities, scripts, event handlers or references outside the drawing."""
    if re.search(rb"<!ENTITY", data, re.IGNORECASE):
        raise BookError("declares XML entities (refused: entity expansion)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_pis=True, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise BookError(f"is not well-formed SVG ({exc.msg})") from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise BookError("is not an SVG drawing (no <svg> root in the SVG namespace)")
    for node in list(root.iter()):
        if not isinstance(node.tag, str):
            if node.getparent() is not None:
                node.getparent().remove(node)
            continue
        local = etree.QName(node).localname
        if local in _SVG_DROP or (local in _ANIMATIONS and "href" in (node.get("attributeName") or "").lower()):
            node.getparent().remove(node)
            continue
        if local == "style" and _EXTERNAL_CSS.search(node.text or ""):
            node.getparent().remove(node)
            continue
        _clean_svg_attributes(node)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _clean_svg_attributes(node: etree._Element) -> None:
    for name in list(node.attrib):
        value = node.attrib[name]
        local = etree.QName(name).localname.lower()
        if local.startswith("on"):
            del node.attrib[name]
        elif (name in ("href", XLINK_HREF) and not value.startswith("#") and not _SAFE_DATA.match(value)):
            del node.attrib[name]
        elif local == "style" and _EXTERNAL_CSS.search(value):
            del node.attrib[name]
        elif "url(" in value.replace(" ", "").lower() and _EXTERNAL_CSS.search(value):
            del node.attrib[name]
