"""Model lab figures: evaluating each shipped model, and one training epoch per architecture.

Usage::

    python benchmarks/bench_lab.py [--data PATH_TO_MNIST_NPZ] [--repeat N] [--train-size N]

Prints Markdown (paste it into BENCHMARKS.md):

- ``evaluate``: :func:`digit_pipeline.training.evaluation.evaluate` on the 10 000 MNIST test
  digits (the model called directly on batches of 1024; median of ``--repeat`` after one
  warm-up call), and the accuracy found;
- ``epoch``: seconds per training epoch of the default Flatten-Dense model (1024 hidden
  units) and of the CNN (``filters=32``, 128 units, the shipped CNN's shape), with and
  without augmentation, on a ``--train-size`` slice of the training images (batch 128,
  validation on 2000 held-out training images). The second epoch is reported (the first
  one also traces the graph); the full epoch of 54 000 images costs about 54000 /
  ``--train-size`` times as much.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digit_pipeline.model import MODELS_DIR, load_card, load_model  # noqa: E402
from digit_pipeline.training.data import load_mnist  # noqa: E402
from digit_pipeline.training.evaluation import evaluate  # noqa: E402
from digit_pipeline.training.progress import TrainingLog  # noqa: E402
from digit_pipeline.training.settings import TrainSettings  # noqa: E402
from digit_pipeline.training.train import train  # noqa: E402


def bench_evaluate(x, y, repeat: int) -> None:
    print("| model | parameters | evaluate 10 000 digits, s (median) | accuracy | card |")
    print("|---|---|---|---|---|")
    for path in sorted(MODELS_DIR.glob("*.keras")):
        model = load_model(path)
        evaluate(model, x[:100], y[:100])  # warm-up: builds the graph
        times, result = [], None
        for _ in range(repeat):
            start = time.perf_counter()
            result = evaluate(model, x, y)
            times.append(time.perf_counter() - start)
        card = load_card(path).get("mnist_test_accuracy")
        print(
            f"| {path.name} | {model.count_params():,} | {statistics.median(times):.2f} "
            f"| {result.accuracy:.4f} | {card} |",
            flush=True,
        )


def bench_epochs(data: str | None, train_size: int, tmp: Path) -> None:
    print("\n| architecture | augmentation | images per epoch | epoch 1, s | epoch 2, s |")
    print("|---|---|---|---|---|")
    for arch, kwargs in (("mlp", {"hidden": (1024,)}), ("cnn", {"hidden": (128,), "filters": 32})):
        for augment in (False, True):
            log = TrainingLog()
            settings = TrainSettings(
                arch=arch, augment=augment, epochs=2, train_size=train_size,
                validation_size=2000, **kwargs,
            )  # fmt: skip
            train(tmp / f"{arch}-{augment}.keras", settings, data=data, log=log, verbose=0)
            first, second = (h["seconds"] for h in log.history[:2])
            print(
                f"| {arch} | {'on' if augment else 'off'} | {train_size} | {first:.1f} "
                f"| {second:.1f} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=None, help="MNIST .npz [keras.datasets.mnist]")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--train-size", type=int, default=10_000)
    parser.add_argument("--skip-train", action="store_true")
    args = parser.parse_args()
    _, (x_test, y_test) = load_mnist(args.data)
    bench_evaluate(x_test, y_test, args.repeat)
    if not args.skip_train:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            bench_epochs(args.data, args.train_size, Path(tmp))


if __name__ == "__main__":
    main()
