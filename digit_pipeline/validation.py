"""The one validation helper family: every ``check_*`` of the package.

Stage parameters (:func:`check_image`, :func:`check_int`, :func:`check_float`) and the
saved dataset's digits, labels and sample ids (:func:`check_digits`, :func:`check_labels`,
:func:`check_id`), and a page's corners (:func:`check_corners`). Each raises ``ValueError``
naming the parameter and the bad value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from .aliases import DigitBatch
from .model.contract import MNIST_SIZE

SAMPLE_ID = re.compile(r"[0-9a-f]{16}")
"""A dataset sample id: the first 16 hex characters of the SHA-256 of the digit's bytes."""


def check_image(image: object, name: str = "image", *, allow_color: bool = True) -> np.ndarray:
    """Check that ``image`` is a non-empty uint8 image and return it.

    Parameters
    ----------
    image : object
        The value to check.
    name : str
        Parameter name used in the error message.
    allow_color : bool
        Accept (H, W, 3) and (H, W, 4) arrays as well as (H, W).

    Returns
    -------
    ndarray
        ``image`` itself (never copied).

    Raises
    ------
    ValueError
        If ``image`` is not an ndarray, not uint8, has the wrong number of dimensions
        or is empty.

    Examples
    --------
    >>> import numpy as np
    >>> check_image(np.zeros((2, 3), np.uint8)).shape
    (2, 3)
    >>> check_image(np.zeros((2, 3), np.float32))
    Traceback (most recent call last):
    ...
    ValueError: image must be uint8, got float32
    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8, got {image.dtype}")
    ok_ndim = image.ndim == 2 or (allow_color and image.ndim == 3 and image.shape[2] in (3, 4))
    if not ok_ndim:
        expected = "(H, W) or (H, W, 3|4)" if allow_color else "(H, W)"
        raise ValueError(f"{name} must have shape {expected}, got {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{name} must not be empty, got shape {image.shape}")
    return image


def check_int(  # Long: the numpydoc docstring with its doctests is most of it
    value: object,
    name: str,
    *,
    low: int | None = None,
    high: int | None = None,
    odd: bool = False,
    choices: Iterable[int] | None = None,
) -> int:
    """Check an integer parameter and return it as ``int``.

    Parameters
    ----------
    value : object
        The value to check; bools and non-integral numbers are refused.
    name : str
        Parameter name used in the error message.
    low, high : int, optional
        Inclusive bounds.
    odd : bool
        Require an odd value.
    choices : iterable of int, optional
        The only allowed values.

    Returns
    -------
    int
        The checked value.

    Raises
    ------
    ValueError
        Naming ``name`` and the bad value.

    Examples
    --------
    >>> check_int(5, "mask_size", low=1, odd=True)
    5
    >>> check_int(4, "mask_size", low=1, odd=True)
    Traceback (most recent call last):
    ...
    ValueError: mask_size must be odd and >= 1, got 4
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if choices is not None:
        allowed = tuple(choices)
        if value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {value}")
        return value
    bounds = []
    if low is not None:
        bounds.append(f">= {low}")
    if high is not None:
        bounds.append(f"<= {high}")
    text = ("odd and " if odd else "") + " and ".join(bounds)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be {text}, got {value}")
    if odd and value % 2 == 0:
        raise ValueError(f"{name} must be {text}, got {value}")
    return value


def check_float(
    value: object, name: str, *, low: float | None = None, high: float | None = None
) -> float:
    """Check a real-valued parameter (finite, inside inclusive bounds) and return it.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        Parameter name used in the error message.
    low, high : float, optional
        Inclusive bounds.

    Returns
    -------
    float
        The checked value.

    Raises
    ------
    ValueError
        Naming ``name`` and the bad value.

    Examples
    --------
    >>> check_float(2.5, "canny_multiplier", low=1.0, high=5.0)
    2.5
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return value


def check_digits(digits: object, name: str = "digits") -> DigitBatch:
    """Check a batch of MNIST-style digits and return it.

    Parameters
    ----------
    digits : object
        Should be an ndarray of shape (N, 28, 28), uint8.
    name : str
        Parameter name used in the error message.

    Returns
    -------
    ndarray of shape (N, 28, 28), uint8

    Raises
    ------
    ValueError
        Naming ``name`` and what is wrong.

    Examples
    --------
    >>> import numpy as np
    >>> check_digits(np.zeros((3, 28, 28), np.uint8)).shape
    (3, 28, 28)
    >>> check_digits(np.zeros((28, 28), np.uint8))
    Traceback (most recent call last):
    ...
    ValueError: digits must have shape (N, 28, 28), got (28, 28)
    """
    if not isinstance(digits, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(digits).__name__}")
    if digits.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8, got {digits.dtype}")
    if digits.ndim != 3 or digits.shape[1:] != (MNIST_SIZE, MNIST_SIZE):
        raise ValueError(f"{name} must have shape (N, 28, 28), got {digits.shape}")
    return digits


def check_corners(corners: object, name: str = "corners", *, min_area: float = 1.0) -> np.ndarray:
    """Check four finite (x, y) corners of a quadrilateral and return them as float32.

    Parameters
    ----------
    corners : object
        Anything ``numpy.asarray`` turns into shape (4, 2) of numbers.
    name : str
        Parameter name used in the error message.
    min_area : float
        The least area (square pixels) the corners, taken in their order, must enclose.

    Returns
    -------
    ndarray of shape (4, 2), float32
        A new array.

    Raises
    ------
    ValueError
        If the shape is wrong, a value is not a finite number, or the corners enclose
        less than ``min_area`` (by default: three or four of them on a line).

    Examples
    --------
    >>> check_corners([[0, 0], [10, 0], [10, 5], [0, 5]]).shape
    (4, 2)
    >>> check_corners([[0, 0], [10, 0], [20, 0], [0, 0]])
    Traceback (most recent call last):
    ...
    ValueError: corners must enclose an area, got [[0, 0], [10, 0], [20, 0], [0, 0]]
    """
    try:
        array = np.asarray(corners, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be 4 (x, y) points, got {corners!r}") from None
    if array.shape != (4, 2) or not np.isfinite(array).all():
        raise ValueError(f"{name} must be 4 finite (x, y) points, got {corners!r}")
    x, y = array[:, 0], array[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    if area < min_area:
        shown = array.astype(int).tolist() if np.all(array == np.rint(array)) else corners
        raise ValueError(f"{name} must enclose an area, got {shown!r}")
    return array.astype(np.float32)


def check_labels(labels: object, n: int, name: str = "labels") -> list[int]:
    """Check ``n`` digit labels (0..9) and return them as ints.

    Parameters
    ----------
    labels : object
        A sequence of integers (numpy integers are fine, bools are not).
    n : int
        How many there must be.
    name : str
        Parameter name used in the error message.

    Returns
    -------
    list of int

    Raises
    ------
    ValueError
        Naming ``name`` and what is wrong.

    Examples
    --------
    >>> check_labels([4, 6, 2], 3)
    [4, 6, 2]
    >>> check_labels([4, 16], 2)
    Traceback (most recent call last):
    ...
    ValueError: labels[1] must be >= 0 and <= 9, got 16
    >>> check_labels([4], 2)
    Traceback (most recent call last):
    ...
    ValueError: labels must have one entry per digit: got 1 for 2
    """
    if isinstance(labels, str | bytes) or not hasattr(labels, "__len__"):
        raise ValueError(f"{name} must be a sequence of int, got {type(labels).__name__}")
    if len(labels) != n:
        raise ValueError(f"{name} must have one entry per digit: got {len(labels)} for {n}")
    return [check_int(v, f"{name}[{i}]", low=0, high=9) for i, v in enumerate(labels)]


def check_id(sample_id: object, name: str = "sample_id") -> str:
    """Check a sample id (16 lowercase hex characters) and return it.

    Raises
    ------
    ValueError
        Naming ``name`` and the bad value; ids never hold path separators.

    Examples
    --------
    >>> check_id("../../etc/passwd")
    Traceback (most recent call last):
    ...
    ValueError: sample_id must be 16 lowercase hex characters, got '../../etc/passwd'
    """
    if not isinstance(sample_id, str) or not SAMPLE_ID.fullmatch(sample_id):
        raise ValueError(f"{name} must be 16 lowercase hex characters, got {sample_id!r}")
    return sample_id
