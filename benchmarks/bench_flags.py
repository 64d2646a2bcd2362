"""Where the app's flag threshold should sit: how sure are the digits it reads wrong?

Usage::

    python benchmarks/bench_flags.py [--real ../shared/data/real_dev] [--model models/mlp.keras]
                                     [--usps ../shared/data/usps_train.npz]

Reads every sheet of a real folder (``truth.json``) as ``read`` does (the fit on), aligns
each sheet's text with its truth (:func:`~digit_pipeline.benchmarking.real.read_marks`)
and prints, for each confidence threshold, the share of the digits read wrong (or extra)
that a flag at that threshold catches, against the share of the digits read right that it
flags needlessly. The app flags a digit read with confidence below the threshold.
``--usps`` adds the same table for the classifier alone on USPS's real digits (through
``resize_rois``, as a cut goes): a check measured beside real_dev, never fitted to.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 0.995)


def confidences(folder: Path, model_path: Path) -> dict[str, np.ndarray]:
    """Return the confidences of the digits read right and of those read wrong or extra."""
    from digit_pipeline.benchmarking.real import load_truth, read_entry, read_marks
    from digit_pipeline.model import load_model

    model = load_model(model_path)
    found: dict[str, list[float]] = {"correct": [], "wrong": []}
    for entry in load_truth(folder):
        if entry.get("multiset"):
            continue  # no reading order to align with
        _, reading, _ = read_entry(folder, entry, model, auto=True)
        marks = read_marks(entry["text"], reading.text)
        for digit, mark in zip(reading.sheet.digits, marks, strict=True):
            found["correct" if mark == "correct" else "wrong"].append(digit.confidence)
    return {k: np.array(v) for k, v in found.items()}


def usps_confidences(path: Path, model_path: Path) -> dict[str, np.ndarray]:
    """Return the classifier's confidences on USPS digits it reads right and wrong."""
    from digit_pipeline.model import load_model, predict_proba
    from digit_pipeline.stages import resize_rois

    with np.load(path) as data:
        x, y = data["x"], data["y"]
    proba = predict_proba(load_model(model_path), resize_rois(list(x)))
    right = proba.argmax(axis=1) == y
    return {"correct": proba.max(axis=1)[right], "wrong": proba.max(axis=1)[~right]}


def table(name: str, conf: dict[str, np.ndarray]) -> None:
    """Print how many wrong digits each threshold catches, and how many right ones it flags."""
    right, wrong = conf["correct"], conf["wrong"]
    print(f"{name}: {len(right)} digits read right, {len(wrong)} wrong or extra")
    if len(wrong) <= 20:
        print("wrong or extra, confidence:", ", ".join(f"{c:.3f}" for c in sorted(wrong)))
    print()
    print("| flag below | wrong caught | right flagged needlessly |")
    print("|---|---|---|")
    for t in THRESHOLDS:
        caught, needless = int((wrong < t).sum()), int((right < t).sum())
        print(
            f"| {t:.3g} | {caught}/{len(wrong)} ({caught / max(1, len(wrong)):.0%}) | "
            f"{needless}/{len(right)} ({needless / max(1, len(right)):.1%}) |"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", default=str(ROOT.parent / "shared" / "data" / "real_dev"))
    parser.add_argument("--model", default=str(ROOT / "models" / "mlp.keras"))
    parser.add_argument("--usps", help="usps_train.npz: the classifier alone on real digits")
    args = parser.parse_args()
    table(f"real_dev ({args.real})", confidences(Path(args.real), Path(args.model)))
    if args.usps:
        table(f"USPS ({args.usps})", usps_confidences(Path(args.usps), Path(args.model)))


if __name__ == "__main__":
    main()
