"""Shared fixtures: the repo's paths, the bundled samples with their truth, the model.

No test reads or writes the real home folder: for the whole run (module and session
fixtures, doctests, and every subprocess, which inherits ``os.environ``) ``HOME``,
``DIGIT_WORKBENCH_DATA`` and ``DIGIT_WORKBENCH_MODELS`` point into a temporary folder, and
every test gets a fresh one of its own (the autouse ``home`` fixture). At the end of the run
the real ``~/.digit_workbench`` is compared with its state at the start; a change fails the run.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_images"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


HOME_VARS = ("HOME", "DIGIT_WORKBENCH_DATA", "DIGIT_WORKBENCH_MODELS")
# The real home, whatever HOME says: the account's entry in the password database.
REAL_HOME = Path(pwd.getpwuid(os.getuid()).pw_dir)
_saved_env: dict[str, str | None] = {}
_session_home: list[Path] = []
_real_snapshot: list[object] = []


def home_snapshot(home: Path = REAL_HOME) -> object:
    """Every path under ``home/.digit_workbench`` with its size and mtime (None if absent)."""
    root = home / ".digit_workbench"
    if not root.exists():
        return None
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in [root, *root.rglob("*")]
    )


def point_home_at(folder: Path, setenv=os.environ.__setitem__) -> None:
    """Point HOME and the app's data and model folders into ``folder``."""
    setenv("HOME", str(folder))
    setenv("DIGIT_WORKBENCH_DATA", str(folder / "dataset"))
    setenv("DIGIT_WORKBENCH_MODELS", str(folder / "models"))


def pytest_configure(config):
    _real_snapshot[:] = [home_snapshot()]
    _saved_env.update({name: os.environ.get(name) for name in HOME_VARS})
    _session_home[:] = [Path(tempfile.mkdtemp(prefix="digit-workbench-home-"))]
    point_home_at(_session_home[0])


def pytest_sessionfinish(session, exitstatus):
    if _real_snapshot and home_snapshot() != _real_snapshot[0]:
        print(f"\nFAILED: the tests changed {REAL_HOME / '.digit_workbench'}")
        session.exitstatus = 1


def pytest_unconfigure(config):
    for name, value in _saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    for folder in _session_home:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def home(tmp_path_factory, monkeypatch) -> Path:
    """A fresh temporary home for each test: HOME, its dataset and its models folder.

    Made with ``tmp_path_factory`` so a test's own ``tmp_path`` stays empty.
    """
    folder = tmp_path_factory.mktemp("home")
    point_home_at(folder, monkeypatch.setenv)
    return folder


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
def reader():
    """The shipped model read as the app reads it: its forward pass in NumPy, no TensorFlow.

    The judge's tests use it, so that mutmut's forked test runs never start TensorFlow
    (whose threads do not survive a fork: scripts/mutation.sh).
    """
    from digit_pipeline.model import load_reader

    return load_reader()


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


def on_desk(
    card: np.ndarray, turn: float = 8.0, lean: float = 0.08
) -> tuple[np.ndarray, np.ndarray]:
    """Photograph ``card`` on a dark, grainy desk: turned, its far edge shorter.

    Returns the photo and where the card's corners went (top-left, top-right,
    bottom-right, bottom-left).
    """
    height, width = card.shape[:2]
    size = (int(width * 1.6), int(height * 1.6))
    source = np.float32([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])
    angle = np.deg2rad(turn)
    rotation = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = (source - [width / 2, height / 2]) @ rotation.T + [size[0] / 2, size[1] / 2]
    target[0, 0] += lean * width  # the far edge shorter: a photo taken at an angle
    target[1, 0] -= lean * width
    target = target.astype(np.float32)
    grain = np.random.default_rng(0).integers(-12, 12, (size[1], size[0], 3))
    desk = np.clip(np.array([70, 60, 50]) + grain, 0, 255).astype(np.uint8)
    matrix = cv2.getPerspectiveTransform(source, target)
    photo = cv2.warpPerspective(card, matrix, size, dst=desk, borderMode=cv2.BORDER_TRANSPARENT)
    return photo, target


def sheet_reads(at) -> str | None:
    """The app's "Sheet reads: …" message: green when nothing is flagged, yellow when a
    digit still is (``st.success`` or ``st.warning``); None when the page shows none."""
    for element in [*at.success, *at.warning]:
        if element.value.startswith("Sheet reads"):
            return element.value
    return None


def goto(at, url_path: str):
    """Go to a page of the app's navigation by its URL path ("" is the reading page) and run.

    Every page is a function (``workbench.pages.PAGES``) and AppTest's ``switch_page``
    takes file pages only, so the page is picked by the hash the navigation registered.
    """
    at._page_hash = next(
        page for page, info in at._registered_pages.items() if info["url_pathname"] == url_path
    )
    at.run()
    assert not at.exception, at.exception
    return at


def stub_sheet() -> np.ndarray:
    """Three MNIST test digits (3, 4, 8) and a short slanted stretch of a rule beside them:
    the judge sets the stub aside as no digit (a 420×200 grey page)."""
    with np.load(FIXTURES / "mnist_small.npz") as data:
        x, y = data["x_test"], data["y_test"]
    page = np.full((200, 420), 235, np.uint8)
    for k, d in enumerate((3, 4, 8)):
        ink = cv2.resize(x[int(np.flatnonzero(y == d)[0])], (84, 84), interpolation=cv2.INTER_CUBIC)
        region = page[50:134, 30 + 100 * k : 114 + 100 * k]
        np.minimum(region, 235 - (ink.astype(np.int32) * 200 // 255).astype(np.uint8), out=region)
    cv2.line(page, (335, 112), (385, 90), 40, 5)
    return page


def set_corners(at, corners) -> None:
    """Open the reading page's *Page corners* panel and move its sliders to ``corners``.

    ``corners``: four (across %, down %) pairs, top left first, clockwise; runs the app.
    """
    at.session_state["show_corners"] = True  # the panel's sliders are drawn while it is open
    at.run()
    for index, (x, y) in enumerate(corners):
        at.slider(key=f"page_x{index}").set_value(x)
        at.slider(key=f"page_y{index}").set_value(y)
    at.run()
