"""The judge's second opinion: is a cut-out box one digit, several, or no digit at all.

A classifier trained on MNIST has only ten answers, and it gives one of them, often
surely, to whatever it is shown: two digits squeezed into one box, a stub of a ruled
line, a tuft of kraft-paper fibres, a cheque's guilloche. The *verifier* is a small CNN
with three answers — ``ONE``, ``SEVERAL``, ``NONE`` (:mod:`digit_pipeline.reading.judge`) —
trained on crops made the way the pipeline makes them (binary ink, cut with
:func:`~digit_pipeline.stages.resize_rois`):

- one digit: an MNIST training digit, enlarged and thresholded;
- several: two (sometimes three) MNIST training digits side by side, apart, touching
  or overlapping, of different sizes and heights, cut as one box;
- no digit: what paper puts in a box — rule fragments lying down, dotted and dashed
  lines, wavy guilloche lines, scattered specks and fibres, flat arcs, dashes and dots.
  (No page corners: a corner is shaped like a 7 written with a straight stem.)

:func:`~digit_pipeline.reading.judge.judge_reading` uses it to drop boxes that are no digit and to
split boxes that hold several. It never reads a digit: that stays the classifier's job.
The shipped verifier is ``models/judge/verifier.keras``; rebuild it with
``python -m digit_pipeline train-verifier --data ../shared/data/mnist.npz`` (the card's
``command`` is the exact line).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..model.contract import MNIST_SIZE
from ..reading.judge import ONE, SEVERAL
from ..stages import resize_rois

CLASSES = ("one digit", "several digits", "no digit")

_SCALE = 3
"""MNIST digits are enlarged this much before they are thresholded and combined."""


def _ink(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return an MNIST digit enlarged, reshaped, thresholded and cropped to its ink.

    The width is scaled by 0.6-1.8 against the height (a wide 2, a narrow 0: the shape
    of a box alone must not say "several"), the stroke thickened or thinned, and one
    digit in four gets a gap across a stroke (a pen lift, a broken pencil line) so that
    a digit in two pieces is still one digit.
    """
    fx = _SCALE * float(np.exp(rng.uniform(np.log(0.6), np.log(1.8))))
    big = cv2.resize(digit, None, fx=fx, fy=_SCALE, interpolation=cv2.INTER_CUBIC)
    ink = np.where(big >= rng.integers(60, 160), 255, 0).astype(np.uint8)
    stroke = rng.integers(-1, 3)
    if stroke:
        kernel = np.ones((2 * abs(stroke) + 1,) * 2, np.uint8)
        ink = (cv2.dilate if stroke > 0 else cv2.erode)(ink, kernel)
    if rng.random() < 0.25:
        angle = rng.uniform(0, np.pi)
        c = np.array(ink.shape[::-1]) * rng.uniform(0.3, 0.7, 2)
        d = 100 * np.array([np.cos(angle), np.sin(angle)])
        cv2.line(
            ink, tuple((c - d).astype(int)), tuple((c + d).astype(int)), 0, int(rng.integers(2, 7))
        )
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    if rows.size == 0:
        return np.full((8, 8), 255, np.uint8)
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def one_digit(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return a box holding one MNIST digit, as a binary ROI."""
    return _ink(digit, rng)


def several_digits(digits: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Return a box holding two or three MNIST digits side by side, as a binary ROI.

    Each next digit is scaled by 0.5-1.1, moved up or down by up to 0.3 of the first's
    height and placed from 0.25 of its width into the previous one (touching,
    overlapping) to 0.3 of the first's height apart.
    """
    first = _ink(digits[0], rng)
    height = first.shape[0]
    pieces, xs, ys = [first], [0], [0]
    right = first.shape[1]
    for digit in digits[1:]:
        ink = _ink(digit, rng)
        scale = rng.uniform(0.5, 1.1) * height / ink.shape[0]
        ink = cv2.resize(ink, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        gap = int(rng.uniform(-0.25 * ink.shape[1], 0.3 * height))
        xs.append(max(0, right + gap))
        ys.append(int(rng.uniform(-0.3, 0.3) * height + (height - ink.shape[0]) / 2))
        pieces.append(ink)
        right = xs[-1] + ink.shape[1]
    top = min(ys)
    ys = [y - top for y in ys]
    canvas = np.zeros(
        (
            max(y + p.shape[0] for y, p in zip(ys, pieces, strict=True)),
            max(x + p.shape[1] for x, p in zip(xs, pieces, strict=True)),
        ),
        np.uint8,
    )
    for x, y, piece in zip(xs, ys, pieces, strict=True):
        region = canvas[y : y + piece.shape[0], x : x + piece.shape[1]]
        np.maximum(region, piece, out=region)
    return canvas


def no_digit(rng: np.random.Generator) -> np.ndarray:
    """Return a box of what paper puts there besides digits, as a binary ROI (one of six kinds)."""
    size = 84
    canvas = np.zeros((size, size), np.uint8)
    kind = rng.integers(6)
    width = int(rng.integers(2, 9))
    if kind == 0:  # a rule's fragment lying down, maybe slanted or bent
        y = rng.uniform(0.3, 0.7) * size
        slope, bend = rng.uniform(-0.35, 0.35), rng.uniform(-0.004, 0.004)
        xs = np.arange(0, size)
        ys = y + slope * (xs - size / 2) + bend * (xs - size / 2) ** 2
        points = np.stack([xs, ys], 1).astype(np.int32)
        cv2.polylines(canvas, [points], False, 255, width)
    elif kind == 1:  # a dotted or dashed line, a row of a printed pattern
        y, step = rng.uniform(0.2, 0.8) * size, int(rng.integers(6, 16))
        slope, dash = rng.uniform(-0.3, 0.3), int(rng.integers(0, 5))
        for x in range(int(rng.integers(0, step)), size, step):
            y0 = int(y + slope * (x - size / 2))
            cv2.line(canvas, (x, y0), (x + dash, int(y0 + slope * dash)), 255, width)
    elif kind == 2:  # a guilloche: two to four wavy lines, parallel-ish
        phase, period = rng.uniform(0, 6.3), rng.uniform(20, 80)
        for k in range(rng.integers(2, 5)):
            y0 = rng.uniform(0.1, 0.9) * size
            xs = np.arange(0, size)
            ys = y0 + rng.uniform(4, 14) * np.sin(xs * 6.28 / period + phase + k)
            cv2.polylines(canvas, [np.stack([xs, ys], 1).astype(np.int32)], False, 255, 2)
    elif kind == 3:  # specks: a scatter of dots and short hairs
        for _ in range(rng.integers(4, 25)):
            x, y = rng.integers(0, size, 2)
            if rng.random() < 0.5:
                cv2.circle(canvas, (int(x), int(y)), int(rng.integers(1, 4)), 255, -1)
            else:
                dx, dy = rng.integers(-12, 13, 2)
                cv2.line(canvas, (int(x), int(y)), (int(x + dx), int(y + dy)), 255, 2)
    elif kind == 4:  # a flat arc: a piece of a stroke, a comma, a bracket lying down
        centre = (size // 2, int(rng.uniform(0.3, 0.7) * size))
        axes = (int(rng.uniform(0.3, 0.5) * size), int(rng.uniform(0.05, 0.2) * size))
        span = rng.uniform(60, 150)  # about the bottom or the top: never a standing bracket
        middle = rng.choice([90.0, 270.0]) + rng.uniform(-20, 20)
        cv2.ellipse(canvas, centre, axes, 0, middle - span / 2, middle + span / 2, 255, width)
    else:  # a short thick dash or a dot
        x, y = size // 2, size // 2
        length = int(rng.uniform(0.1, 0.45) * size)
        cv2.line(canvas, (x - length, y), (x + length, y), 255, width + 4)
        angle = rng.uniform(-30, 30)
        matrix = cv2.getRotationMatrix2D((x, y), angle, 1.0)
        canvas = cv2.warpAffine(canvas, matrix, (size, size), flags=cv2.INTER_NEAREST)
    if not canvas.any():
        canvas[size // 2, size // 2] = 255
    return canvas


def make_set(images: np.ndarray, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Make ``count`` verifier examples from MNIST ``images``, a third of each class.

    Parameters
    ----------
    images : ndarray of shape (N, 28, 28), uint8
        MNIST digits (training or validation, never the test set).
    count : int
    seed : int

    Returns
    -------
    digits : ndarray of shape (count, 28, 28), uint8
        Cut as the pipeline cuts a box (:func:`~digit_pipeline.stages.resize_rois`).
    labels : ndarray of shape (count,), int
        ``ONE``, ``SEVERAL`` or ``NONE`` (0, 1, 2).
    """
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % 3)
    rois = []
    for label in labels:
        if label == ONE:
            rois.append(one_digit(images[rng.integers(len(images))], rng))
        elif label == SEVERAL:
            n = 2 if rng.random() < 0.85 else 3
            rois.append(several_digits([images[i] for i in rng.integers(len(images), size=n)], rng))
        else:
            rois.append(no_digit(rng))
    return resize_rois(rois), labels.astype(np.int64)


def build_verifier(classes: int = len(CLASSES), name: str = "verifier") -> Any:
    """Build the verifier, a small CNN (also the shape of the judge's orientation model).

    ``[Conv(16)-ReLU-MaxPool] -> [Conv(32)-ReLU-MaxPool] -> Dense(64) -> Dense(classes)``.
    """
    from ..model import _keras

    keras = _keras()
    return keras.Sequential(
        [
            keras.Input(shape=(MNIST_SIZE, MNIST_SIZE)),
            keras.layers.Reshape((MNIST_SIZE, MNIST_SIZE, 1)),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(classes, activation="softmax"),
        ],
        name=name,
    )


def train_verifier(
    out: str | Path,
    data: str | Path | None = None,
    count: int = 120_000,
    epochs: int = 4,
    seed: int = 0,
) -> dict[str, Any]:
    """Train the verifier on examples made from MNIST's training digits and save it.

    The last 6 000 training digits (a tenth of a smaller file), which the verifier never
    trains on, make the validation examples; MNIST's test set is not used. They are not
    the classifiers' validation split (a seeded random draw): the classifiers trained on
    most of them.

    Parameters
    ----------
    out : path-like
        The ``.keras`` file; its card is written beside it (``.json``).
    data : path-like, optional
        A local ``mnist.npz``; default Keras's loader.
    count : int
        Training examples (validation: a tenth as many).
    epochs : int
    seed : int

    Returns
    -------
    dict
        The card.
    """
    return train_crops(
        "train-verifier", make_set, CLASSES, out, data, count, epochs, seed, "verifier"
    )


def train_crops(  # Long: the one training loop of the judge's crop models
    command: str,
    make: Any,
    classes: tuple[str, ...],
    out: str | Path,
    data: str | Path | None,
    count: int,
    epochs: int,
    seed: int,
    name: str,
    build: Any = None,
    labelled: bool = False,
    defaults: tuple[int, int] = (120_000, 4),
    measure: Any = None,
    decay: bool = False,
    fresh: bool = False,
) -> dict[str, Any]:
    """Train one of the judge's crop models (:func:`build_verifier`'s shape) and save it.

    ``make(images, count, seed)`` makes the examples (digits, labels) from MNIST training
    digits (``make(images, labels, count, seed)`` when ``labelled``): the last 6 000 (a
    tenth of a smaller file), which the model never trains on, make the validation
    examples; MNIST's test set is not used. ``command`` is the sub-command that rebuilds
    it (the card's ``command``, which names ``--count`` and ``--epochs`` where they are not
    its ``defaults``); ``build(classes, name)`` builds the model (default
    :func:`build_verifier`); ``measure(model, val_x, val_y)`` returns more figures on the
    validation examples for the card. ``decay``: Adam's learning rate falls from 1e-3 to
    1e-5 along a cosine over the epochs (else it stays at 1e-3). ``fresh``: every epoch
    after the first trains on ``count`` examples made anew (seed ``seed + 100 + epoch``),
    so that a model that can learn its examples by heart sees each one once.

    Returns
    -------
    dict
        The card, written beside ``out`` (``.json``).
    """
    from ..model import _keras
    from .data import load_mnist

    keras = _keras()
    keras.utils.set_random_seed(seed)
    (x_train, y_train), _ = load_mnist(data)
    held = min(6000, len(x_train) // 10)  # the model's own held-back digits
    train, val = (x_train[:-held],), (x_train[-held:],)
    if labelled:
        train, val = (*train, y_train[:-held]), (*val, y_train[-held:])
    train_x, train_y = make(*train, count, seed)
    val_x, val_y = make(*val, max(30, count // 10), seed + 1)
    model = (build or build_verifier)(len(classes), name)
    rate: Any = 1e-3
    if decay:
        steps = epochs * -(-len(train_y) // 128)
        rate = keras.optimizers.schedules.CosineDecay(1e-3, steps, alpha=0.01)
    model.compile(
        optimizer=keras.optimizers.Adam(rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    rounds = [(0, epochs)] if not fresh else [(e, e + 1) for e in range(epochs)]
    validation = (val_x.astype(np.float32) / 255.0, val_y)  # once, for every round
    for first, last in rounds:
        if first:
            print(f"{count} fresh examples for epoch {first + 1} of {epochs}", flush=True)
            train_x, train_y = make(*train, count, seed + 100 + first)
        history = model.fit(
            train_x.astype(np.float32) / 255.0,
            train_y,
            validation_data=validation,
            initial_epoch=first,
            epochs=last,
            batch_size=128,
            verbose=2,
        )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shipped = (build or build_verifier)(len(classes), name)  # never compiled: the file
    shipped.set_weights(model.get_weights())  # holds no optimizer state (a third the size)
    shipped.save(out)
    card = {
        "name": out.stem,
        "classes": list(classes),
        "input": f"(N, {', '.join(map(str, train_x.shape[1:]))}) float32 in [0, 1], white "
        "ink on black, cut as the pipeline cuts",
        "train_examples": int(count),
        "validation_examples": len(val_y),
        "validation_accuracy": round(float(history.history["val_accuracy"][-1]), 4),
        "epochs": epochs,
        "learning_rate": "Adam, cosine decay 0.001 -> 1e-05" if decay else "Adam, 0.001",
        "fresh_examples_each_epoch": fresh,
        "seed": seed,
        "train_seconds": round(time.perf_counter() - start, 1),
        "command": f"python -m digit_pipeline {command} --out {out}"
        + (f" --data {data}" if data else "")
        + (f" --count {count}" if count != defaults[0] else "")
        + (f" --epochs {epochs}" if epochs != defaults[1] else ""),
        "keras_version": keras.__version__,
    }
    if measure is not None:
        card.update(measure(shipped, val_x, val_y))
    out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    return card
