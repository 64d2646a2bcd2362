"""Type aliases shared by the whole package.

Boxes have one format everywhere: ``(x, y, w, h)`` in pixels of the original image,
``x, y`` the top-left corner. Reading order is lines top to bottom, left to right in a line.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

GrayImage = npt.NDArray[np.uint8]
"""A single-channel image, shape (H, W), uint8."""

ColorImage = npt.NDArray[np.uint8]
"""An RGB image, shape (H, W, 3), uint8."""

Image = GrayImage | ColorImage
"""Either of the above."""

DigitBatch = npt.NDArray[np.uint8]
"""MNIST-style digits, shape (N, 28, 28), uint8, white ink on black."""

Box = tuple[int, int, int, int]
"""``(x, y, w, h)`` in original-image pixels."""
