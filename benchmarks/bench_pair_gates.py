"""What a pair reader keeps at each gate, on held-out pairs: where the judge's gates go.

Usage::

    python benchmarks/bench_pair_gates.py --data ../shared/data/mnist.npz \\
        [--reader models/judge/pairs.keras ...] [--count 20000]

On the card's held-out boxes (:func:`~digit_pipeline.training.pairs.held_out_pairs`: the
last 6 000 MNIST training digits, which no reader trains on), for each reader and each
gate: the share of the pairs whose top answer is their pair with that probability or
more (kept), how many of those are right, and how many single digits are taken for a
pair. ``JudgeParams.pair_sure`` and ``pair_certain`` are two of these gates; a reader
trained anew needs them read off again (BENCHMARKS.md, fourteenth session).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digit_pipeline.model import read_arrays  # noqa: E402
from digit_pipeline.training.pairs import (  # noqa: E402
    ONE_DIGIT,
    evaluate_pair_reader,
    held_out_pairs,
)

GATES = (0.9, 0.95, 0.99, 0.995, 0.999, 0.9999)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="MNIST npz (default: Keras loader)")
    parser.add_argument("--reader", action="append", default=None, help="[the shipped one]")
    parser.add_argument("--count", type=int, default=20_000, help="held-out boxes [20000]")
    args = parser.parse_args()
    readers = args.reader or [str(ROOT / "models" / "judge" / "pairs.keras")]
    x, y = held_out_pairs(args.data, args.count)
    pairs, single = y != ONE_DIGIT, y == ONE_DIGIT
    for path in readers:
        result = evaluate_pair_reader(read_arrays(path), x, y)
        print(f"\n{path}: {result.figures}\n")
        print("| gate | pairs kept | right among them | single digits taken for a pair |")
        print("|---|---:|---:|---:|")
        guess, top = result.guess, result.proba.max(axis=1)  # once, for every gate
        for gate in GATES:
            kept = (guess != ONE_DIGIT) & (top >= gate)
            right = np.mean(guess[kept & pairs] == y[kept & pairs])
            print(
                f"| {gate} | {np.mean(kept[pairs]):.1%} | {right:.2%} | "
                f"{int(np.sum(kept & single))} of {int(single.sum())} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
