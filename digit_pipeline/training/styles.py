"""Writing styles MNIST lacks, taught to a trained model without making it forget.

MNIST was written by American high-school students and Census employees: its 1s are a
bare stroke and its 7s have no crossbar. Much of the world writes a 1 with a long flag
from its top (and sometimes a foot), which a model trained on MNIST alone reads as a 7.
:func:`writing_styles` draws such 1s onto MNIST training 1s: a flag falling to the left
from the top at 40-65 degrees below the horizontal, 0.3-0.6 of the digit's height long,
as thick as the stroke, and a foot on some; or a foot with a short flag.

:func:`teach_styles` fine-tunes a trained model on them **without changing what it
already does**: on the MNIST training images the targets are the model's own outputs
(self-distillation, "learning without forgetting"), on the new 1s the label 1; a few
epochs at a small learning rate. The reading's judge cuts and drops boxes on the
classifier's confidences, so a model retrained from scratch moves those decisions too;
this keeps them.

Never fitted, stopped or chosen on MNIST's test set: its accuracy is only measured.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..stages import resize_rois

_SCALE = 4
"""The 1s are drawn on MNIST digits enlarged this many times (112 px), then cut back."""


def _stroke(big: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int] | None:
    """Ink rows and columns of an enlarged digit, its height and stroke width; None if tiny."""
    rows, cols = np.nonzero(big > 100)
    if len(rows) < 20:
        return None
    height = int(rows.max() - rows.min())
    width = max(6, round(len(rows) / max(height, 1)))  # a 1's ink: its length x its width
    return rows, cols, height, width


def _line(
    canvas: np.ndarray, start: tuple[float, float], length: float, angle: float, width: int
) -> None:
    """Draw a stroke from ``start`` to the lower left (``angle`` degrees below horizontal)."""
    radians = np.deg2rad(angle)
    end = (start[0] - length * np.cos(radians), start[1] + length * np.sin(radians))
    cv2.line(canvas, tuple(map(round, start)), tuple(map(round, end)), 255, width, cv2.LINE_AA)


def styled_one(
    digit: np.ndarray,
    rng: np.random.Generator,
    footed: bool = False,
    flag: tuple[float, float] = (0.3, 0.6),
):
    """Return an MNIST 1 enlarged, with a flag (and maybe a foot), or None if too small.

    ``footed``: a foot across the bottom and a short flag; else a long flag (``flag``: its
    length's range, in the digit's heights) and, one time in three, a foot.
    """
    big = cv2.resize(digit, None, fx=_SCALE, fy=_SCALE, interpolation=cv2.INTER_CUBIC)
    found = _stroke(big)
    if found is None:
        return None
    rows, cols, height, width = found
    top = (float(np.mean(cols[rows <= rows.min() + 3])), float(rows.min() + 2))
    bottom = (float(np.mean(cols[rows >= rows.max() - 3])), float(rows.max() - 1))
    length = rng.uniform(0.15, 0.35) if footed else rng.uniform(*flag)
    _line(big, top, length * height, rng.uniform(40, 65), width)
    if footed or rng.random() < 1 / 3:
        half = rng.uniform(0.25, 0.45) * height
        _line(big, (bottom[0] + half, bottom[1]), 2 * half, 0.0, width)
    if rng.random() < 0.5:  # a marker's stroke: bolder, as the base model's training had
        side = int(rng.integers(3, 12))
        big = cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    return np.where(big > 100, 255, 0).astype(np.uint8)


def writing_styles(
    x: np.ndarray, y: np.ndarray, flagged: int, footed: int, seed: int = 0
) -> np.ndarray:
    """Make ``flagged`` flagged 1s and ``footed`` footed 1s from the 1s of ``x``.

    Parameters
    ----------
    x : ndarray of shape (N, 28, 28), uint8
        MNIST training digits.
    y : ndarray of shape (N,)
        Their labels.
    flagged, footed : int
        How many of each (a 1 too small to draw on is skipped).
    seed : int

    Returns
    -------
    ndarray of shape (M, 28, 28), uint8
        MNIST-style (:func:`~digit_pipeline.stages.resize_rois`), all of them 1s.

    Examples
    --------
    >>> import numpy as np
    >>> one = np.zeros((28, 28), np.uint8); one[4:24, 13:16] = 255
    >>> writing_styles(np.stack([one] * 3), np.array([1, 1, 1]), 2, 1).shape
    (3, 28, 28)
    """
    rng = np.random.default_rng(seed)
    ones = np.flatnonzero(np.asarray(y) == 1)
    if len(ones) == 0:
        raise ValueError("writing_styles needs MNIST 1s to draw on; the labels hold none")
    made = [styled_one(x[k], rng) for k in rng.choice(ones, flagged)]
    made += [styled_one(x[k], rng, footed=True) for k in rng.choice(ones, footed)]
    return resize_rois([m for m in made if m is not None])


def teach_styles(  # Long: the numpydoc docstring is half of it
    base: str | Path,
    out: str | Path,
    *,
    data: str | Path | None = None,
    flagged: int = 2000,
    footed: int = 500,
    epochs: int = 2,
    learning_rate: float = 1e-4,
    seed: int = 0,
) -> dict[str, Any]:
    """Fine-tune the model in ``base`` on :func:`writing_styles`; write it to ``out``.

    The validation split is the one :func:`~digit_pipeline.training.train.train`
    cuts with seed 0 (6 000 training images, a fifth of fewer), so its accuracy compares
    with the base model's card. The card beside ``out`` is the base's, with ``styles`` (what was
    taught and how), the new validation and MNIST test accuracies and the command.

    Parameters
    ----------
    base, out : path-like
        ``.keras`` files; ``out`` must not exist.
    data : path-like, optional
        MNIST ``.npz`` (``keras.datasets.mnist`` layout); the Keras loader if omitted.
    flagged, footed : int
        How many styled 1s of each kind.
    epochs : int
    learning_rate : float
        Adam's.
    seed : int

    Returns
    -------
    dict
        The card written.
    """
    from ..model import _keras, load_card, load_model, predict_proba
    from .data import load_mnist, validation_split
    from .evaluation import evaluate

    out = Path(out)
    if out.exists():
        raise ValueError(f"{out} exists; teach-styles writes a new file")
    if out.suffix != ".keras":
        raise ValueError(f"{out} must end in .keras")
    keras = _keras()
    keras.utils.set_random_seed(seed)
    (x, y), (x_test, y_test) = load_mnist(data)
    val, fit = validation_split(len(x))
    model = load_model(base)
    before = evaluate(model, x[val], y[val]).accuracy
    styled = writing_styles(x[fit], y[fit], flagged, footed, seed)
    targets = np.concatenate([predict_proba(model, x[fit]), np.eye(10)[np.ones(len(styled), int)]])
    images = np.concatenate([x[fit], styled]).astype(np.float32) / 255.0
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy")
    start = time.perf_counter()
    model.fit(images, targets.astype(np.float32), batch_size=128, epochs=epochs, verbose=2)
    seconds = time.perf_counter() - start
    card = dict(load_card(base))
    card.update(
        {
            "name": out.stem,
            "styles": {
                "base_model": str(base),
                "flagged_ones": flagged,
                "footed_ones": footed,
                "made": len(styled),
                "epochs": epochs,
                "learning_rate": learning_rate,
                "seed": seed,
                "targets": "the base model's outputs on MNIST's training images; 1 on "
                "the styled 1s",
                "validation_accuracy_before": before,
                "train_seconds": round(seconds, 1),
            },
            "best_val_accuracy": evaluate(model, x[val], y[val]).accuracy,
            "mnist_test_accuracy": evaluate(model, x_test, y_test).accuracy,
            "command": " && ".join(
                c
                for c in (
                    card_command(base),
                    styles_command(base, out, data, flagged, footed, epochs, learning_rate, seed),
                )
                if c
            ),
        }
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    return card


def card_command(base: str | Path) -> str:
    """Return the command that built ``base`` (from its card), or ""."""
    from ..model import load_card

    command = load_card(base).get("command", "")
    return command if isinstance(command, str) else ""


def styles_command(base, out, data, flagged, footed, epochs, learning_rate, seed) -> str:
    """Return the ``teach-styles`` command line that makes ``out`` from ``base``."""
    line = f"python -m digit_pipeline teach-styles --model {base} --out {out}"
    line += f" --flagged {flagged} --footed {footed} --epochs {epochs}"
    line += f" --learning-rate {learning_rate:g} --seed {seed}"
    return line + (f" --data {data}" if data else "")
