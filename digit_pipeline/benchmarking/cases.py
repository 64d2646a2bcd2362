"""One benchmark sheet: draw it, read it as ``read`` does, and score the reading."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..aliases import ColorImage
from ..io.images import encode_jpeg, encode_png
from .plan import MODES, SheetCase
from .sheets import make_sheet

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from ..reading import SheetReading
    from ..reading.judge import JudgeParams
    from ..reading.params import PipelineParams

__all__ = ["read_case", "render_case", "score_record"]


def render_case(
    case: SheetCase, x_test: np.ndarray, y_test: np.ndarray, turns: int = 0
) -> tuple[bytes, dict[str, Any]]:
    """Draw a case's sheet and encode it as a file would hold it.

    The sheet is rendered without JPEG and then encoded once, at
    ``case.style.jpeg_quality`` (or as PNG when that is None), so the decoded bytes are
    exactly what :func:`~.sheets.make_sheet` with that quality returns.

    Parameters
    ----------
    case : SheetCase
        From :func:`~.plan.make_plan`.
    x_test, y_test : ndarray
        MNIST test images ``(N, 28, 28)`` uint8 and labels.
    turns : int
        Quarter turns clockwise the sheet is stored at (a photo stored sideways or upside
        down, ``bench --turn``); the truth's boxes, width and height are the turned image's,
        its text the sheet's.

    Returns
    -------
    data : bytes
        The JPEG or PNG file.
    truth : dict
        As :func:`~.sheets.make_sheet` returns it (final ``width`` and
        ``height`` included).
    """
    idx = np.asarray(case.indices)
    style = replace(case.style, jpeg_quality=None)
    size = case.size
    for attempt in range(10):
        try:
            image, truth = make_sheet(
                x_test[idx],
                [int(v) for v in y_test[idx]],
                case.lines,
                size,
                style,
                case.seed,
                source_indices=case.indices,
            )
            break
        except ValueError as error:  # the plan's estimate was short: draw a larger sheet
            if "too small" not in str(error) or attempt == 9:
                raise
            size = (math.ceil(size[0] * 1.1), math.ceil(size[1] * 1.1))
    if turns % 4:
        image, truth = _turned(image, truth, turns)
    quality = case.style.jpeg_quality
    data = encode_png(image, compress_level=1) if quality is None else encode_jpeg(image, quality)
    return data, truth


def _turned(image: ColorImage, truth: dict[str, Any], turns: int) -> tuple[ColorImage, dict]:
    """Turn a drawn sheet and its truth's boxes ``turns`` quarter turns clockwise."""
    from ..reading.orientation import turn_boxes, turn_image

    boxes = turn_boxes([tuple(d["box"]) for d in truth["digits"]], turns, image.shape)
    image = turn_image(image, turns)
    digits = [{**d, "box": list(b)} for d, b in zip(truth["digits"], boxes, strict=True)]
    return image, {**truth, "digits": digits, "width": image.shape[1], "height": image.shape[0]}


# ----------------------------------------------------------------------------- reading


def read_case(
    model: keras.Model,
    data: bytes,
    mode: str,
    judge: JudgeParams | None = None,
    params: PipelineParams | None = None,
) -> tuple[SheetReading, PipelineParams, ColorImage, float]:
    """Read an encoded sheet the way ``python -m digit_pipeline read`` does.

    Parameters
    ----------
    model : keras.Model
        A loaded model.
    data : bytes
        The image file.
    mode : {"default", "auto"}
        Default parameters, or the :func:`~digit_pipeline.reading.autofit.auto_fit` of the image.
    judge : JudgeParams, optional
        The judge's thresholds and the rules switched off (``bench --judge-off``).
    params : PipelineParams, optional
        The parameters (with ``auto``, the base of the fit: its switches); the defaults.

    Returns
    -------
    reading : SheetReading
        The digits found and read.
    params : PipelineParams
        The parameters used.
    image : ndarray
        The decoded image; the boxes are its pixels (a flattened page's carried back,
        :meth:`~digit_pipeline.reading.Reading.in_image`).
    seconds : float
        Wall time of decode, fit (``auto``) and reading.
    """
    from ..io.images import decode_image
    from ..reading import read_sheet
    from ..reading.judge import DEFAULT_JUDGE

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    start = time.perf_counter()
    image = decode_image(data)
    auto, judge = mode == "auto", judge or DEFAULT_JUDGE
    read = read_sheet(image, params, model=model, auto=auto, judge=judge, orient=True)
    return read.in_image(), read.params, image, time.perf_counter() - start


def score_record(
    case: SheetCase,
    truth: dict[str, Any],
    reading: SheetReading,
    seconds: float,
    *,
    model: str,
    mode: str,
    params: PipelineParams | None = None,
) -> dict[str, Any]:
    """Score one reading against its truth; return the per-sheet record of ``results.json``.

    Returns
    -------
    dict
        ``case_id, condition, model, mode, width, height, megapixels, truth, found,
        matched, correct, exact, text_exact, seconds, seconds_per_mp, text, truth_text``
        and, when given, ``params``.
    """
    from .scoring import score_sheet

    score = score_sheet(
        [d.box for d in reading.digits],
        [d.label for d in reading.digits],
        [tuple(d["box"]) for d in truth["digits"]],
        [d["label"] for d in truth["digits"]],
    )
    mp = truth["width"] * truth["height"] / 1e6
    record = {
        "case_id": case.case_id,
        "condition": case.condition,
        "model": model,
        "mode": mode,
        "width": truth["width"],
        "height": truth["height"],
        "megapixels": round(mp, 3),
        "truth": score.truth,
        "found": score.found,
        "matched": score.matched,
        "correct": score.correct,
        "exact": score.exact,
        "text_exact": reading.text == truth["text"],
        "seconds": round(seconds, 4),
        "seconds_per_mp": round(seconds / mp, 4),
        "text": reading.text,
        "truth_text": truth["text"],
    }
    if params is not None:
        record["params"] = params.to_dict()
    return record
