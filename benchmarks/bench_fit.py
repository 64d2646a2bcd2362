"""How long the fit and the orientation check take on real photos, as ``read`` runs them.

Usage::

    python benchmarks/bench_fit.py [--images GLOB] [--repeat N] [--model PATH]
                                   [--judge-off NAME[,NAME]] [--judge-on NAME[,NAME]]

For each image (default: the real_dev photos of 5 MP or more), decoded once, prints the
median of ``--repeat`` runs of

- ``fit``: :func:`digit_pipeline.reading.fit_sheet` with the model (the estimate from
  the ink, each candidate read and judged), on the page as ``read`` flattens it;
- ``read``: the whole of ``read``'s path, :func:`digit_pipeline.reading.read_sheet` with
  ``auto=True, orient=True``: the page found and flattened, the fit, the orientation
  check (a sheet that reads badly is tried turned);

and the stage that costs most in one profiled fit. Issue 22's bar: the fit and the
orientation check under 1 s on a 12 MP photo. ``--judge-off``/``--judge-on`` switch the
judge's rules and steps as ``read``'s do, to measure what one costs.
"""

from __future__ import annotations

import argparse
import cProfile
import glob
import pstats
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_app import REAL_DEV  # noqa: E402
from bench_speed import timed  # noqa: E402

from digit_pipeline.batch.sources import is_image_name  # noqa: E402
from digit_pipeline.cli.options import UsageError, add_judge_option, judge_from_args  # noqa: E402
from digit_pipeline.io.images import read_image  # noqa: E402
from digit_pipeline.model import load_reader  # noqa: E402
from digit_pipeline.reading import fit_sheet, read_sheet  # noqa: E402
from digit_pipeline.stages import flatten_page, page_corners  # noqa: E402


def costliest(call) -> str:
    """The function of this project (not NumPy's or OpenCV's) with the most own time."""
    profile = cProfile.Profile()
    profile.runcall(call)
    stats = pstats.Stats(profile).stats
    ours = [
        (own, f"{Path(where).stem}.{name}")
        for (where, _, name), (_, _, own, _, _) in stats.items()
        if "digit_pipeline" in where
    ]
    own, name = max(ours)
    return f"{name} {own * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default=str(REAL_DEV / "*"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default=str(ROOT / "models" / "mlp.keras"))
    parser.add_argument("--min-mp", type=float, default=5.0)
    add_judge_option(parser)
    args = parser.parse_args()
    try:
        judge = judge_from_args(args)
    except UsageError as error:
        parser.error(str(error))
    model = load_reader(args.model)
    print(f"code: {ROOT}; median of {args.repeat}; judge off: {sorted(judge.off) or 'none'}\n")
    print("| photo | MP | fit ms | read ms (fit + orientation) | costliest in the fit |")
    print("|---|---:|---:|---:|---|")
    for path in sorted(glob.glob(args.images)):
        if not is_image_name(path):
            continue
        image = read_image(path)
        mp = image.shape[0] * image.shape[1] / 1e6
        if mp < args.min_mp:
            continue
        corners = page_corners(image)
        page = image if corners is None else flatten_page(image, corners)
        fit_sheet(page, model=model, judge=judge)  # warm: first calls build the caches
        _, fit = timed(lambda page=page: fit_sheet(page, model=model, judge=judge), args.repeat)
        _, read = timed(
            lambda image=image: read_sheet(image, model=model, auto=True, orient=True, judge=judge),
            args.repeat,
        )
        worst = costliest(lambda page=page: fit_sheet(page, model=model, judge=judge))
        print(f"| {Path(path).name[:40]} | {mp:.1f} | {fit:.0f} | {read:.0f} | {worst} |")


if __name__ == "__main__":
    main()
