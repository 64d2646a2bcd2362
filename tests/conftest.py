"""Shared fixtures: the repo's paths, the bundled samples with their truth, the model."""

from __future__ import annotations

import json
from pathlib import Path

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
