"""Cut the small MNIST fixture used by the test suite.

Writes ``tests/fixtures/mnist_small.npz`` (``--out``) in the layout of ``mnist.npz``:
``x_train``/``y_train`` = the first 300 training images, ``x_test``/``y_test`` = the
first 200 test images (uint8, white digit on black), with ``np.savez_compressed``.

Usage::

    python scripts/make_fixtures.py                          # MNIST via keras
    python scripts/make_fixtures.py --data path/to/mnist.npz
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

N_TRAIN = 300
N_TEST = 200
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "mnist_small.npz"


def load_mnist(data: Path | None) -> dict[str, np.ndarray]:
    """Load full MNIST from `data` (an npz) or via ``keras.datasets.mnist.load_data()``.

    Parameters
    ----------
    data : Path or None
        A ``mnist.npz``; None downloads (or reuses keras' cache).

    Returns
    -------
    dict of str to ndarray
        ``x_train``, ``y_train``, ``x_test``, ``y_test``.
    """
    if data is not None:
        with np.load(data) as npz:
            return {k: npz[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    import keras  # imported lazily: only needed without --data

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def cut_fixture(mnist: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Return the first N_TRAIN training and N_TEST test images and labels.

    Parameters
    ----------
    mnist : dict of str to ndarray
        Full MNIST as returned by :func:`load_mnist`.

    Returns
    -------
    dict of str to ndarray
        Same keys, cut to the fixture size, uint8.
    """
    return {
        "x_train": np.ascontiguousarray(mnist["x_train"][:N_TRAIN], dtype=np.uint8),
        "y_train": np.ascontiguousarray(mnist["y_train"][:N_TRAIN], dtype=np.uint8),
        "x_test": np.ascontiguousarray(mnist["x_test"][:N_TEST], dtype=np.uint8),
        "y_test": np.ascontiguousarray(mnist["y_test"][:N_TEST], dtype=np.uint8),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, cut the fixture and write it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=None, help="local mnist.npz (default: keras download)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixture file to write")
    args = parser.parse_args(argv)
    fixture = cut_fixture(load_mnist(args.data))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **fixture)
    shapes = ", ".join(f"{k} {v.shape}" for k, v in fixture.items())
    print(f"{args.out}: {shapes}, {args.out.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
