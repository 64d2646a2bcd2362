"""How each odd input ends, and the peak memory of reading it, each in a fresh process.

Usage::

    python benchmarks/bench_inputs.py [--data PATH_TO_MNIST_NPZ] [--skip-large]

Every file of the test suite's generated corpus (``tests/odd_files.py``) plus a 50 MP and
a 12 MP phone-photo-like JPEG is read the way ``read --auto`` reads it (decode, automatic
fit, pipeline, model) in a child process; the table gives the outcome, the seconds and
the child's peak resident memory (which includes ~0.5 GB for TensorFlow itself).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

CHILD = r"""
import json, resource, sys, time
from digit_pipeline.io.images import ImageReadError, read_image
from digit_pipeline.model import load_model
from digit_pipeline.reading import read_sheet
model = load_model()
start = time.perf_counter()
try:
    image = read_image(sys.argv[1])
except ImageReadError as error:
    outcome = "refused: " + str(error).split(": ", 1)[-1]
else:
    read = read_sheet(image, model=model, auto=True)
    reading, result = read.sheet, read.result
    outcome = f"read {image.shape[1]}x{image.shape[0]}: {len(reading.digits)} digits"
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"outcome": outcome, "seconds": seconds, "peak_mb": peak}))
"""


def big_photo(
    data: str | None, size: tuple[int, int], digits: int, height: tuple[int, int]
) -> bytes:
    import numpy as np

    from digit_pipeline.benchmarking.sheets import make_sheet
    from digit_pipeline.benchmarking.styles import SheetStyle
    from digit_pipeline.io.images import encode_jpeg
    from digit_pipeline.training.data import load_mnist

    (_, _), (x_test, y_test) = load_mnist(data)
    idx = np.random.default_rng(50).choice(len(x_test), digits, replace=False)
    style = SheetStyle(
        ink="pencil", lighting=0.3, digit_height=height, gap_frac=0.6, jpeg_quality=None
    )
    per_line = digits // 3
    image, _ = make_sheet(
        x_test[idx], y_test[idx], [per_line] * 3, size=size, style=style, rng=5, source_indices=idx
    )
    return encode_jpeg(image, 85)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="MNIST npz (default: Keras loader)")
    parser.add_argument("--skip-large", action="store_true", help="leave out the 50 MP photo")
    args = parser.parse_args()

    from odd_files import corpus

    from digit_pipeline.training.data import load_mnist

    (_, _), test = load_mnist(args.data)
    files = [(f.name, f.data) for f in corpus(test)]
    files.append(("photo_12mp.jpg", big_photo(args.data, (4000, 3000), 30, (200, 260))))
    if not args.skip_large:
        files.append(("photo_50mp.jpg", big_photo(args.data, (8660, 5774), 30, (380, 480))))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files:
            path = Path(tmp) / name
            path.write_bytes(data)
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(path)], cwd=ROOT, capture_output=True, text=True
            )
            if done.returncode:
                rows.append((name, len(data), f"CRASHED (exit {done.returncode})", 0, 0))
                continue
            record = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append((name, len(data), record["outcome"], record["seconds"], record["peak_mb"]))
            print(
                f"{name}: {record['outcome']} ({time.perf_counter() - start:.1f} s)",
                file=sys.stderr,
            )
    print("| input | bytes | how it ended | seconds | peak memory (MB) |")
    print("|---|---|---|---|---|")
    for name, size, outcome, seconds, peak in rows:
        print(f"| {name} | {size:,} | {outcome} | {seconds:.2f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
