"""Shared fixtures: the repo's paths, the bundled samples with their truth, the model."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_images"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def sample_sheets() -> list[Path]:
    """Every bundled sample image that has a truth file beside it."""
    return sorted(p for p in SAMPLES.glob("*.jpg") if p.with_suffix(".json").is_file())


def load_truth(image: Path) -> dict:
    return json.loads(image.with_suffix(".json").read_text())


@pytest.fixture(scope="session")
def model():
    from digit_pipeline.model import load_model

    return load_model()


@pytest.fixture(scope="session")
def mnist():
    """MNIST test digits and labels from the committed fixture (200 of them)."""
    with np.load(FIXTURES / "mnist_small.npz") as data:
        return data["x_test"], data["y_test"]


PAPER, INK = 228, 40


def blank(width: int, height: int) -> np.ndarray:
    return np.full((height, width), PAPER, np.uint8)


def paste(page: np.ndarray, digit: np.ndarray, x: int, y: int, height: int) -> tuple:
    """Write an MNIST digit's ink at (x, y), ``height`` tall; return its ink box."""
    rows, cols = np.nonzero(digit.any(axis=1))[0], np.nonzero(digit.any(axis=0))[0]
    ink = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    width = max(1, round(ink.shape[1] * height / ink.shape[0]))
    alpha = cv2.resize(ink, (width, height), interpolation=cv2.INTER_CUBIC) / 255.0
    region = page[y : y + height, x : x + width].astype(np.float64)
    page[y : y + height, x : x + width] = np.minimum(
        region, PAPER * (1 - alpha) + INK * alpha
    ).astype(np.uint8)
    return (x, y, width, height)


def line_of_digits(mnist, indices, gap: int, height: int = 80, margin: int = 40):
    x_test, y_test = mnist
    page = blank(margin * 2 + len(indices) * (height + gap), height + 2 * margin)
    boxes, x = [], margin
    for i in indices:
        box = paste(page, x_test[i], x, margin, height)
        boxes.append(box)
        x = box[0] + box[2] + gap
    return page, boxes, [int(y_test[i]) for i in indices]
