"""The one validation helper family used by every stage."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


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


def check_int(
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
