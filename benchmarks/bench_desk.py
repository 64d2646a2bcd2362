"""Reading benchmark for sheets photographed lying on a desk.

Usage::

    python benchmarks/bench_desk.py [--data PATH_TO_MNIST_NPZ] [--sheets N] [--seed S]
                                    [--judge-off NAME[,NAME]] [--out FOLDER]

The same sheets as ``python -m digit_pipeline bench`` (same plan and seed), each placed on
a darker, grainy desk with :func:`digit_pipeline.benchmarking.camera.place_on_desk` (12 %
of the sheet's size visible on every side), then encoded as a camera would and read exactly
as ``read`` reads a file, with default parameters and with the automatic fit. Prints the
pooled figures per mode and per condition. ``--judge-off`` switches rules or steps of the
judge off (``bench``'s option), to measure what each is worth on this family too.
``--out`` writes the sheets' records as ``bench`` does (``results.json``, its ``sheets``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digit_pipeline.benchmarking import cases, plan, report  # noqa: E402
from digit_pipeline.benchmarking.camera import place_on_desk  # noqa: E402
from digit_pipeline.cli.options import add_judge_option, judge_from_args  # noqa: E402
from digit_pipeline.io.images import decode_image, encode_jpeg  # noqa: E402
from digit_pipeline.model import load_reader  # noqa: E402
from digit_pipeline.training.data import load_mnist  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="MNIST npz (default: Keras loader)")
    parser.add_argument("--sheets", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="a .keras model [the shipped default]")
    parser.add_argument("--out", type=Path, default=None, help="folder for results.json")
    add_judge_option(parser)
    args = parser.parse_args()
    try:
        judge = judge_from_args(args)
    except ValueError as error:
        parser.error(str(error))

    (_, _), (x_test, y_test) = load_mnist(args.data)
    sheets = plan.make_plan(args.sheets, args.seed, n_digits_available=len(x_test))
    model = load_reader(args.model) if args.model else load_reader()
    records = []
    start = time.perf_counter()
    for case in sheets:
        data, truth = cases.render_case(case, x_test, y_test)
        photo, moved = place_on_desk(decode_image(data), truth, rng=case.seed)
        encoded = encode_jpeg(photo, 90)
        for mode in plan.MODES:
            reading, _, _, seconds = cases.read_case(model, encoded, mode, judge)
            records.append(
                cases.score_record(case, moved, reading, seconds, model="mlp", mode=mode)
            )
    print(f"{len(sheets)} sheets on a desk, read in {time.perf_counter() - start:.0f} s\n")
    for mode in plan.MODES:
        mine = [r for r in records if r["mode"] == mode]
        print(f"### mlp / {mode}, on a desk\n")
        print(report.table_markdown(report.by_condition(mine)))
        print(report.summary_line("mlp", mode, report.summarise(mine)))
        print()
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps({"sheets": records}, indent=1) + "\n")


if __name__ == "__main__":
    main()
