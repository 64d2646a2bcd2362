"""Batch reading: one worker vs a process pool vs Ray Data, and cost vs number of sheets.

Generates sheets of MNIST test digits from 0.5 to 12 MP (JPEG, cached in --cache), then runs
``python -m digit_pipeline read FOLDER --out ... --quiet`` as a user would, once per engine,
and prints sheets per second (wall time, start-up included), the peak memory of the whole
process tree (the CLI, pool workers, Ray's processes; sampled every 0.2 s from /proc) and the
speed-up against one worker in the same run.

    python benchmarks/bench_batch.py --sheets 100 --steps 25,50,100 \
        --data ../shared/data/mnist.npz
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digit_pipeline.benchmarking.sheets import make_sheet  # noqa: E402
from digit_pipeline.benchmarking.styles import SheetStyle  # noqa: E402
from digit_pipeline.io.images import encode_jpeg  # noqa: E402
from digit_pipeline.training.data import load_mnist  # noqa: E402

# (width, height), digit height range: 0.5, 2, 5 and 12 MP, in turn.
SIZES = [
    ((860, 580), (40, 60)),
    ((1730, 1150), (80, 120)),
    ((2736, 1824), (150, 210)),
    ((4000, 3000), (220, 320)),
]


def make_sheets(folder: Path, count: int, data: str | None) -> list[Path]:
    """Write ``count`` sheets (cycling through :data:`SIZES`) unless already there."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"sheet{i:04d}.jpg" for i in range(count)]
    missing = [p for p in paths if not p.exists()]
    if missing:
        (_, _), (x_test, y_test) = load_mnist(data)
        for path in missing:
            i = int(path.stem[5:])
            rng = np.random.default_rng(i)
            size, height = SIZES[i % len(SIZES)]
            idx = rng.choice(len(x_test), 24, replace=False)
            style = SheetStyle(ink="pencil", lighting=0.3, digit_height=height, gap_frac=0.6)
            image, _ = make_sheet(
                x_test[idx], y_test[idx], [8, 8, 8], size=size, style=style, rng=i
            )
            path.write_bytes(encode_jpeg(image, 88))
    return paths


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MB."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return total / 1024


def run(folder: Path, engine: str, workers: int) -> dict:
    """Read ``folder`` once; return sheets/s, wall seconds and peak tree memory."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        cmd = [sys.executable, "-m", "digit_pipeline", "read", str(folder), "--out", str(out)]
        cmd += ["--workers", str(workers), "--quiet", "--no-auto"]
        if engine == "ray":
            cmd += ["--engine", "ray"]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
        start = time.perf_counter()
        process = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        peak = [0.0]

        def sample() -> None:
            while process.poll() is None:
                peak[0] = max(peak[0], tree_rss_mb(process.pid))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, err = process.communicate()
        wall = time.perf_counter() - start
        sampler.join()
        records = [json.loads(line) for line in out.read_text().splitlines()]
        if process.returncode not in (0, 1):
            raise RuntimeError(f"{engine} x{workers} failed: {err.decode()[-2000:]}")
        texts = {r["image"].rsplit("/", 1)[-1]: r.get("text") for r in records}
    return {
        "sheets": len(records),
        "wall": wall,
        "rate": len(records) / wall,
        "peak": peak[0],
        "texts": texts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=int, default=400, help="sheets for the engine table")
    parser.add_argument("--steps", default="100,200,400", help="sheet counts for the cost table")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", default=None, help="MNIST npz (default: Keras loader)")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "bench_batch"))
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",") if s]
    most = max([args.sheets, *steps])
    paths = make_sheets(Path(args.cache) / "all", most, args.data)

    def folder_of(n: int) -> Path:
        folder = Path(args.cache) / f"n{n}"
        folder.mkdir(exist_ok=True)
        for p in paths[:n]:
            link = folder / p.name
            if not link.exists():
                link.symlink_to(p)
        return folder

    mp = [SIZES[i % len(SIZES)][0] for i in range(args.sheets)]
    print(
        f"{args.sheets} sheets, {min(w * h for w, h in mp) / 1e6:.1f}-"
        f"{max(w * h for w, h in mp) / 1e6:.1f} MP, {os.cpu_count()} cores"
    )
    folder = folder_of(args.sheets)
    engines = [("one worker", "pool", 1), (f"--workers {args.workers}", "pool", args.workers)]
    if not args.no_ray:
        engines.append((f"--engine ray ({args.workers} CPUs)", "ray", args.workers))
    results = {}
    print("| engine | sheets | wall s | sheets/s | speed-up vs one worker | peak memory MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, engine, workers in engines:
        r = results[label] = run(folder, engine, workers)
        base = results["one worker"]["rate"]
        print(
            f"| {label} | {r['sheets']} | {r['wall']:.1f} | {r['rate']:.2f} | "
            f"{r['rate'] / base:.2f}x | {r['peak']:.0f} |",
            flush=True,
        )
    same = all(r["texts"] == results["one worker"]["texts"] for r in results.values())
    print(f"\nsame texts from every engine: {same}\n")
    print(f"cost vs number of sheets (--workers {args.workers}):\n")
    print("| sheets | wall s | s per sheet | sheets/s | peak memory MB |")
    print("|---:|---:|---:|---:|---:|")
    for n in steps:
        pool = f"--workers {args.workers}"
        r = results[pool] if n == args.sheets else run(folder_of(n), "pool", args.workers)
        print(
            f"| {n} | {r['wall']:.1f} | {r['wall'] / n:.3f} | {r['rate']:.2f} | {r['peak']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
