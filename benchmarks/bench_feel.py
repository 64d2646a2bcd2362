"""Speed as a person feels it in a browser, beside a bare Streamlit app, and memory.

Usage::

    python benchmarks/bench_feel.py [--image PHOTO] [--app streamlit_app.py] [--moves 9]
                                    [--memory-moves 200] [--sessions 6] [--ttl S] [--pause S]

Starts ``streamlit run`` twice on loopback ports, each driven by Debian's headless Chromium
through Playwright: the app (``--app``; another checkout's app measures the code before a
change) with a 12 MP photo uploaded, and a minimal app with one slider. For each:

- **first paint**: from opening the page until the first boxes are shown (the minimal
  app: its slider);
- **slider move**: one arrow-key press on the *Canny lower threshold* slider's thumb
  (the minimal app: its slider) until the last websocket frame of the rerun, the page
  quiet for 0.8 s; median (and range) of ``--moves`` presses;

then, for the app alone, the server's resident memory (RSS) after 20 moves and at the
end of each of ``--sessions`` browser sessions opened one after another, over
``--memory-moves`` moves in all (``--sessions 12 --memory-moves 36``: short sessions of 3
moves, as people who open the app, read one photo and leave). Streamlit keeps a closed
session, its upload included, for ``server.disconnectedSessionTTL`` seconds (120) in case
its browser reconnects; ``--ttl`` sets it for the app's server, and ``--pause`` waits
between one session's close and the next one's start (``--pause 125``: each person
leaves more than the 120 s before the next arrives). The photo is ``--image``,
else the first 12 MP photo of ``../shared/data/real_dev`` (as ``bench_app.py`` picks it).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_app import free_port, pick_photo, pick_upload  # noqa: E402

QUIET_S = 0.8  # a rerun is over when no websocket frame came for this long
MINIMAL_APP = 'import streamlit as st\n\nst.slider("Canny lower threshold", 0, 255, 30)\n'
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class Server:
    """``streamlit run APP`` on a free loopback port, with a temporary home."""

    def __init__(self, app: Path, ttl: int | None = None) -> None:
        self.port, home = free_port(), tempfile.mkdtemp(prefix="bench_feel_")
        env = dict(
            os.environ, DIGIT_WORKBENCH_DATA=f"{home}/data", DIGIT_WORKBENCH_MODELS=f"{home}/m"
        )
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "streamlit", "run", str(app), "--server.headless"),
                *("true", "--server.address", "127.0.0.1", "--server.port", str(self.port)),
                *("--browser.gatherUsageStats", "false"),
                *(("--server.disconnectedSessionTTL", str(ttl)) if ttl is not None else ()),
            ],
            cwd=app.parent,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.25)
        raise RuntimeError(f"streamlit run {app} did not start")

    def rss_mb(self) -> float:
        """The server's resident memory, MB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


class Frames:
    """The times (perf_counter) of the websocket frames a page receives."""

    def __init__(self, page) -> None:
        self.times: list[float] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._received))

    def _received(self, _payload) -> None:
        self.times.append(time.perf_counter())

    def settle(self, page, since: float) -> float:
        """Wait until no frame came for QUIET_S; return ms from ``since`` to the last frame."""
        while True:
            page.wait_for_timeout(100)
            last = max([since, *self.times[-1:]])  # no frame since ``since``: quiet from it
            if time.perf_counter() - last >= QUIET_S:
                return (last - since) * 1000
            if time.perf_counter() - since > 60:
                raise TimeoutError("the rerun never went quiet")


MOVES = [0]  # presses so far: they go right and left in turn, so the value stays near


def move(page, frames: Frames, thumb) -> float:
    """One arrow-key press on ``thumb``; ms until the rerun's last frame."""
    frames.settle(page, time.perf_counter())
    MOVES[0] += 1
    start = time.perf_counter()
    thumb.press("ArrowRight" if MOVES[0] % 2 else "ArrowLeft")
    return frames.settle(page, start)


def thumb_of(page):
    """The *Canny lower threshold* slider's thumb."""
    slider = page.get_by_test_id("stSlider").filter(has_text="Canny lower threshold")
    return slider.get_by_role("slider")


def open_app(browser, url: str, photo: Path | None):
    """A new session on ``url``; with a photo, uploaded and its boxes shown. Returns
    (page, frames, first paint ms)."""
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.set_default_timeout(120_000)  # a busy machine: clicks wait, they do not fail
    frames = Frames(page)
    start = time.perf_counter()
    page.goto(url)
    if photo is None:
        thumb_of(page).wait_for(timeout=120_000)
        return page, frames, (time.perf_counter() - start) * 1000
    page.get_by_text("boxes found").first.wait_for(timeout=120_000)
    painted = (time.perf_counter() - start) * 1000
    pick_upload(page)
    page.locator("section[data-testid='stSidebar'] input[type=file]").set_input_files(str(photo))
    note = re.compile(f"Auto-fit (for {re.escape(photo.name)}|found no ink)")
    try:
        page.get_by_text(note).wait_for(timeout=120_000)
    except Exception:
        page.screenshot(path=str(photo.with_suffix(".failed.png")), full_page=True)
        print(f"screenshot of the failure: {photo.with_suffix('.failed.png')}", file=sys.stderr)
        raise
    frames.settle(page, time.perf_counter())
    return page, frames, painted


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f}–{max(values):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default=None)
    parser.add_argument("--app", default=str(ROOT / "streamlit_app.py"))
    parser.add_argument("--moves", type=int, default=9)
    parser.add_argument("--memory-moves", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=6)
    parser.add_argument(
        "--ttl",
        type=int,
        default=None,
        help="seconds Streamlit keeps a closed session (server.disconnectedSessionTTL; "
        "default Streamlit's, 120)",
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="seconds between one session's close and the next one's start (default 0)",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    name, data = pick_photo(args.image, None)
    folder = Path(tempfile.mkdtemp(prefix="bench_feel_"))
    photo, minimal = folder / name, folder / "minimal_app.py"
    photo.write_bytes(data)
    minimal.write_text(MINIMAL_APP)
    rows, memory = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        for label, app, image in (
            ("minimal app", minimal, None),
            ("the app", Path(args.app), photo),
        ):
            server = Server(app, args.ttl if image is not None else None)
            try:
                page, frames, painted = open_app(browser, server.url, image)
                times = [move(page, frames, thumb_of(page)) for _ in range(args.moves)]
                rows.append((label, painted, times))
                if image is not None:
                    memory = measure_memory(browser, server, page, frames, image, args)
                page.close()
            finally:
                server.stop()
        browser.close()
    ttl = "" if args.ttl is None else f"; closed sessions kept {args.ttl} s"
    ttl += f"; {args.pause:g} s between sessions" if args.pause else ""
    print(f"photo: {name}; app: {args.app}{ttl}\n")
    print("| | first paint ms | slider move ms, median (range) |")
    print("|---|---:|---:|")
    for label, painted, times in rows:
        print(f"| {label} | {painted:.0f} | {spread(times)} |")
    floor, ours = (statistics.median(t) for _, _, t in rows)
    print(
        f"\nslider move: {ours / floor:.1f}× the minimal app's; first paint: "
        f"{rows[1][1] / rows[0][1]:.1f}×"
    )
    print("\n| moves done | sessions | server RSS MB |\n|---:|---:|---:|")
    for done, sessions, rss in memory:
        print(f"| {done} | {sessions} | {rss:.0f} |")


def measure_memory(browser, server: Server, page, frames: Frames, photo: Path, args):
    """RSS after 20 moves and at the end of each of ``--sessions`` sessions, over
    ``--memory-moves`` moves in all (where it grows: a cache filling, or each session)."""
    readings, done, per = [], 0, max(1, args.memory_moves // args.sessions)
    for session in range(1, args.sessions + 1):
        if session > 1:
            page.close()
            time.sleep(args.pause)
            page, frames, _ = open_app(browser, server.url, photo)
        for _ in range(per if session < args.sessions else args.memory_moves - done):
            move(page, frames, thumb_of(page))
            done += 1
            if done == 20:
                readings.append((done, session, server.rss_mb()))
        readings.append((done, session, server.rss_mb()))
    return readings


if __name__ == "__main__":
    main()
