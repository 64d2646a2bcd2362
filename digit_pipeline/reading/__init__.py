"""The reader: from an image to text, the one reading path the app, ``read`` and ``bench`` call.

- :mod:`~digit_pipeline.reading.params`: every stage parameter, its default and range;
- :mod:`~digit_pipeline.reading.prepared`: :func:`prepare`, once per image (grey, working
  copy, the desk around the sheet, lines, lighting);
- :mod:`~digit_pipeline.reading.pipeline`: :func:`segment` (every slider move), every
  intermediate kept, and the stage previews an app shows (``STAGE_VIEWS``);
- :mod:`~digit_pipeline.reading.autofit`: the parameters an image's ink suggests, and the
  candidates a reader tries;
- :mod:`~digit_pipeline.reading.judge`: the classifier as a judge — splits what touches,
  sets aside what is no digit (each box with its rule), scores a reading; with the box
  helpers only it uses;
- :mod:`~digit_pipeline.reading.results`: a digit read, a sheet's digits, their text;
- :mod:`~digit_pipeline.reading.orientation`: quarter turns of images and boxes, and the
  turn a reading prefers (a photo stored sideways);
- :mod:`~digit_pipeline.reading.sheet`: :func:`read_sheet` (flatten, fit, prepare,
  segment, cut, classify, judge, the way up) and :func:`fit_sheet` (the fit, judged by
  reading);
- :mod:`~digit_pipeline.reading.reader`: :class:`Reader`, the one cached reader (each
  step once per image, parameters and model: what an app calls on every rerun).

Imports run one way: params ← prepared ← pipeline ← autofit ← judge ← orientation ← sheet ← reader;
nothing here imports training, benchmarking, the user's data or streamlit.
"""

from .reader import Reader
from .results import (
    LOW_CONFIDENCE,
    DigitReading,
    SheetReading,
    classify,
    lines_text,
    sheet_from_proba,
    without,
)
from .sheet import Reading, fit_sheet, keep_set_aside, orient_reading, read_sheet

__all__ = [
    "LOW_CONFIDENCE",
    "DigitReading",
    "Reader",
    "Reading",
    "SheetReading",
    "classify",
    "fit_sheet",
    "keep_set_aside",
    "lines_text",
    "orient_reading",
    "read_sheet",
    "sheet_from_proba",
    "without",
]
