"""The app as a user feels it: reruns, first Predict and first paint on a 12 MP photo.

Usage::

    python benchmarks/bench_app.py [--image PHOTO] [--data MNIST_NPZ] [--repeat N] [--no-browser]

Drives the real app twice:

1. **AppTest** (in-process, the real script): uploads the photo and times each rerun a user
   causes — a slider move before Predict, Predict, then a slider move, the confidence
   threshold and a label correction after Predict — median of ``--repeat`` each.
2. **Headless Chromium** (``streamlit run`` on a loopback port, Debian's chromium through
   Playwright): the page's first paint (navigation until the first sheet's boxes are
   shown) and the first Predict clicked at once after it (until "Sheet reads" shows).

Each figure is printed beside the seed app's chain on the same image in the same run:
grey, Gaussian blur 5, Canny, dilation and contours at full resolution, as the case-study
app did on every slider move. The photo is ``--image``, else the first 12 MP photo of
``../shared/data/real_dev`` when present, else a 12 MP sheet synthesised from MNIST test
digits (``--data`` or the Keras loader).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digit_pipeline.io.images import decode_image  # noqa: E402

APP = str(ROOT / "streamlit_app.py")
REAL_DEV = ROOT.parent / "shared" / "data" / "real_dev"


def pick_photo(path: str | None, data: str | None) -> tuple[str, bytes]:
    """Return a 12 MP photo's name and bytes (see the module docstring)."""
    if path:
        return Path(path).name, Path(path).read_bytes()
    for candidate in sorted(REAL_DEV.glob("*.jpg")) if REAL_DEV.is_dir() else []:
        image = decode_image(candidate.read_bytes())
        if image.shape[0] * image.shape[1] >= 11e6:
            return candidate.name, candidate.read_bytes()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_speed import photo_sheets

    name, jpeg, _ = photo_sheets(data)[1]
    return f"{name}.jpg", jpeg


def seed_chain_ms(data: bytes, repeat: int) -> float:
    """Median ms of the seed app's chain at full resolution (decode excluded)."""
    gray = cv2.cvtColor(decode_image(data), cv2.COLOR_RGB2GRAY)
    times = []
    for k in range(repeat):
        start = time.perf_counter()
        blurred = cv2.GaussianBlur(gray, (5, 5), 0)
        edges = cv2.Canny(blurred, 20 + k % 20, 3 * (20 + k % 20))
        dilated = cv2.dilate(edges, np.ones((5, 5), np.uint8), iterations=2)
        contours, _ = cv2.findContours(dilated, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        _ = [cv2.boundingRect(c) for c in contours]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


SCRIPT_MS: dict[float, float] = {}


def timed_run(at, action=None) -> float:
    """Apply ``action`` to the AppTest, rerun it, and return the rerun's ms.

    The AppTest wall time includes AppTest's own polling and parsing; the script's own
    time for the run (``run_ms``, set by streamlit_app.py) is kept in SCRIPT_MS for it.
    """
    if action is not None:
        action(at)
    start = time.perf_counter()
    at.run()
    ms = (time.perf_counter() - start) * 1000
    if at.exception:
        raise RuntimeError(f"the app raised: {at.exception}")
    SCRIPT_MS[ms] = at.session_state["run_ms"]
    return ms


def median_pair(times: list[float]) -> tuple[float, float]:
    """Median AppTest wall ms and median script ms of these runs."""
    return statistics.median(times), statistics.median(SCRIPT_MS[t] for t in times)


def apptest_figures(name: str, data: bytes, repeat: int) -> dict[str, object]:
    """Rerun times of the real app on the photo: (AppTest wall ms, script ms) per action."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=300)
    figures: dict[str, object] = {}
    figures["open the app (first run, default sample)"] = median_pair([timed_run(at)])
    at.selectbox(key="source").set_value("Upload your own…")
    at.run()
    mime = "image/png" if name.lower().endswith(".png") else "image/jpeg"
    upload = timed_run(at, lambda a: a.file_uploader(key="upload").set_value((name, data, mime)))
    figures["upload the photo (decode, fit, prepare, segment)"] = median_pair([upload])
    fitted = at.slider(key="param_canny_lower").value  # where the fit put it
    lows = [20 + k % 15 for k in range(repeat)]
    before = [
        timed_run(at, lambda a, v=v: a.slider(key="param_canny_lower").set_value(v)) for v in lows
    ]
    figures["slider move before Predict (whole rerun)"] = median_pair(before)
    at.slider(key="param_canny_lower").set_value(fitted).run()  # Predict on the fitted boxes
    predict = timed_run(at, lambda a: a.button(key="predict").click())
    figures["Predict"] = median_pair([predict])
    figures["digits read"] = len(at.session_state["reading"].digits)
    thresholds = [0.5 + 0.05 * (k % 8) for k in range(repeat)]
    after_low = [
        timed_run(at, lambda a, v=v: a.slider(key="low_confidence").set_value(v))
        for v in thresholds
    ]
    figures["confidence threshold after Predict"] = median_pair(after_low)
    key = f"corrections_{at.session_state['reading_id']}"
    corrections = []
    for k in range(repeat):
        edit = {"edited_rows": {0: {"correct label": k % 10}}, "added_rows": [], "deleted_rows": []}
        corrections.append(timed_run(at, lambda a, e=edit: a.session_state.__setitem__(key, e)))
    figures["label correction after Predict"] = median_pair(corrections)
    after = max(
        figures["confidence threshold after Predict"][1],
        figures["label correction after Predict"][1],
    )
    figures["rerun after Predict / before, script time (ratio)"] = (
        after / figures["slider move before Predict (whole rerun)"][1]
    )
    return figures


def pick_upload(page) -> None:
    """Choose "Upload your own…" in the sheet list, opening it again if a rerun closed it.

    A rerun just after the first paint can close the list just opened (the option then
    never comes): up to 6 tries.
    """
    from playwright.sync_api import TimeoutError as NotYet

    option = page.get_by_role("option", name="Upload your own…")
    for _ in range(6):
        page.get_by_test_id("stSelectbox").first.click()
        try:
            option.wait_for(timeout=10_000)
            break
        except NotYet:  # the list closed under the click: open it again
            continue
    option.click()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def browser_figures(name: str, data: bytes) -> dict[str, float]:
    """First paint and first Predict in headless Chromium, in ms (fresh server)."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        raise RuntimeError("Debian's chromium is not installed (apt-get install chromium)")
    port, home = free_port(), tempfile.mkdtemp(prefix="bench_app_")
    env = dict(
        os.environ,
        DIGIT_WORKBENCH_DATA=f"{home}/dataset",
        DIGIT_WORKBENCH_MODELS=f"{home}/models",
    )
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "streamlit", "run", APP, "--server.headless", "true"),
            *("--server.address", "127.0.0.1", "--server.port", str(port)),
            *("--browser.gatherUsageStats", "false"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    figures: dict[str, float] = {}
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.25)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=chromium,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
            )
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            try:
                figures.update(_drive(page, url, name, data))
                page.screenshot(path=f"{home}/bench_app.png")
            except Exception:
                page.screenshot(path=f"{home}/bench_app_failed.png", full_page=True)
                print(f"screenshot of the failure: {home}/bench_app_failed.png", file=sys.stderr)
                raise
            finally:
                browser.close()
        figures["screenshot"] = f"{home}/bench_app.png"
    finally:
        server.terminate()
        server.wait(timeout=30)
    return figures


def _drive(page, url: str, name: str, data: bytes) -> dict[str, float]:
    """Open the app, Predict at first paint, then upload the photo and Predict again."""
    figures = {}
    start = time.perf_counter()
    page.goto(url)
    page.get_by_text("boxes found").wait_for(timeout=120_000)
    painted = time.perf_counter()
    figures["first paint (page opened -> boxes shown)"] = (painted - start) * 1000
    page.get_by_role("button", name="Predict").click()
    page.get_by_text("Sheet reads").wait_for(timeout=120_000)
    figures["first Predict, clicked at first paint -> result"] = (
        time.perf_counter() - painted
    ) * 1000
    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / name
        photo.write_bytes(data)
        pick_upload(page)
        start = time.perf_counter()
        page.locator("input[type=file]").set_input_files(str(photo))
        note = re.compile(f"Auto-fit (for {re.escape(name)}|found no ink)")  # the new image's
        page.get_by_text(note).wait_for(timeout=120_000)
        page.get_by_text("boxes found").wait_for(timeout=120_000)
        figures["12 MP upload -> boxes shown"] = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        page.get_by_role("button", name="Predict").click()
        page.get_by_text("Sheet reads").wait_for(timeout=120_000)
        figures["Predict on the photo -> result"] = (time.perf_counter() - start) * 1000
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default=None, help="the photo (default: see module docs)")
    parser.add_argument("--data", default=None, help="MNIST npz, for a synthesised photo")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--no-browser", action="store_true", help="AppTest figures only")
    args = parser.parse_args()

    name, data = pick_photo(args.image, args.data)
    height, width = decode_image(data).shape[:2]
    seed = seed_chain_ms(data, args.repeat)
    print(f"photo: {name}, {width}x{height} ({width * height / 1e6:.1f} MP)\n")
    print_table(seed, apptest_figures(name, data, args.repeat), "AppTest (the real script)")
    if not args.no_browser:
        figures = browser_figures(name, data)
        print_table(seed, figures, "headless Chromium (a fresh server)")
        print(f"\nscreenshot: {figures['screenshot']}")


def print_table(seed: float, figures: dict[str, object], title: str) -> None:
    """Print ``figures`` as Markdown rows beside the seed chain's time.

    A figure is ms, or (AppTest wall ms, the script's own ms) for AppTest runs.
    """
    print(f"\n{title}\n")
    print("| what the user does | wall ms | script ms | script × seed chain |")
    print("|---|---:|---:|---:|")
    print(
        f"| seed app's chain on this photo (blur, Canny, dilate, contours) | | {seed:.0f} | 1.00 |"
    )
    for what, value in figures.items():
        if what == "digits read":
            print(f"| {what} | {value} | | |")
        elif "ratio" in what:
            print(f"| {what} | | {value:.2f} | |")
        elif isinstance(value, tuple):
            print(f"| {what} | {value[0]:.0f} | {value[1]:.0f} | {value[1] / seed:.2f} |")
        elif what != "screenshot":
            print(f"| {what} | {value:.0f} | | |")


if __name__ == "__main__":
    main()
