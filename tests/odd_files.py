"""A corpus of odd and bad image files, generated (never hand-picked), with what must happen.

Each entry is ``OddFile(name, data, expect, digits)``: ``expect`` is ``"read"`` (decodes to an
upright RGB image) or ``"refused"`` (an ``ImageReadError`` with a sentence); ``digits`` is how
many digits the default pipeline must find on a readable one (None: no claim).
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

PAPER, INK = 232, 35


@dataclass(frozen=True)
class OddFile:
    name: str
    data: bytes
    expect: str
    digits: int | None = None


def sheet(mnist, count: int = 3, height: int = 90) -> np.ndarray:
    """A grey page with ``count`` MNIST test digits in a row (dark ink on light paper)."""
    x_test, _ = mnist
    page = np.full((height + 80, 40 + count * (height + 30)), PAPER, np.uint8)
    for k in range(count):
        digit = cv2.resize(x_test[k], (height, height), interpolation=cv2.INTER_CUBIC) / 255.0
        x = 40 + k * (height + 30)
        region = page[40 : 40 + height, x : x + height]
        page[40 : 40 + height, x : x + height] = (region * (1 - digit) + INK * digit).astype(
            np.uint8
        )
    return page


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG signature and IHDR claiming ``width`` x ``height``, with no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    chunk += struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk


def corpus(mnist) -> list[OddFile]:
    gray = sheet(mnist)
    rgb = Image.fromarray(np.stack([gray] * 3, axis=-1))
    files = [
        OddFile("rgb.png", encode(rgb, "PNG"), "read", 3),
        OddFile("gray.png", encode(Image.fromarray(gray), "PNG"), "read", 3),
        OddFile("palette.png", encode(rgb.convert("P", palette=Image.ADAPTIVE), "PNG"), "read", 3),
        OddFile(
            "gray16.png",
            encode(Image.fromarray(gray.astype(np.uint16) * 257), "PNG"),
            "read",
            3,
        ),
        OddFile(
            "gray16.tiff",
            encode(Image.fromarray(gray.astype(np.uint16) * 257), "TIFF"),
            "read",
            3,
        ),
        OddFile("cmyk.jpg", encode(rgb.convert("CMYK"), "JPEG", quality=92), "read", 3),
        OddFile("sheet.webp", encode(rgb, "WEBP", quality=90), "read", 3),
        OddFile("sheet.bmp", encode(rgb, "BMP"), "read", 3),
        OddFile(
            "two_pages.tiff",
            encode(rgb, "TIFF", save_all=True, append_images=[rgb.rotate(90, expand=True)]),
            "read",
            3,
        ),
    ]
    # Transparent paper with opaque ink: transparency must count as white paper.
    alpha = np.where(gray < 200, 255, 0).astype(np.uint8)
    rgba = np.dstack([np.zeros_like(gray)] * 3 + [alpha])
    files.append(
        OddFile("transparent.png", encode(Image.fromarray(rgba, "RGBA"), "PNG"), "read", 3)
    )
    # A phone photo stored sideways with an EXIF orientation tag (6 = rotate 90° to view).
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways = rgb.rotate(90, expand=True)
    files.append(OddFile("exif_rotated.jpg", encode(sideways, "JPEG", exif=exif), "read", 3))
    # Chalk on a blackboard.
    files.append(OddFile("dark_paper.png", encode(Image.fromarray(255 - gray), "PNG"), "read"))
    # Tiny, a single digit filling the frame, blank, and noise.
    files.append(
        OddFile("tiny_20x20.png", encode(Image.fromarray(gray[40:60, 40:60]), "PNG"), "read")
    )
    one = 255 - mnist[0][0]
    files.append(OddFile("one_digit_28x28.png", encode(Image.fromarray(one), "PNG"), "read", 1))
    files.append(
        OddFile(
            "blank.png",
            encode(Image.fromarray(np.full((300, 400), 240, np.uint8)), "PNG"),
            "read",
            0,
        )
    )
    noise = np.random.default_rng(7).integers(0, 256, (600, 800), dtype=np.uint8)
    files.append(OddFile("noise.png", encode(Image.fromarray(noise), "PNG"), "read"))
    # Files that must be refused with a sentence.
    png, jpg = encode(rgb, "PNG"), encode(rgb, "JPEG", quality=90)
    files += [
        OddFile("empty.png", b"", "refused"),
        OddFile("truncated.png", png[: len(png) // 2], "refused"),
        OddFile("truncated.jpg", jpg[: len(jpg) // 3], "refused"),
        OddFile("text.png", b"just some text, renamed\n" * 20, "refused"),
        OddFile("document.png", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "refused"),
        OddFile("page.png", b"<!DOCTYPE html><html><body>hello</body></html>", "refused"),
        OddFile(
            "random.jpg",
            np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8).tobytes(),
            "refused",
        ),
        OddFile("bomb.png", png_header_only(40_000, 40_000), "refused"),
    ]
    return files
