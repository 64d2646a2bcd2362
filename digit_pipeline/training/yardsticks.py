"""The digits a classifier is measured on: MNIST test, other writers' real digits, real photos.

A *yardstick* is a set of 28×28 digits with their labels, made the way the reader makes a
sheet's digits, so that a model's figure on it says how it reads real ink:

- an MNIST ``.npz`` (the ``keras.datasets`` layout): its test split, as it is;
- an ``.npz`` of other digits with keys ``x`` and ``y`` (USPS's 16×16 zip-code digits,
  ``../shared/data/usps_train.npz``): each digit goes through the reader's own
  :func:`~digit_pipeline.stages.resize_rois`, as a box cut from a sheet does;
- a folder of real photos with a file of their true boxes
  (``benchmarks/data/real_dev_boxes.json`` for ``../shared/data/real_dev``): each box cut
  from its photo as :func:`~digit_pipeline.reading.pipeline.cut_digits` cuts a sheet's box.

For measuring and comparing models only: nothing here is ever trained or early-stopped on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..model import INPUT_SHAPE

__all__ = [
    "KINDS",
    "REAL_DEV_BOXES",
    "Yardstick",
    "available",
    "load_yardstick",
    "real_digits",
    "yardstick_of",
]

REAL_DEV_BOXES = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "real_dev_boxes.json"
"""The true boxes of real_dev's 217 digits (boxed once, checked by eye; no images)."""


@dataclass(frozen=True)
class Yardstick:
    """Digits and labels to measure a classifier on, and what they are.

    ``x``: uint8 ``(N, 28, 28)``, white on black; ``y``: ``(N,)`` labels 0–9.
    """

    name: str
    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:  # noqa: D105
        return len(self.y)


def load_yardstick(path: str | os.PathLike[str]) -> Yardstick:
    """Load the digits of an ``.npz``: MNIST's test split, or other digits made MNIST-like.

    Parameters
    ----------
    path : path-like
        An ``.npz`` with ``x_test, y_test`` (MNIST's layout: the test split is taken), or
        with ``x, y`` (any square or rectangular white-on-black digits: each is cut to
        MNIST's 28×28 by :func:`~digit_pipeline.stages.resize_rois`).

    Returns
    -------
    Yardstick
        Named "MNIST test", or by the file's stem.

    Raises
    ------
    ValueError
        If the file holds neither layout, or its arrays do not match.
    OSError
        If it cannot be read.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> x = np.zeros((2, 16, 16), np.uint8); x[:, 2:14, 7:9] = 255       # two 1s, USPS-sized
    >>> path = os.path.join(tempfile.mkdtemp(), "ones.npz")
    >>> np.savez(path, x=x, y=np.array([1, 1]))
    >>> stick = load_yardstick(path)
    >>> stick.x.shape, stick.y.tolist(), int(stick.x[0].any(axis=1).sum())
    ((2, 28, 28), [1, 1], 20)
    """
    from ..stages import resize_rois

    with np.load(path, allow_pickle=False) as data:
        files = set(data.files)
        if {"x_test", "y_test"} <= files:
            x, y, made = data["x_test"], data["y_test"], False
        elif {"x", "y"} <= files:
            x, y, made = data["x"], data["y"], True
        else:
            raise ValueError(
                f"{path} holds neither MNIST's x_test/y_test nor digits as x/y "
                f"(it has {sorted(files)})"
            )
    if x.ndim != 3 or len(x) != len(y) or x.dtype != np.uint8:
        raise ValueError(
            f"{path}: x must be uint8 (N, H, W) with N labels, got {x.dtype} {x.shape}"
        )
    if made and x.shape[1:] != INPUT_SHAPE:
        x = resize_rois(list(x))
    y = np.asarray(y).astype(np.int64).ravel()
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise ValueError(f"{path}: labels must be 0-9")
    return Yardstick(Path(path).stem if made else "MNIST test", x, y)


def real_digits(
    folder: str | os.PathLike[str], boxes: str | os.PathLike[str] = REAL_DEV_BOXES
) -> Yardstick:
    """Cut the digits of real photos at their true boxes, as the reader cuts a sheet's boxes.

    Parameters
    ----------
    folder : path-like
        The photos (``../shared/data/real_dev``).
    boxes : path-like
        A JSON list of ``{"file", "digits": [{"box": [x, y, w, h], "label"}]}``, boxes in
        the pixels :func:`~digit_pipeline.io.images.read_image` gives (EXIF applied).

    Returns
    -------
    Yardstick
        One digit per box, photo after photo, in the file's order.

    Raises
    ------
    ValueError
        If the boxes file is not such a list.
    OSError
        If a photo or the file cannot be read.
    """
    from ..io.images import read_image
    from ..reading.params import PipelineParams
    from ..reading.pipeline import cut_digits
    from ..reading.prepared import prepare

    entries = json.loads(Path(boxes).read_text(encoding="utf-8"))
    if not isinstance(entries, list) or not all("file" in e and "digits" in e for e in entries):
        raise ValueError(f"{boxes} must be a list of objects with 'file' and 'digits'")
    params = PipelineParams()
    xs, ys = [], []
    for entry in entries:
        image = read_image(Path(folder) / entry["file"])
        found = [tuple(int(v) for v in d["box"]) for d in entry["digits"]]
        _, digits = cut_digits(prepare(image, params), found, params)
        xs.append(digits)
        ys += [int(d["label"]) for d in entry["digits"]]
    x = np.concatenate(xs) if xs else np.zeros((0, *INPUT_SHAPE), np.uint8)
    return Yardstick(Path(folder).name, x, np.array(ys, np.int64))


SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
"""``../shared/data`` beside the checkout, where the team keeps MNIST, USPS and real_dev."""

KINDS = ("mnist", "digits", "real")
"""How a yardstick is loaded: MNIST's test split, an ``x, y`` file, real photos + boxes."""


def available(mnist: str = "", shared: Path = SHARED_DATA) -> dict[str, tuple[str, str]]:
    """List the yardsticks on this machine: ``{label: (kind, path)}`` for :func:`yardstick_of`.

    MNIST test always (``mnist``: its file, "" for Keras' loader); USPS's real digits and
    real_dev's digits at their true boxes when ``shared`` holds them.

    Examples
    --------
    >>> from pathlib import Path
    >>> list(available("", Path("/nowhere")))
    ['MNIST test']
    """
    found = {"MNIST test": ("mnist", mnist)}
    usps = shared / "usps_train.npz"
    if usps.is_file():
        found["USPS: other writers' real digits"] = ("digits", str(usps))
    real = shared / "real_dev"
    if (real / "truth.json").is_file() and REAL_DEV_BOXES.is_file():
        found["real_dev: photos' digits at their true boxes"] = ("real", str(real))
    return found


def yardstick_of(kind: str, path: str) -> Yardstick:
    """Load a yardstick of :data:`KINDS` from ``path`` ("" with ``mnist``: Keras' loader).

    Raises
    ------
    ValueError
        For an unknown kind, or a file of neither layout.
    OSError
        If the data cannot be read (MNIST not downloadable included).
    """
    if kind == "mnist":
        from .data import load_mnist

        _, (x, y) = load_mnist(path or None)
        return Yardstick("MNIST test", x, np.asarray(y).astype(np.int64))
    if kind == "digits":
        return load_yardstick(path)
    if kind == "real":
        return real_digits(path)
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
