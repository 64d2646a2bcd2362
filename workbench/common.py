"""Constants and small helpers every page shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from digit_pipeline.model import MODELS_DIR
from digit_pipeline.training.finetune import user_models_dir

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "sample_images"
# Streamlit's "magic" would print bare strings, so these constants have comments.
PREVIEW_WIDTH = 1400  # images are shown at most this wide; boxes are drawn on that preview
PANEL_WIDTH = 480  # stage panels are shown at most this wide
ROI_ZOOM = 4  # 28x28 digits are shown enlarged this many times
SET_ASIDE_COLOR = (150, 150, 150)  # boxes the judge set aside as no digit: grey
UPLOAD_CHOICE = "Upload your own…"
CAMERA_CHOICE = "Take a photo…"
CANVAS_CHOICE = "Draw digits…"
CANVAS_SIZE = (720, 260)  # width, height of the drawing canvas
CANVAS_STROKE = 16


@dataclass(frozen=True)
class Source:
    """The image the user picked: its bytes, a display name and a digest for caching.

    ``turns``: quarter turns clockwise the decoded image is turned before anything else
    (by the user's *Turn* button, or found by the reading: a photo stored sideways).
    ``corners``: the page to flatten out of it (x, y pixels of the turned image), or
    None to read it as it is. ``key`` names the image read: the caches key on it.
    """

    name: str
    data: bytes
    digest: str
    corners: tuple[tuple[float, float], ...] | None = None
    turns: int = 0

    @property
    def pixels_key(self) -> str:
        """The file's digest, and its turn when it is turned: names the decoded pixels."""
        return self.digest if not self.turns else f"{self.digest}@turned{self.turns}"

    @property
    def key(self) -> str:
        """:attr:`pixels_key`, and the page's corners when one is flattened."""
        if self.corners is None:
            return self.pixels_key
        return self.pixels_key + "@" + ";".join(f"{x:.1f},{y:.1f}" for x, y in self.corners)


def thumbnail(image: np.ndarray, width: int = PANEL_WIDTH) -> np.ndarray:
    """Return ``image`` shrunk to at most ``width`` pixels wide, for the stage panels."""
    if image.shape[1] <= width:
        return image
    height = max(1, round(image.shape[0] * width / image.shape[1]))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def sample_names() -> list[str]:
    """List the bundled sample sheets, by file name."""
    return sorted(
        p.name for p in SAMPLES_DIR.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")
    )


def list_models() -> dict[str, Path]:
    """Map model names to files: the shipped ones (default first), then the user's own."""
    shipped = sorted(MODELS_DIR.glob("*.keras"), key=lambda p: (p.name != "mlp.keras", p.name))
    own = sorted(user_models_dir().glob("*.keras")) if user_models_dir().is_dir() else []
    models = {p.name: p for p in shipped}
    models.update({f"{p.name} (yours)": p for p in own})
    return models
