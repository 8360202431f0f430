"""The avatar images (backend.services.imaging, Pillow): decoding, limits, orientation, metadata."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from backend.services import imaging


def encoded(picture: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


def test_the_exif_orientation_is_applied_before_the_metadata_is_dropped() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90° clockwise: 600x300 stored, 300x600 seen
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 24.0)  # GPSLatitude
    picture = Image.new("RGB", (600, 300), "white")
    picture.paste(Image.new("RGB", (300, 300), "black"), (0, 0))  # the stored left half is black
    decoded = imaging._decode(encoded(picture, "JPEG", exif=exif))
    assert decoded.size == (300, 600)  # rotated as the camera meant
    assert decoded.getpixel((150, 50))[0] < 60  # the black half is on top now
    assert decoded.getpixel((150, 550))[0] > 200
    assert not decoded.getexif()
    assert not decoded.info


def test_transparency_is_kept_and_every_output_is_webp_of_its_size() -> None:
    picture = Image.new("RGBA", (100, 80), (255, 0, 0, 0))
    rendered = imaging.square_webps(encoded(picture, "PNG"), (64, 256))
    for size, data in rendered.items():
        image = Image.open(io.BytesIO(data))
        assert (image.format, image.size, image.mode) == ("WEBP", (size, size), "RGBA")


def test_pillows_bomb_limit_is_the_dimension_bound() -> None:
    assert Image.MAX_IMAGE_PIXELS == imaging.MAX_SIDE * imaging.MAX_SIDE == 4096 * 4096


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GIF89a" + b"\0" * 2000, "not a JPEG, PNG or WebP"),
        (encoded(Image.new("RGB", (16, 16)), "PNG"), "smaller than 32x32"),
        (encoded(Image.new("L", (4097, 32)), "PNG"), "larger than 4096x4096"),
        (encoded(Image.new("RGB", (64, 64)), "BMP"), "not a JPEG, PNG or WebP"),
    ],
)
def test_refusals_name_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(imaging.RejectedImage, match=reason):
        imaging.square_webps(data, (64,))


def test_an_animated_webp_is_refused() -> None:
    frames = [Image.new("RGB", (64, 64), color) for color in ("red", "blue")]
    data = encoded(frames[0], "WEBP", save_all=True, append_images=frames[1:])
    with pytest.raises(imaging.RejectedImage, match="animated"):
        imaging.square_webps(data, (64,))
