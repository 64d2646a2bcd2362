"""Tests for digit_pipeline.io.images: formats, modes, EXIF orientation and refusals."""

from __future__ import annotations

import io
import re
import struct
import time
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image

from digit_pipeline.io.images import MAX_PIXELS, ImageReadError, decode_image, read_image


def _encode(img: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def _pattern(height: int = 20, width: int = 30) -> np.ndarray:
    """A smooth RGB pattern (survives lossy formats) with a black square in it."""
    rows, cols = np.indices((height, width))
    rgb = np.dstack([rows * 255 // height, cols * 255 // width, np.full_like(rows, 200)])
    rgb = rgb.astype(np.uint8)
    rgb[5:12, 5:12] = 0
    return rgb


def _assert_rgb(array: np.ndarray, height: int, width: int) -> None:
    assert isinstance(array, np.ndarray)
    assert array.shape == (height, width, 3)
    assert array.dtype == np.uint8
    assert array.flags.c_contiguous


def _one_sentence_naming(message: str, name: str) -> None:
    assert message.startswith(name + " ")
    assert message.endswith(".")
    body = message[len(name) : -1]
    assert "\n" not in message
    assert not re.search(r"[.!?]\s", body), message  # no second sentence


# ---- formats -----------------------------------------------------------------------------

FORMATS = {
    "png": ("PNG", {}, 0),
    "jpeg": ("JPEG", {"quality": 95}, 12),
    "webp-lossless": ("WEBP", {"lossless": True}, 0),
    "webp-lossy": ("WEBP", {"quality": 95}, 20),
    "bmp": ("BMP", {}, 0),
    "tiff": ("TIFF", {}, 0),
    "tiff-lzw": ("TIFF", {"compression": "tiff_lzw"}, 0),
}


@pytest.mark.parametrize(("fmt", "options", "tolerance"), list(FORMATS.values()), ids=list(FORMATS))
def test_decode_rgb_formats(fmt, options, tolerance):
    rgb = _pattern()
    out = decode_image(_encode(Image.fromarray(rgb), fmt, **options), f"x.{fmt.lower()}")
    _assert_rgb(out, 20, 30)
    error = np.abs(out.astype(int) - rgb.astype(int))
    assert error.max() <= tolerance if tolerance == 0 else error.mean() <= tolerance


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"], ids=["png", "webp", "tiff"])
def test_rgba_transparent_background_becomes_white(fmt):
    rgba = np.zeros((10, 12, 4), np.uint8)  # transparent black
    rgba[2:6, 3:8] = (0, 0, 0, 255)  # an opaque black "stroke"
    rgba[7:9, 1:4] = (255, 0, 0, 255)  # an opaque red mark
    options = {"lossless": True} if fmt == "WEBP" else {}
    out = decode_image(_encode(Image.fromarray(rgba, "RGBA"), fmt, **options))
    _assert_rgb(out, 10, 12)
    transparent = rgba[..., 3] == 0
    assert (out[transparent] == 255).all()
    assert (out[2:6, 3:8] == 0).all()
    assert (out[7:9, 1:4] == (255, 0, 0)).all()


def test_half_transparent_black_is_mid_grey():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = 128
    out = decode_image(_encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert np.all(np.abs(out.astype(int) - 127) <= 1)


def test_palette_image():
    palette_image = Image.fromarray(_pattern()).quantize(16)
    assert palette_image.mode == "P"
    expected = np.asarray(palette_image.convert("RGB"))
    out = decode_image(_encode(palette_image, "PNG"))
    _assert_rgb(out, 20, 30)
    assert np.array_equal(out, expected)


def test_palette_transparency_becomes_white():
    palette_image = Image.new("P", (6, 5), 0)
    palette_image.putpalette([0, 0, 0, 255, 0, 0] + [0] * (256 * 3 - 6))
    palette_image.putpixel((2, 2), 1)
    out = decode_image(_encode(palette_image, "PNG", transparency=0))
    _assert_rgb(out, 5, 6)
    assert out[2, 2].tolist() == [255, 0, 0]
    assert (out[0, 0] == 255).all()
    assert int((out == 255).all(axis=2).sum()) == 29


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "TIFF"], ids=["png", "jpeg", "bmp", "tiff"])
def test_grey_l_image_repeats_into_three_channels(fmt):
    gray = np.tile(np.arange(0, 250, 10, dtype=np.uint8), (8, 1))
    out = decode_image(_encode(Image.fromarray(gray, "L"), fmt))
    _assert_rgb(out, 8, 25)
    assert np.array_equal(out[..., 0], out[..., 1])
    assert np.array_equal(out[..., 0], out[..., 2])
    tolerance = 4 if fmt == "JPEG" else 0
    assert np.abs(out[..., 0].astype(int) - gray).max() <= tolerance


def test_la_image_transparent_is_white():
    la = np.zeros((4, 5, 2), np.uint8)
    la[1, 1] = (0, 255)
    out = decode_image(_encode(Image.fromarray(la, "LA"), "PNG"))
    _assert_rgb(out, 4, 5)
    assert out[1, 1].tolist() == [0, 0, 0]
    assert int((out == 255).all(axis=2).sum()) == 19


def test_sixteen_bit_grey_png_is_scaled_to_8_bits():
    values = np.array([[0, 1000, 30000], [40000, 50000, 65535]], np.uint16)
    img = Image.fromarray(values)
    assert img.mode == "I;16"
    data = _encode(img, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")  # really stored as 16-bit
    out = decode_image(data)
    _assert_rgb(out, 2, 3)
    grey = out[..., 0].astype(int)
    assert np.array_equal(out[..., 0], out[..., 1])
    assert np.array_equal(out[..., 0], out[..., 2])
    assert grey[0, 0] == 0 and grey[1, 2] == 255
    # Monotonic, and proportional to the 16-bit value.
    assert np.all(np.diff(grey.ravel()) > 0)
    assert np.abs(grey - values.astype(float) * 255 / 65535).max() <= 1


@pytest.mark.parametrize("value", [65535, 50000], ids=["white", "light-grey"])
def test_uniform_sixteen_bit_page_keeps_its_brightness(value):
    img = Image.fromarray(np.full((6, 7), value, np.uint16))
    out = decode_image(_encode(img, "PNG"))
    _assert_rgb(out, 6, 7)
    assert np.abs(out.astype(int) - round(value * 255 / 65535)).max() <= 1


@pytest.mark.parametrize(
    ("cmyk", "rgb"),
    [((0, 0, 0, 0), 255), ((0, 0, 0, 255), 0), ((0, 0, 0, 128), 127)],
    ids=["white", "black", "grey"],
)
def test_cmyk_jpeg(cmyk, rgb):
    img = Image.new("CMYK", (9, 7), cmyk)
    data = _encode(img, "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    out = decode_image(data)
    _assert_rgb(out, 7, 9)
    assert np.abs(out.astype(int) - rgb).max() <= 3


def test_multi_page_tiff_gives_first_page():
    first = Image.new("L", (7, 5), 0)
    second = Image.new("L", (9, 9), 255)
    data = _encode(first, "TIFF", save_all=True, append_images=[second])
    out = decode_image(data)
    _assert_rgb(out, 5, 7)
    assert not out.any()


# ---- EXIF orientation --------------------------------------------------------------------


def _oriented_jpeg(orientation: int) -> tuple[bytes, np.ndarray]:
    """A 40x20 (W x H) JPEG with a white left band, tagged with ``orientation``."""
    rgb = np.zeros((20, 40, 3), np.uint8)
    rgb[:, :8] = 255
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _encode(Image.fromarray(rgb), "JPEG", exif=exif, quality=95), rgb


@pytest.mark.parametrize(
    ("orientation", "shape", "band"),
    [
        (1, (20, 40), (slice(None), slice(0, 8))),  # as stored: band on the left
        (3, (20, 40), (slice(None), slice(32, 40))),  # rotated 180: band on the right
        (6, (40, 20), (slice(0, 8), slice(None))),  # rotate 90 CW: left band goes to the top
        (8, (40, 20), (slice(32, 40), slice(None))),  # rotate 90 CCW: left band to the bottom
    ],
    ids=["1-upright", "3-180", "6-cw", "8-ccw"],
)
def test_exif_orientation_is_applied(orientation, shape, band):
    data, _ = _oriented_jpeg(orientation)
    out = decode_image(data, "photo.jpg")
    _assert_rgb(out, *shape)
    white = np.zeros(shape, bool)
    white[band] = True
    grey = out.mean(axis=2)
    assert grey[white].mean() > 240
    assert grey[~white].mean() < 15


# ---- refusals ----------------------------------------------------------------------------


def _png_with_size(width: int, height: int) -> bytes:
    """A valid 4x4 PNG whose IHDR (with a fixed CRC) claims ``width`` x ``height``."""
    data = _encode(Image.new("L", (4, 4), 255), "PNG")
    assert data[12:16] == b"IHDR"
    chunk = bytearray(data[12:29])  # type + 13 bytes of IHDR data
    chunk[4:12] = struct.pack(">II", width, height)
    crc = struct.pack(">I", zlib.crc32(bytes(chunk)))
    return data[:12] + bytes(chunk) + crc + data[33:]


def _bad_inputs() -> dict[str, bytes]:
    rng = np.random.default_rng(20)
    png = _encode(Image.fromarray(_pattern(64, 64)), "PNG")
    jpeg = _encode(Image.fromarray(_pattern(64, 64)), "JPEG")
    return {
        "zero-bytes": b"",
        "random-bytes": rng.bytes(1000),
        "random-bytes-small": rng.bytes(7),
        "text-file": b"label,x,y\n7,10,20\nThis is not an image.\n" * 20,
        "truncated-png": png[: len(png) // 2],
        "truncated-jpeg": jpeg[: len(jpeg) // 2],
        "png-signature-then-garbage": b"\x89PNG\r\n\x1a\n" + rng.bytes(300),
        "jpeg-marker-then-garbage": b"\xff\xd8\xff" + rng.bytes(300),
        "bmp-header-only": b"BM" + rng.bytes(60),
    }


BAD_INPUTS = _bad_inputs()


@pytest.mark.parametrize("data", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_bad_bytes_are_refused_with_one_sentence(data):
    name = "upload 7.png"
    with pytest.raises(ImageReadError) as caught:
        decode_image(data, name)
    assert isinstance(caught.value, ValueError)
    _one_sentence_naming(str(caught.value), name)


def test_zero_bytes_message():
    with pytest.raises(ImageReadError, match=r"^empty\.png is empty \(0 bytes\)\.$"):
        decode_image(b"", "empty.png")


def test_decode_default_name():
    with pytest.raises(ImageReadError, match=r"^image "):
        decode_image(b"not an image")


@pytest.mark.parametrize(
    ("width", "height"),
    [(20000, 20000), (12000, 10000), (MAX_PIXELS + 1, 1)],
    ids=["400MP", "120MP-just-over", "one-row"],
)
def test_huge_header_is_refused_fast_without_allocating(width, height):
    data = _png_with_size(width, height)
    assert len(data) < 200
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ImageReadError) as caught:
            decode_image(data, "huge.png")
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < 0.5
    assert peak < 5_000_000  # bytes; the image itself would be >= 100 MB
    message = str(caught.value)
    _one_sentence_naming(message, "huge.png")
    assert "too large" in message


def test_huge_header_message_states_the_apps_limit():
    with pytest.raises(ImageReadError) as caught:
        decode_image(_png_with_size(20000, 20000), "huge.png")
    message = str(caught.value)
    assert str(2 * MAX_PIXELS) not in message
    assert f"{MAX_PIXELS // 1_000_000} MP" in message or str(MAX_PIXELS) in message


def test_just_over_limit_message_states_the_apps_limit():
    with pytest.raises(ImageReadError) as caught:
        decode_image(_png_with_size(12000, 10000), "big.png")
    message = str(caught.value)
    assert f"{MAX_PIXELS // 1_000_000} MP" in message or str(MAX_PIXELS) in message


def test_crafted_header_is_a_valid_png_at_small_size():
    # The crafting helper itself is sound: unpatched size decodes fine.
    out = decode_image(_png_with_size(4, 4))
    _assert_rgb(out, 4, 4)
    assert (out == 255).all()


# ---- read_image --------------------------------------------------------------------------


def test_read_image_missing_path(tmp_path):
    missing = tmp_path / "nope" / "missing.png"
    with pytest.raises(ImageReadError) as caught:
        read_image(missing)
    _one_sentence_naming(str(caught.value), str(missing))


def test_read_image_directory_is_refused(tmp_path):
    with pytest.raises(ImageReadError):
        read_image(tmp_path)


def test_read_image_reads_a_file(tmp_path):
    path = tmp_path / "sheet.png"
    rgb = _pattern()
    Image.fromarray(rgb).save(path)
    out = read_image(path)
    assert np.array_equal(out, rgb)
    assert np.array_equal(read_image(str(path)), rgb)


def test_read_image_bad_file_names_the_path(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not a picture")
    with pytest.raises(ImageReadError) as caught:
        read_image(path)
    _one_sentence_naming(str(caught.value), str(path))
