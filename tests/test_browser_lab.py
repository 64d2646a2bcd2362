"""A real browser on the Model lab: evaluate a model and find the confusion matrix drawn.

Uses test_browser's server fixture (``streamlit run`` on a loopback port, Debian's
Chromium through Playwright); the screenshot is saved under the test's tmp dir.
"""

from __future__ import annotations

import pytest
from conftest import FIXTURES
from test_browser import CHROMIUM, app_url, pytestmark  # noqa: F401 - the fixture and the skip

INK_PIXELS = """
(element) => {
  const canvas = element.querySelector('canvas');
  if (canvas) {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) ink++;
    }
    return {kind: 'canvas', ink, width: canvas.width, height: canvas.height};
  }
  const marks = element.querySelectorAll('svg path, svg rect, svg text').length;
  return {kind: 'svg', ink: marks, width: 0, height: 0};
}
"""


@pytest.fixture(autouse=True)
def small_mnist(monkeypatch):
    """The server (started after this) measures on the committed fixture."""
    monkeypatch.setenv("DIGIT_WORKBENCH_MNIST", str(FIXTURES / "mnist_small.npz"))


def test_lab_draws_the_confusion_matrix(app_url, tmp_path):  # noqa: F811 - the fixture
    from playwright.sync_api import sync_playwright

    shot = tmp_path / "lab.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1400})
        try:
            page.goto(f"{app_url}/lab")
            page.get_by_text("Model lab").first.wait_for(timeout=90_000)
            page.get_by_role("tab", name="Evaluate").click()
            page.get_by_role("button", name="Evaluate").click()
            page.get_by_text("MNIST test accuracy").wait_for(timeout=120_000)
            chart = page.get_by_test_id("stVegaLiteChart").first
            chart.wait_for(timeout=60_000)
            chart.locator("canvas, svg").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)  # let Vega finish painting
            drawn = chart.evaluate(INK_PIXELS)
            box = chart.bounding_box()
        finally:
            page.screenshot(path=str(shot), full_page=True)
            browser.close()
    assert box and box["width"] > 200 and box["height"] > 200, box
    assert drawn["ink"] > 1000 if drawn["kind"] == "canvas" else drawn["ink"] > 100, drawn
    assert shot.stat().st_size > 10_000
