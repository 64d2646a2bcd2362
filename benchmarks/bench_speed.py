"""Speed and reading figures for the bundled samples and photo-sized sheets.

Usage::

    python benchmarks/bench_speed.py [--data PATH_TO_MNIST_NPZ] [--repeat N]

Prints a Markdown table (paste it into BENCHMARKS.md). Figures per sheet:

- ``decode``: bytes -> RGB array (once per image; cached by the app);
- ``prepare``: grey, working copy, line removal (once per image and setting; cached);
- ``move``: one slider move, i.e. blur -> Canny -> dilate -> boxes on the working copy and
  boxes mapped back (median of ``--repeat`` moves over different Canny thresholds);
- ``full-res chain``: the same three stages run at full resolution, as the original app did;
- ``auto-fit``: :func:`digit_pipeline.reading.autofit.auto_fit` on the decoded image, with the
  model judging the candidates (its readings included), as ``read`` and the app's
  *Auto-fit boxes* button (and every new image while *Auto-fit each new image* is on) run it;
- ``extract``: ROIs and 28x28 digits for every box (on Extract / Predict);
- ``call`` / ``predict()``: the model on the batch of digits, called directly vs Keras'
  ``predict`` (median of ``--repeat``);
- found / read: boxes matched to the truth at IoU >= 0.5, and digits read right.

The 5 MP and 12 MP sheets are synthesised from MNIST **test** digits with
``digit_pipeline.benchmarking`` (seeded); ``--data`` takes a local MNIST npz, else the Keras loader.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digit_pipeline import PipelineParams, blur_image, dilate_image, edges_canny  # noqa: E402
from digit_pipeline.benchmarking.scoring import score_sheet  # noqa: E402
from digit_pipeline.benchmarking.sheets import make_sheet  # noqa: E402
from digit_pipeline.benchmarking.styles import SheetStyle  # noqa: E402
from digit_pipeline.io.images import decode_image, encode_jpeg  # noqa: E402
from digit_pipeline.model import load_model, predict_proba  # noqa: E402
from digit_pipeline.reading import classify, fit_sheet  # noqa: E402
from digit_pipeline.reading.pipeline import cut_digits, find_boxes  # noqa: E402
from digit_pipeline.reading.prepared import prepare  # noqa: E402
from digit_pipeline.stages import to_gray  # noqa: E402
from digit_pipeline.training.data import load_mnist  # noqa: E402


def timed(fn, repeat: int = 1):
    """Run ``fn`` ``repeat`` times; return its last result and the median milliseconds."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return result, statistics.median(times)


def photo_sheets(data: str | None) -> list[tuple[str, bytes, dict]]:
    """A 5 MP and a 12 MP phone-photo-like sheet of 30 MNIST test digits, as JPEG bytes."""
    (_, _), (x_test, y_test) = load_mnist(data)
    rng = np.random.default_rng(2026)
    sheets = []
    for name, size, height in (
        ("photo_5mp", (2736, 1824), (150, 210)),
        ("photo_12mp", (4000, 3000), (220, 320)),
    ):
        idx = rng.choice(len(x_test), 30, replace=False)
        style = SheetStyle(
            ink="pencil",
            lighting=0.3,
            shadow=0.3,
            digit_height=height,
            gap_frac=0.6,
            blur_sigma=1.2,
            jpeg_quality=None,
        )
        image, truth = make_sheet(
            x_test[idx],
            y_test[idx],
            [10, 10, 10],
            size=size,
            style=style,
            rng=int(rng.integers(1 << 31)),
            source_indices=idx,
        )
        sheets.append((name, encode_jpeg(image, 88), truth))
    return sheets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="MNIST npz (default: Keras loader)")
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()

    sheets = [
        (p.stem, p.read_bytes(), json.loads(p.with_suffix(".json").read_text()))
        for p in sorted((ROOT / "sample_images").glob("*.jpg"))
    ] + photo_sheets(args.data)

    model, load_ms = timed(load_model)
    params = PipelineParams()
    rows = []
    for name, data, truth in sheets:
        image, decode_ms = timed(lambda d=data: decode_image(d), 3)
        ready, prepare_ms = timed(lambda i=image: prepare(i, params.replace(remove_lines=True)), 3)
        moves = [params.replace(canny_lower=20 + k % 20) for k in range(args.repeat)]
        move_times = []
        for p in moves:
            _, ms = timed(lambda p=p, r=ready: find_boxes(r, p))
            move_times.append(ms)
        found = find_boxes(ready, params)
        gray = to_gray(image)

        def full_res_chain(g=gray, p=params):
            blurred = blur_image(g, p.blur_size)
            edges = edges_canny(blurred, p.canny_lower, p.canny_multiplier, p.canny_aperture)
            return dilate_image(edges, p.dilate_size, p.dilate_iterations)

        _, full_ms = timed(full_res_chain, 5)
        _, fit_ms = timed(lambda i=image: fit_sheet(i, model=model), 3)
        (_, digits), extract_ms = timed(lambda f=found, r=ready: cut_digits(r, f.boxes, params), 3)
        predict_proba(model, digits)  # warm up
        _, call_ms = timed(lambda d=digits: predict_proba(model, d), args.repeat)
        x = digits.astype(np.float32) / 255.0
        model.predict(x, verbose=0)  # warm up
        _, predict_ms = timed(lambda x=x: model.predict(x, verbose=0), max(5, args.repeat // 4))
        reading = classify(model, digits, found.boxes, found.lines)
        score = score_sheet(
            [d.box for d in reading.digits],
            [d.label for d in reading.digits],
            [tuple(d["box"]) for d in truth["digits"]],
            [d["label"] for d in truth["digits"]],
        )
        rows.append(
            (
                name,
                f"{image.shape[1]}x{image.shape[0]}",
                f"{image.shape[0] * image.shape[1] / 1e6:.1f}",
                f"{decode_ms:.0f}",
                f"{prepare_ms:.0f}",
                f"{statistics.median(move_times):.1f}",
                f"{full_ms:.1f}",
                f"{fit_ms:.0f}",
                f"{extract_ms:.1f}",
                f"{call_ms:.1f}",
                f"{predict_ms:.1f}",
                f"{score.matched}/{score.truth} (+{score.found - score.matched})",
                f"{score.correct}/{score.truth}",
            )
        )
    header = (
        "sheet",
        "size",
        "MP",
        "decode ms",
        "prepare ms",
        "move ms",
        "full-res chain ms",
        "auto-fit ms",
        "extract ms",
        "call ms",
        "predict() ms",
        "found (extra)",
        "read",
    )
    print(f"model load: {load_ms:.0f} ms (once per process)\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    total = sum(int(r[-1].split("/")[0]) for r in rows)
    count = sum(int(r[-1].split("/")[1]) for r in rows)
    print(f"\nread right: {total}/{count} = {total / count:.1%}")


if __name__ == "__main__":
    main()
