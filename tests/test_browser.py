"""A real browser: `streamlit run` on a loopback port, Debian's Chromium driven by Playwright.

Draws "37" on the canvas with mouse strokes, checks a screenshot of the canvas shows the
strokes where they were drawn, presses Predict and finds exactly "Sheet reads: 37" on the
page — the canvas cannot be tested any other way. A full-page screenshot is saved under the
test's tmp dir.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from conftest import ROOT

from digit_pipeline.io.images import decode_image

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (.ci/run installs it)",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def app_url(tmp_path):
    port = free_port()
    env = dict(
        os.environ,
        DIGIT_WORKBENCH_DATA=str(tmp_path / "dataset"),
        DIGIT_WORKBENCH_MODELS=str(tmp_path / "models"),
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "streamlit_app.py"),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not start: " + server.stderr.read1().decode())
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def stroke(mouse, box, points) -> None:
    """Press, move through ``points`` (fractions of the canvas) and release."""
    x0, y0 = box["x"], box["y"]
    (fx, fy), *rest = points
    mouse.move(x0 + fx * box["width"], y0 + fy * box["height"])
    mouse.down()
    for fx, fy in rest:
        mouse.move(x0 + fx * box["width"], y0 + fy * box["height"], steps=6)
    mouse.up()


THREE = [
    (0.10, 0.22),
    (0.17, 0.14),
    (0.26, 0.14),
    (0.31, 0.25),
    (0.27, 0.42),
    (0.19, 0.50),
    (0.28, 0.58),
    (0.32, 0.72),
    (0.27, 0.85),
    (0.18, 0.88),
    (0.10, 0.80),
]
SEVEN_BAR = [(0.45, 0.15), (0.62, 0.15)]
SEVEN_STEM = [(0.62, 0.15), (0.57, 0.45), (0.53, 0.88)]


def test_draw_37_and_read_it(app_url, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        try:
            page.goto(app_url)
            page.get_by_text("boxes found").wait_for(timeout=90_000)
            page.get_by_test_id("stSelectbox").first.click()
            page.get_by_role("option", name="Draw digits…").click()
            page.get_by_text("Draw one or more digits").wait_for(timeout=30_000)
            canvas = page.locator("canvas.upper-canvas").first
            canvas.wait_for(timeout=30_000)
            box = canvas.bounding_box()
            for points in (THREE, SEVEN_BAR, SEVEN_STEM):
                stroke(page.mouse, box, points)
                page.wait_for_timeout(400)
            check_strokes_shown(decode_image(canvas.screenshot(), "canvas.png"))
            page.get_by_text("2 boxes found.", exact=True).wait_for(timeout=60_000)
            page.get_by_role("button", name="Predict").click()
            reading = page.get_by_text("Sheet reads:")
            reading.wait_for(timeout=90_000)
            settle(page)  # the table above loads after the text: let the page stop moving
            text = reading.inner_text()
            shown = decode_image(reading.screenshot(), "reading.png")
        finally:
            page.screenshot(path=str(tmp_path / "browser.png"), full_page=True)
            browser.close()
    assert text == "Sheet reads: 37", text
    ink = (shown.min(axis=2) if shown.ndim == 3 else shown) < 128
    assert ink.mean() > 0.01, "the reading's screenshot shows no text"


def settle(page, quiet_ms: int = 1000) -> None:
    """Wait until the app is not running and nothing on the page moved for ``quiet_ms``."""
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=60_000)
    last = None
    for _ in range(60):
        shot = page.screenshot()
        if shot == last:
            return
        last = shot
        page.wait_for_timeout(quiet_ms)


def check_strokes_shown(shot: np.ndarray) -> None:
    """The canvas's screenshot has dark ink where the 3 and the 7 were drawn, none between
    or to their right (stroke fractions of the width: 3 at 0.10-0.32, 7 at 0.45-0.62)."""
    gray = shot.min(axis=2) if shot.ndim == 3 else shot
    columns = (gray < 128).any(axis=0)
    width = len(columns)

    def inked(a: float, b: float) -> float:
        return columns[round(a * width) : round(b * width)].mean()

    assert inked(0.12, 0.30) > 0.9 and inked(0.47, 0.60) > 0.9, "the strokes are not shown"
    assert inked(0.37, 0.42) == 0 and inked(0.68, 1.0) == 0, "ink where nothing was drawn"
