"""Reading benchmark for sheets photographed lying on a desk.

Usage::

    python benchmarks/bench_desk.py [--data PATH_TO_MNIST_NPZ] [--sheets N] [--seed S]

The same sheets as ``python -m digit_pipeline bench`` (same plan and seed), each placed on
a darker, grainy desk with :func:`digit_pipeline.synth.place_on_desk` (12 % of the sheet's
size visible on every side), then encoded as a camera would and read exactly as ``read``
reads a file, with default parameters and with the automatic fit. Prints the pooled
figures per mode and per condition.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digit_pipeline import bench  # noqa: E402
from digit_pipeline.imageio import decode_image  # noqa: E402
from digit_pipeline.model import load_mnist, load_model  # noqa: E402
from digit_pipeline.synth import encode_jpeg, place_on_desk  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="MNIST npz (default: Keras loader)")
    parser.add_argument("--sheets", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    (_, _), (x_test, y_test) = load_mnist(args.data)
    plan = bench.make_plan(args.sheets, args.seed, n_digits_available=len(x_test))
    model = load_model()
    records = []
    start = time.perf_counter()
    for case in plan:
        data, truth = bench.render_case(case, x_test, y_test)
        photo, moved = place_on_desk(decode_image(data), truth, rng=case.seed)
        encoded = encode_jpeg(photo, 90)
        for mode in bench.MODES:
            reading, _, _, seconds = bench.read_case(model, encoded, mode)
            records.append(
                bench.score_record(case, moved, reading, seconds, model="mlp", mode=mode)
            )
    print(f"{len(plan)} sheets on a desk, read in {time.perf_counter() - start:.0f} s\n")
    for mode in bench.MODES:
        mine = [r for r in records if r["mode"] == mode]
        print(f"### mlp / {mode}, on a desk\n")
        print(bench.table_markdown(bench.by_condition(mine)))
        print(bench.summary_line("mlp", mode, bench.summarise(mine)))
        print()


if __name__ == "__main__":
    main()
