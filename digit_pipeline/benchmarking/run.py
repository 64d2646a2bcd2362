"""Reading benchmark: synthetic sheets of MNIST **test** digits, read as ``read`` reads them.

``python -m digit_pipeline bench [--sheets N] [--seed S] [--out DIR]`` (its options are
:mod:`digit_pipeline.cli.bench`'s; the CLI calls :func:`run`):

1. :func:`~.plan.make_plan` draws a deterministic list of :class:`~.plan.SheetCase` from
   the seed: one *condition* per sheet, round-robin over :data:`~.plan.CONDITIONS` (paper
   tint and uneven light, pencil and pen, thin and thick strokes, small and large digits,
   tight spacing, ruled and squared paper, rotation, blur and JPEG), each with its own
   layout (1-6 lines of 2-12 digits), digit size and sheet size (about 0.5-12 MP);
2. :func:`~.cases.render_case` draws each sheet with :func:`~.sheets.make_sheet` and encodes it
   as the camera or scanner would (JPEG, or PNG for a lossless sheet);
3. :func:`~.cases.read_case` reads the bytes exactly like ``python -m digit_pipeline read``:
   :func:`~digit_pipeline.io.images.decode_image`, then
   :func:`~digit_pipeline.reading.read_sheet` with default parameters (mode ``default``)
   or with :func:`~digit_pipeline.reading.autofit.auto_fit` (mode ``auto``; the fit is timed
   as part of the read);
4. :func:`~.scoring.score_sheet` matches found boxes to the truth at IoU >= 0.5, and
   :func:`~.report.summarise` pools the sheets per condition and overall.

Every model given with ``--model`` (repeatable) reads the same sheets, in every mode.

``--digits fonts`` draws the same kinds of sheets from digits that MNIST's writers did not
write: the glyphs of handwriting fonts installed on the machine
(:func:`~.fonts.font_digits`, :data:`~.fonts.HANDWRITING_FONTS`). Their shapes — flagged
1s, crossed 7s, open 4s, slanted script — are a check that the reading generalises beyond
MNIST's own strokes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from ..model.contract import MNIST_SIZE
from .cases import read_case, render_case, score_record
from .families import FAMILIES
from .fonts import HANDWRITING_FONTS, font_digits
from .plan import CONDITIONS, MODES, SheetCase, make_plan
from .report import by_condition, draw_failure, report_markdown

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from ..reading.judge import JudgeParams


__all__ = ["run"]


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _model_names(paths: Sequence[str]) -> list[str]:
    stems = [Path(p).stem for p in paths]
    return [s if stems.count(s) == 1 else str(p) for s, p in zip(stems, paths, strict=True)]


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(args: argparse.Namespace, judge: JudgeParams | None = None) -> int:
    """Run the benchmark with parsed :func:`digit_pipeline.cli.bench.add_arguments` options.

    Prints progress to stderr and the report (Markdown tables and summary lines) to
    stdout; with ``--out`` writes ``results.json``, ``report.md`` and, with
    ``--save-failures``, ``failures/<model>-<mode>/<case_id>.jpg``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options.
    judge : JudgeParams, optional
        The judge's thresholds and the rules switched off (from ``--judge-off``).

    Returns
    -------
    int
        0 on success, 1 for bad data or options, 2 when a model cannot be loaded.
    """
    if getattr(args, "ablate", None):
        return _run_ablation(args)
    if getattr(args, "real", None):
        return _run_real(args, judge)
    modes = _split(args.modes)
    conditions = _split(args.conditions) or list(CONDITIONS)
    if not _known_modes(modes):
        return 1
    try:
        x_test, y_test, plan = _digits_and_plan(args, conditions)
    except (OSError, ValueError) as error:
        _log(f"error: {error}")
        return 1
    loaded = _models_of(args)
    if loaded is None:
        return 2
    paths, models = loaded
    names = list(models)
    out, failures = _output_folders(args)

    for flag, family in FAMILIES.items():  # --inks, --grids, …: the same plan drawn so
        if getattr(args, flag):
            plan = [family(case) for case in plan]
    records: list[dict[str, Any]] = []
    drawing = 0.0
    started = time.perf_counter()
    for k, case in enumerate(plan, 1):
        turns = k % 3 + 1 if args.turn else 0
        mine, seconds, line = _bench_sheet(
            case, x_test, y_test, models, modes, failures, judge, turns
        )
        records += mine
        drawing += seconds
        _log(f"[{k}/{len(plan)}] {line}")
    total = time.perf_counter() - started

    report = report_markdown(records, names, modes)
    head = _head(plan, args.seed, records, drawing, total)
    print(head + "\n\n" + report, end="")
    if out is not None:
        timing = {"total": round(total, 2), "drawing": round(drawing, 2)}
        results = _results(args, names, paths, modes, conditions, plan, records, timing, judge)
        (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
        (out / "report.md").write_text(f"# Reading benchmark\n\n{head}\n\n{report}")
        _log(f"wrote {out / 'results.json'} and {out / 'report.md'}")
    return 0


def _known_modes(modes: list[str]) -> bool:
    """Whether ``modes`` is a non-empty list of :data:`MODES`; say which are not, if not."""
    bad = [m for m in modes if m not in MODES] or (["(none)"] if not modes else [])
    if bad:
        _log(f"error: unknown modes {bad}; choose from {', '.join(MODES)}")
    return not bad


def _run_real(args: argparse.Namespace, judge: JudgeParams | None) -> int:
    """``bench --real DIR``: read the real photos of DIR (:mod:`.real`) and print the table."""
    from .real import bench_real, load_truth, table_markdown

    if args.auto is None:
        modes = ["auto"] if args.modes == ",".join(MODES) else _split(args.modes)
    else:
        modes = ["auto" if args.auto else "default"]
    if not _known_modes(modes):
        return 1
    try:
        load_truth(args.real)
    except (OSError, ValueError) as error:
        _log(f"error: {error}")
        return 1
    loaded = _models_of(args)
    if loaded is None:
        return 2
    models = loaded[1]
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(out / "failures", ignore_errors=True)  # this tool's output of a past run
    records = bench_real(args.real, models, modes, out, log=_log, judge=judge)
    report = table_markdown(records)
    print(f"real photos: {args.real}\n\n{report}", end="")
    if out is not None:
        (out / "results.json").write_text(json.dumps(records, indent=1) + "\n")
        (out / "report.md").write_text(f"# Real-photo benchmark: {args.real}\n\n{report}")
        _log(f"wrote {out / 'results.json'} and {out / 'report.md'}")
    return 0


def _run_ablation(args: argparse.Namespace) -> int:
    """``bench --ablate``: the family read once per :func:`~.ablation.variants`; the table."""
    from .ablation import ablate_real, ablate_sheets, ablation_markdown, tallies_json, variants

    names = None if args.ablate == "all" else _split(args.ablate)
    try:
        chosen = variants(names)
        data = None if args.real else _digits_and_plan(args, _split(args.conditions) or CONDITIONS)
    except (OSError, ValueError) as error:
        _log(f"error: {error}")
        return 1
    loaded = _models_of(args)
    if loaded is None:
        return 2
    model = next(iter(loaded[1].values()))
    if args.real:
        tallies = ablate_real(args.real, model, chosen, log=_log)
        family = f"real photos of {args.real}"
    else:
        x_test, y_test, plan = data
        tallies = ablate_sheets(plan, x_test, y_test, model, chosen, log=_log)
        family = f"{args.sheets} synthetic sheets of {args.digits} digits (seed {args.seed})"
    report = ablation_markdown(tallies, family)
    print(report, end="")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "ablation.json").write_text(json.dumps(tallies_json(tallies), indent=1) + "\n")
        (out / "ablation.md").write_text(f"# Ablation\n\n{report}")
    return 0


def _digits_and_plan(
    args: argparse.Namespace, conditions: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, list[SheetCase]]:
    """Load the digits the sheets are drawn from (MNIST test or fonts) and draw the plan."""
    from ..training.data import load_mnist

    if args.digits == "fonts":
        x_test, y_test = font_digits(args.fonts or HANDWRITING_FONTS)
    else:
        (_, _), (x_test, y_test) = load_mnist(args.data)
    plan = make_plan(
        args.sheets,
        args.seed,
        n_digits_available=len(x_test),
        conditions=conditions,
        max_mp=args.max_mp,
    )
    return x_test, y_test, plan


def _models_of(args: argparse.Namespace) -> tuple[list[str], dict[str, keras.Model]] | None:
    """Load ``--model`` (default: the shipped default) by name; None, the error logged, if not."""
    from ..model import DEFAULT_MODEL, ModelLoadError

    paths = [str(p) for p in (args.model or [DEFAULT_MODEL])]
    try:
        return paths, _load_models(_model_names(paths), paths)
    except ModelLoadError as error:
        _log(f"error: {error}")
        return None


def _load_models(names: Sequence[str], paths: Sequence[str]) -> dict[str, keras.Model]:
    """Load every model (raising :class:`~digit_pipeline.model.ModelLoadError`) and warm it up."""
    from ..model import load_reader, predict_proba

    models = {}
    for name, path in zip(names, paths, strict=True):
        models[name] = load_reader(path)  # read as `read` reads: in NumPy when it can
        predict_proba(models[name], np.zeros((1, MNIST_SIZE, MNIST_SIZE), np.uint8))  # warm up
    return models


def _output_folders(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """Create ``--out`` (if given) and clear its ``failures/`` (with ``--save-failures``)."""
    out = Path(args.out) if args.out else None
    failures = None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        if args.save_failures:
            failures = out / "failures"
            shutil.rmtree(failures, ignore_errors=True)  # this tool's output of a past run
    elif args.save_failures:
        _log("note: --save-failures needs --out; no images will be saved")
    return out, failures


def _bench_sheet(
    case: SheetCase,
    x_test: np.ndarray,
    y_test: np.ndarray,
    models: dict[str, keras.Model],
    modes: Sequence[str],
    failures: Path | None,
    judge: JudgeParams | None = None,
    turns: int = 0,
) -> tuple[list[dict[str, Any]], float, str]:
    """Draw one sheet (turned ``turns`` quarter turns) and read it with every model and mode.

    Returns the per-sheet records, the seconds spent drawing and a progress line; sheets
    not read exactly are saved under ``failures`` (when given).
    """
    start = time.perf_counter()
    data, truth = render_case(case, x_test, y_test, turns)
    drawing = time.perf_counter() - start
    records, notes = [], []
    for name, model in models.items():
        for mode in modes:
            reading, params, image, seconds = read_case(model, data, mode, judge)
            record = score_record(
                case, truth, reading, seconds, model=name, mode=mode, params=params
            )
            record["turned"] = 90 * turns
            records.append(record)
            extra = record["found"] - record["matched"]
            notes.append(
                f"{name}/{mode} {record['correct']}/{record['truth']}"
                + (f" (+{extra} extra)" if extra else "")
                + f" {seconds:.2f}s"
            )
            if failures is not None and not record["exact"]:
                title = (
                    f"{case.case_id} {name}/{mode} {truth['width']}x{truth['height']}: "
                    f"found {record['found']}, matched {record['matched']}, "
                    f"right {record['correct']} of {record['truth']}"
                )
                folder = failures / f"{_safe(name)}-{mode}"
                folder.mkdir(parents=True, exist_ok=True)
                drawn = draw_failure(image, reading, truth, title)
                Image.fromarray(drawn).save(folder / f"{case.case_id}.jpg", quality=88)
    mp = truth["width"] * truth["height"] / 1e6
    line = (
        f"{case.case_id} {truth['width']}x{truth['height']} {mp:.1f} MP "
        f"{len(truth['digits'])} digits, drawn in {drawing:.2f}s | " + " | ".join(notes)
    )
    return records, drawing, line


def _safe(name: str) -> str:
    """Turn a model name (possibly a path) into a folder name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._") or "model"


def _summary(
    records: Sequence[dict[str, Any]], names: Sequence[str], modes: Sequence[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Return ``{model: {mode: {condition or "overall": metrics dict}}}``."""
    return {
        name: {
            mode: {
                c: m.to_dict()
                for c, m in by_condition(
                    [r for r in records if r["model"] == name and r["mode"] == mode]
                ).items()
            }
            for mode in modes
        }
        for name in names
    }


def _head(
    plan: Sequence[SheetCase],
    seed: int,
    records: Sequence[dict[str, Any]],
    drawing: float,
    total: float,
) -> str:
    """Return the report's first line: sheets, digits, sizes and times."""
    return (
        f"{len(plan)} sheets (seed {seed}, {sum(len(c.indices) for c in plan)} digits, "
        f"{min(r['megapixels'] for r in records):.1f}-"
        f"{max(r['megapixels'] for r in records):.1f} MP), drawn in {drawing:.0f} s; "
        f"whole run {total:.0f} s"
    )


def _results(
    args: argparse.Namespace,
    names: Sequence[str],
    paths: Sequence[str],
    modes: Sequence[str],
    conditions: Sequence[str],
    plan: Sequence[SheetCase],
    records: list[dict[str, Any]],
    seconds: dict[str, float],
    judge: JudgeParams | None = None,
) -> dict[str, Any]:
    """Return the content of ``results.json``."""
    config = {
        "sheets": args.sheets,
        "seed": args.seed,
        "data": args.data,
        "digits": args.digits,
        "models": dict(zip(names, paths, strict=True)),
        "modes": modes,
        "conditions": conditions,
        "max_mp": args.max_mp,
        "turn": bool(args.turn),
        **{flag: bool(getattr(args, flag)) for flag in FAMILIES},
        "judge_off": sorted(judge.off) if judge is not None else [],
    }
    return {
        "config": config,
        "seconds": seconds,
        "summary": _summary(records, names, modes),
        "sheets": records,
        "plan": [c.to_dict() for c in plan],
    }
