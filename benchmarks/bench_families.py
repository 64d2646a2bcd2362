"""Every reading family of ``BENCHMARKS.md``, run into one folder, and a table of them.

Usage::

    python benchmarks/bench_families.py run OUT [--family NAME ...] [--jobs 2]
                                            [--data ../shared/data/mnist.npz]
                                            [--real ../shared/data/real_dev]
    python benchmarks/bench_families.py table OUT [BEFORE]

``run`` runs each family's command of this file (``bench`` with the family's flag, the
desk photos' script, ``bench --real``) from this checkout, ``--jobs`` at a time, each into
``OUT/<family>/`` (``results.json``, and ``log.txt`` with what it printed). ``table``
prints, per family and mode, digits read / extra boxes / exact sheets, beside ``BEFORE``'s
where given (another ``run``'s folder, e.g. of a worktree of the commit before): the
keep-rule of issue 16 reads it (no family worse). ~30 min for all on 2 cores, ``--jobs 2``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = [sys.executable, "-m", "digit_pipeline", "bench"]
FAMILIES = {
    "mnist": [],
    "pairs": ["--pairs"],
    "fullpage": ["--full-page"],
    "shapes": ["--shapes"],
    "grids": ["--grids"],
    "inks": ["--inks"],
    "numbers": ["--numbers"],
    "webcam": ["--webcam"],
    "defocus": ["--defocus"],
    "turn": ["--turn", "--modes", "auto"],
    "fonts": None,
    "desk": None,
    "real": None,
}
"""Each family's ``bench`` flags over the MNIST sheets (None: its own command below)."""


def command(family: str, out: Path, data: str, real: str) -> list[str]:
    """Return the command line that writes ``family``'s ``results.json`` into ``out``."""
    if family == "fonts":
        return [*BENCH, "--digits", "fonts", "--out", str(out)]
    if family == "real":
        return [*BENCH, "--real", real, "--modes", "auto,default", "--out", str(out)]
    if family == "desk":
        script = str(ROOT / "benchmarks" / "bench_desk.py")
        return [sys.executable, script, "--data", data, "--out", str(out)]
    return [*BENCH, "--data", data, *FAMILIES[family], "--out", str(out)]


def run(out: Path, families: list[str], jobs: int, data: str, real: str) -> int:
    """Run ``families`` into ``out``; return how many failed."""

    def one(family: str) -> int:
        folder = out / family
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "log.txt", "w") as log:
            code = subprocess.call(
                command(family, folder, data, real), cwd=ROOT, stdout=log, stderr=log
            )
        print(f"{family}: {'done' if code == 0 else f'failed ({code})'}", flush=True)
        return int(code != 0)

    with ThreadPoolExecutor(jobs) as pool:
        return sum(pool.map(one, families))


def figures(folder: Path) -> dict[str, str]:
    """Return ``{mode: "read / extra / exact"}`` of one family's ``results.json``."""
    path = folder / "results.json"
    if not path.exists():
        return {}
    results = json.loads(path.read_text())
    real = isinstance(results, list)  # bench --real: photos, with their own counts
    sheets = results if real else results["sheets"]
    rows = {}
    for mode in sorted({s["mode"] for s in sheets}):
        mine = [s for s in sheets if s["mode"] == mode]
        read = sum(s["correct"] for s in mine)
        truth = sum(s["truth"] for s in mine)
        extra = sum(s["extra"] if real else s["found"] - s["matched"] for s in mine)
        exact = sum(bool(s["exact"]) for s in mine)
        rows[mode] = f"{read}/{truth} · {extra} · {exact}/{len(mine)}"
    return rows


def table(out: Path, before: Path | None) -> None:
    """Print each family's figures in ``out`` (and ``before``), one row per mode."""
    head = "| family | mode | read · extra · exact |"
    print(head + (" before |" if before else ""))
    print("|---|---|---|" + ("---|" if before else ""))
    for family in FAMILIES:
        now = figures(out / family)
        then = figures(before / family) if before else {}
        for mode in sorted(now.keys() | then.keys()):
            row = f"| {family} | {mode} | {now.get(mode, '-')} |"
            same = now.get(mode) == then.get(mode)
            print(row + (f" {'same' if same else then.get(mode, '-')} |" if before else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    go = sub.add_parser("run", help="run the families into OUT")
    go.add_argument("out", type=Path)
    go.add_argument("--family", action="append", choices=list(FAMILIES), default=None)
    go.add_argument("--jobs", type=int, default=2)
    go.add_argument("--data", default="../shared/data/mnist.npz")
    go.add_argument("--real", default="../shared/data/real_dev")
    show = sub.add_parser("table", help="print the figures in OUT (beside BEFORE's)")
    show.add_argument("out", type=Path)
    show.add_argument("before", type=Path, nargs="?", default=None)
    args = parser.parse_args()
    if args.action == "table":
        table(args.out, args.before)
        return 0
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    data, real = (str(Path(path).resolve()) for path in (args.data, args.real))
    return int(run(args.out.resolve(), args.family or list(FAMILIES), args.jobs, data, real) > 0)


if __name__ == "__main__":
    sys.exit(main())
