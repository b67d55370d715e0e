"""Check every image before it is packed or laid out.

An image from a stranger can lie about its type, be cut short, unpack to gigabytes of
pixels (a "decompression bomb"), or, as SVG, carry scripts, entity bombs and references
to local files or the network. Raster images are opened with Pillow within a pixel cap:
a PNG's chunks are read to its end with their checksums, any other type is decoded whole;
SVG is cleaned by svg.py, which reports what it removed.
"""

from __future__ import annotations

import io
import warnings

from ..errors import BookError, Reporter
from .svg import SvgWarn, sanitize_svg

__all__ = ["IMAGE_TYPES", "MEDIA_TYPE_SUFFIXES", "PILLOW_FORMATS", "check_image", "sanitize_svg", "svg_warnings"]

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


def check_image(data: bytes, suffix: str, warn: SvgWarn | None = None) -> bytes:
    """The image's bytes if safe to use (SVG: cleaned), else :class:`BookError` saying why.

    What the cleaning removes from an SVG goes to ``warn`` (see :func:`svg_warnings`); a
    caller that reports the image elsewhere passes none.
    """
    suffix = suffix.lower()
    if len(data) > MAX_IMAGE_BYTES:
        raise BookError(f"is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    if suffix == ".svg":
        return sanitize_svg(data, warn)
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
                    real = next((s for s, name in PILLOW_FORMATS.items() if name == image.format), None)
                    if real is not None:
                        raise MislabeledImage(image.format, expected, real)
                    raise BookError(f"is really {image.format or 'not an image'}, not {expected}",
                                    hint="give the file the suffix of its real type")
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise _bomb(width, height)
                if image.format == "PNG":
                    # Every chunk to IEND, each against its CRC: a file cut short or damaged
                    # anywhere fails, as a full decode fails. The decode took a hundred times
                    # as long (1.4 ms for a 640x320 figure; 89 ms of each reader's 0.5 s on the
                    # large benchmark book). Only a file made with right checksums over a
                    # broken compressed stream passes, which no damage makes.
                    image.verify()
                else:
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


class MislabeledImage(BookError):
    """An image of one type named as another (a PNG called .jpg): readers go by the suffix and
    the EPUB's media type, so it is packed as what it is, under ``real_suffix``."""

    def __init__(self, real: str, named: str, real_suffix: str) -> None:
        super().__init__(f"is really {real}, not {named}", hint=f"give the file the suffix {real_suffix}")
        self.real, self.named, self.real_suffix = real, named, real_suffix

    def __reduce__(self):  # noqa: ANN204 - from a worker process, as it was raised
        return (type(self), (self.real, self.named, self.real_suffix))


def _bomb(width: int, height: int) -> BookError:
    return BookError(f"is {width} x {height} pixels: over the limit of {MAX_PIXELS:,} (a decompression bomb?)",
                     hint="scale the image down")


def svg_warnings(reporter: Reporter, name: str) -> SvgWarn:
    """Report what the cleaning removes from the SVG ``name`` (its path as displayed, or its
    URL) at the drawing's own line: that is where the author can put it right."""

    def warn(message: str, line: int | None, hint: str | None = None) -> None:
        reporter.warn(message, name, line, hint=hint)

    return warn
