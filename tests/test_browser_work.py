"""A real browser walks the reading page as a user does (issue 19's items 1-5).

Uses test_browser's server fixture (``streamlit run`` on a loopback port, Debian's Chromium
through Playwright). One walk, one server: the same fit after another image, the boxes set
aside shown and one kept, the work kept across the Model lab and the batch page (which fits
each sheet by default), and Fine-tune offline ending in one sentence, not a traceback.
Screenshots are saved under the test's tmp dir.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import SAMPLES, stub_sheet
from test_browser import CHROMIUM, app_url, pytestmark  # noqa: F401 - the fixture and the skip

from digit_pipeline.io.images import encode_png
from digit_pipeline.userdata import Dataset

LAUNCH = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture(autouse=True)
def offline_mnist(monkeypatch):
    """No MNIST file named: the server's pages start from ../shared/data or Keras' loader."""
    monkeypatch.delenv("DIGIT_WORKBENCH_MNIST", raising=False)


def upload(page, path, name: str) -> None:
    page.locator("section[data-testid='stSidebar'] input[type=file]").set_input_files(str(path))
    page.get_by_text(f"Auto-fit for {name}").wait_for(timeout=120_000)
    # While the model still loads, the estimate is shown first; the judged fit follows.
    page.get_by_text("Loading the model to check the fit").wait_for(state="hidden", timeout=120_000)
    page.wait_for_timeout(1500)  # the rerun after the fit settles


def pick_upload(page) -> None:
    from playwright.sync_api import TimeoutError as NotYet

    page.get_by_text("boxes found").first.wait_for(timeout=120_000)
    option = page.get_by_role("option", name="Upload your own…")
    for _ in range(6):  # a rerun just after the first paint can close the list just opened
        page.get_by_test_id("stSelectbox").first.click()
        try:
            option.wait_for(timeout=10_000)
            break
        except NotYet:
            continue
    option.click()
    page.get_by_text("Upload a photo or scan").wait_for(timeout=60_000)


def sliders(page) -> dict[str, str]:
    """The sidebar's visible sliders: label -> shown value (a closed expander's are hidden)."""
    shown = {}
    for slider in page.get_by_test_id("stSidebar").get_by_test_id("stSlider").all():
        if slider.is_visible():
            label = slider.get_by_test_id("stWidgetLabel").inner_text().strip()
            shown[label] = slider.get_by_test_id("stSliderThumbValue").inner_text()
    return shown


def stages(shown: dict[str, str]) -> dict[str, str]:
    """The stage sliders only (the reading page adds its flag threshold)."""
    return {k: v for k, v in shown.items() if not k.startswith("Flag digits")}


def goto(page, name: str, wait_for: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(name, exact=True).click()
    page.get_by_text(wait_for).first.wait_for(timeout=120_000)
    page.wait_for_timeout(1000)


def open_expander(page, label: str, inside: str) -> None:
    """Open an expander and wait for ``inside`` to show (a click during a rerun may be lost)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(4):
        page.wait_for_timeout(1000)
        page.get_by_text(label, exact=True).click()
        try:
            page.get_by_text(inside).first.wait_for(state="visible", timeout=15_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"the {label} expander did not open")


def test_a_users_walk_keeps_the_work_and_says_what_it_did(app_url, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    rng = np.random.default_rng(0)  # enough saved digits to offer Fine-tune
    digits = (rng.random((12, 28, 28)) * 255).astype(np.uint8)
    Dataset(tmp_path / "dataset").save(digits, [k % 10 for k in range(12)], source="test")
    scan, marker = SAMPLES / "scan_small_many.jpg", SAMPLES / "marker_thick_shadow.jpg"
    stub = tmp_path / "stub.png"
    stub.write_bytes(encode_png(stub_sheet()))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH)
        alone = browser.new_page(viewport={"width": 1500, "height": 1400})
        page = browser.new_page(viewport={"width": 1500, "height": 1400})
        try:
            # 3. The fit of an image does not depend on the image before.
            alone.goto(app_url)
            # Predict waits for the model: from then on every fit is the judged one (in
            # the first seconds a new image shows the ink's estimate first).
            alone.get_by_text("boxes found").first.wait_for(timeout=120_000)
            alone.get_by_role("button", name="Predict").click()
            alone.get_by_text("Sheet reads:").first.wait_for(timeout=120_000)
            pick_upload(alone)
            upload(alone, marker, marker.name)
            fitted_alone = sliders(alone)
            alone.close()
            page.goto(app_url)
            pick_upload(page)
            upload(page, scan, scan.name)
            upload(page, marker, marker.name)
            assert sliders(page) == fitted_alone

            # 5. The box set aside is drawn, listed with its rule, and can be kept.
            upload(page, stub, stub.name)
            page.get_by_role("button", name="Predict").click()
            page.get_by_text("set aside as no digit (grey, listed below)").wait_for(timeout=120_000)
            page.get_by_text("Set aside as no digit (1)").wait_for(timeout=30_000)
            page.screenshot(path=str(tmp_path / "set_aside.png"), full_page=True)
            choose = page.get_by_test_id("stMultiSelect").locator("input")
            choose.click()
            choose.type("A1")
            page.keyboard.press("Enter")
            page.keyboard.press("Escape")
            page.get_by_text("4 boxes found.", exact=True).wait_for(timeout=120_000)
            text = page.get_by_text("Sheet reads:").first.inner_text()
            assert re.match(r"Sheet reads: \d{4}\b", text), text  # the stub read as a digit
            work = sliders(page)

            # 2 and 4. The lab and the batch page, then back: the work is all there.
            goto(page, "Model lab", "Train a Flatten-Dense")
            goto(page, "Read a batch", "Read a batch of sheets")
            fit_each = page.locator("label:has-text('Fit the stages to each sheet') input")
            assert fit_each.is_checked()
            page.get_by_text(f"fitted there to {stub.name}").wait_for(timeout=30_000)
            assert sliders(page) == stages(work)
            assert not page.get_by_text("Auto-fit for").count()
            goto(page, "Read a sheet", "Digit Workbench")
            page.get_by_text(f"{stub.name}, uploaded earlier").wait_for(timeout=60_000)
            page.get_by_text("4 boxes found.", exact=True).wait_for(timeout=60_000)
            assert page.get_by_text("Sheet reads:").first.inner_text() == text
            assert sliders(page) == work

            # 1. Fine-tune with no MNIST file and no network: one sentence.
            open_expander(page, "My dataset", "12 digits saved")
            field = page.get_by_role("textbox", name="MNIST .npz")
            field.fill("")
            field.press("Enter")
            page.wait_for_timeout(1000)
            page.get_by_role("button", name="Fine-tune").click()
            said = page.get_by_text("MNIST could not be downloaded")
            said.wait_for(timeout=120_000)
            assert said.inner_text().endswith("connect to the internet and try again.")
            assert not page.get_by_text("Traceback").count()
            assert not page.get_by_test_id("stException").count()
        finally:
            page.screenshot(path=str(tmp_path / "walk.png"), full_page=True)
            browser.close()
