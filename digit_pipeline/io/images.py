"""Decode user images safely into RGB arrays.

Every failure is an :class:`ImageReadError` (a ``ValueError``) with one sentence a user
can act on; decoding never raises anything else for bad bytes.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..aliases import ColorImage
from ..aliases import Image as ImageArray

MAX_PIXELS = 100_000_000
"""Images with more pixels than this (100 MP) are refused before decoding."""

Image.MAX_IMAGE_PIXELS = MAX_PIXELS

UPLOAD_TYPES = ("png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff")
"""File extensions the app's uploader accepts."""


class ImageReadError(ValueError):
    """An input could not be read as an image; the message says why in one sentence."""


def decode_image(data: bytes, name: str = "image") -> ColorImage:
    """Decode image bytes into an upright RGB array.

    EXIF orientation is applied; transparency counts as white paper; 16-bit and palette
    images are converted; a multi-page file gives its first page.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        Shown in error messages.

    Returns
    -------
    ndarray of shape (H, W, 3), uint8

    Raises
    ------
    ImageReadError
        If the bytes are empty, not an image, truncated, or too large.
    """
    if not data:
        raise ImageReadError(f"{name} is empty (0 bytes).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise ImageReadError(_too_big(name, img.width, img.height))
                img.seek(0)
                upright = ImageOps.exif_transpose(img)
                return _to_rgb(upright)
    except ImageReadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageReadError(
            f"{name} is too large: over the {MAX_PIXELS / 1e6:.0f} MP limit; it was not opened."
        ) from error
    except UnidentifiedImageError as error:
        raise ImageReadError(f"{name} is not an image this app can read.") from error
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ImageReadError(f"{name} could not be decoded ({error}).") from error


def page_count(data: bytes) -> int:
    """Return how many pages (frames) an image file holds; 0 if it cannot be opened.

    :func:`decode_image` reads the first page of a multi-page TIFF (or the first frame of
    an animation); this tells the caller to say so.
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            return int(getattr(img, "n_frames", 1))
    except Exception:  # any unreadable file: decode_image gives the message
        return 0


def read_image(path: str | os.PathLike[str]) -> ColorImage:
    """Read an image file into an upright RGB array (see :func:`decode_image`).

    Raises
    ------
    ImageReadError
        Also when the file cannot be opened.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImageReadError(f"{path} cannot be opened ({error.strerror or error}).") from error
    return decode_image(data, str(path))


def _too_big(name: str, width: int, height: int) -> str:
    return (
        f"{name} is too large: {width}x{height} ({width * height / 1e6:.0f} MP); "
        f"the limit is {MAX_PIXELS / 1e6:.0f} MP."
    )


def _to_rgb(img: Image.Image) -> ColorImage:
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        high = float(arr.max()) if arr.size else 0.0
        if img.mode == "F" and high <= 1.0:
            scaled = arr * 255.0  # floating point in [0, 1]
        elif high <= 255 and img.mode != "F" and not img.mode.startswith("I;16"):
            scaled = arr  # 32-bit integers holding 8-bit values
        elif high <= 65535:
            scaled = arr / 257.0  # 16-bit: keep absolute levels (a blank page stays white)
        else:
            low = float(arr.min())
            scaled = (arr - low) * (255.0 / (high - low)) if high > low else np.zeros_like(arr)
        gray = np.rint(np.clip(scaled, 0, 255)).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ImageReadError("the image has no pixels.")
    return np.ascontiguousarray(rgb)


# -- encoders: every image the package writes is encoded here --------------------------


def encode_png(image: ImageArray, compress_level: int = 6) -> bytes:
    """Encode a grey, RGB or RGBA uint8 image as PNG bytes (lossless).

    ``compress_level`` 0-9 trades size for speed (1: fast, for scratch files).

    Examples
    --------
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> a = np.arange(28 * 28, dtype=np.uint16).reshape(28, 28).astype(np.uint8)
    >>> bool((np.asarray(Image.open(io.BytesIO(encode_png(a)))) == a).all())
    True
    """
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, np.uint8)).save(
        buf, format="PNG", compress_level=compress_level
    )
    return buf.getvalue()


def encode_jpeg(image: ImageArray, quality: int) -> bytes:
    r"""Encode an RGB or grey image as JPEG bytes with Pillow (4:2:0 chroma, like a camera).

    Parameters
    ----------
    image : ndarray of shape (H, W, 3) or (H, W), uint8
        RGB or grey image.
    quality : int
        JPEG quality, 1-95.

    Returns
    -------
    bytes
        The JPEG file contents.

    Examples
    --------
    >>> import numpy as np
    >>> encode_jpeg(np.zeros((8, 8, 3), np.uint8), 80)[:2]
    b'\xff\xd8'
    """
    buf = io.BytesIO()
    picture = Image.fromarray(image) if image.ndim == 2 else Image.fromarray(image, mode="RGB")
    picture.save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue()
