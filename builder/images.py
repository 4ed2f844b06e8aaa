"""Images are checked before they are published.

A raster image (PNG, JPEG, GIF, WebP) is decoded with Pillow, WeasyPrint's own image
library: its type must match its file name's extension, its pixel count is bounded
(:data:`MAX_PIXELS`, which also stops decompression bombs) and it must decode to the
end (a truncated file is caught here, not in a reader's viewer).  An SVG image must
parse as SVG; :func:`builder.sanitize.clean_svg` then takes out its scripts, event
handlers, ``foreignObject`` and outside references when it is published.  A ``data:``
URL is held to the same rules as a file.
"""
from __future__ import annotations

import base64
import binascii
import io
from urllib.parse import unquote

COVER_NAMES = ("cover.png", "cover.jpg", "cover.jpeg", "cover.svg")  # in book/, first found
MAX_PIXELS = 64_000_000  # 8000 × 8000: more than any printed page needs at 600 dpi
# Pillow's name of each format, by the extensions a file of it may have.
RASTER = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WEBP"}
_MEDIA = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif",
          "image/webp": ".webp", "image/svg+xml": ".svg"}


def problem(data: bytes, suffix: str) -> str | None:
    """What is wrong with the image ``data`` of a file ending in ``suffix``, or None.

    Files of other types (``.pdf``, ``.tiff``...) are not looked at here: each output
    says whether it can use them.
    """
    suffix = suffix.lower()
    if suffix != ".svg" and suffix not in RASTER:
        return None
    if not data:
        return "the file is empty"
    if suffix == ".svg":
        from .sanitize import clean_svg
        return None if clean_svg(data) is not None else "it is not an SVG image that can be read"
    return _raster_problem(data, RASTER[suffix], suffix)


def data_url_problem(url: str) -> str | None:
    """What is wrong with the image of a ``data:`` URL, or None."""
    header, _, payload = url[5:].partition(",")
    media_type = header.split(";")[0].strip().lower()
    suffix = _MEDIA.get(media_type)
    if suffix is None:
        return None  # not an image type: the sanitizer and the outputs refuse it
    try:
        data = (base64.b64decode(payload, validate=False) if header.endswith(";base64")
                else unquote(payload).encode("utf-8"))
    except (binascii.Error, ValueError):
        return "its data: URL is not valid base64"
    return problem(data, suffix)


def _raster_problem(data: bytes, expected: str, suffix: str) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            found, (width, height) = image.format, image.size
            if found != expected:
                named = next((s for s, f in RASTER.items() if f == found), None)
                return (f"it is a {found} image, not {expected}" if named is None else
                        f"it is a {found} image, not {expected} (rename it to {named})")
            if width * height > MAX_PIXELS:
                return (f"it is too large ({width} × {height} pixels; the limit is "
                        f"{MAX_PIXELS // 1_000_000} million pixels)")
            image.load()  # decodes every pixel: a truncated or damaged file fails here
    except UnidentifiedImageError:
        return f"the file is not a {expected} image"
    except Image.DecompressionBombError:
        return f"it is too large (the limit is {MAX_PIXELS // 1_000_000} million pixels)"
    except (OSError, SyntaxError, ValueError) as exc:
        return f"the {expected} image is damaged ({exc})"
    return None
