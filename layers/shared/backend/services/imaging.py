"""Avatar images with Pillow: decode the real file, refuse what is not a safe picture, re-encode.

Only AvatarFunction imports this module: Pillow is in its own layer (layers/imaging), not in the
shared one. What is checked, in order:

- the bytes are decoded by Pillow, restricted to JPEG, PNG and WebP (``formats=``): the declared
  content type and the file name mean nothing; a text file called .png is refused;
- the header's dimensions are bounded (``MAX_SIDE``) and the pixel count is checked against
  ``MAX_PIXELS`` *before* any pixel is decoded, so a decompression bomb (a small file that claims
  huge dimensions) is refused without allocating its pixels; Pillow's own bomb check
  (``Image.MAX_IMAGE_PIXELS``, set to the same bound) is an error too, never a warning;
- animated images are refused (a single frame is all an avatar shows);
- the picture is fully decoded (``load()``), so a truncated or corrupt file is refused.

The output is made from the pixels alone, after applying the EXIF orientation: no EXIF (GPS
position, camera, time), no XMP, no ICC profile (converted to sRGB-as-is), nothing of the upload
but what it shows. Each size is a centre square crop, resized with Lanczos, saved as WebP.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS: Final = ("JPEG", "PNG", "WEBP")
MAX_SIDE: Final = 4096
MIN_SIDE: Final = 32
MAX_PIXELS: Final = MAX_SIDE * MAX_SIDE
WEBP_QUALITY: Final = 82

# Pillow warns above MAX_IMAGE_PIXELS and raises at twice it; here both are refusals.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class RejectedImage(ValueError):
    """The upload is not an acceptable picture (the message says why; it never echoes the input)."""


def square_webps(data: bytes, sizes: Iterable[int]) -> dict[int, bytes]:
    """The picture in ``data`` as square WebP images, one per size in px (metadata stripped)."""
    picture = _decode(data)
    square = ImageOps.fit(picture, (max(sizes), max(sizes)), method=Image.Resampling.LANCZOS)
    out: dict[int, bytes] = {}
    for size in sizes:
        resized = (
            square if square.size == (size, size) else square.resize((size, size), Image.Resampling.LANCZOS)
        )
        buffer = io.BytesIO()
        resized.save(buffer, format="WEBP", quality=WEBP_QUALITY, method=4)
        out[size] = buffer.getvalue()
    return out


def _decode(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            width, height = opened.size
            if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                raise RejectedImage(f"{width}x{height} px is larger than {MAX_SIDE}x{MAX_SIDE}")
            if width < MIN_SIDE or height < MIN_SIDE:
                raise RejectedImage(f"{width}x{height} px is smaller than {MIN_SIDE}x{MIN_SIDE}")
            if getattr(opened, "n_frames", 1) > 1:
                raise RejectedImage("animated images are not accepted")
            opened.load()
            oriented = ImageOps.exif_transpose(opened)
    except RejectedImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise RejectedImage("the image claims more pixels than allowed (decompression bomb)") from None
    except UnidentifiedImageError:
        raise RejectedImage("not a JPEG, PNG or WebP image") from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data
        raise RejectedImage(f"the image cannot be decoded ({type(exc).__name__})") from None
    mode = "RGBA" if oriented.mode in ("RGBA", "LA", "PA") or "transparency" in oriented.info else "RGB"
    # a new image from the pixels only: nothing of the upload's metadata (info, EXIF, ICC) follows
    pixels = oriented.convert(mode)
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    return clean
