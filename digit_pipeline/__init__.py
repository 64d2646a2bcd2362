"""Read sheets of handwritten digits: OpenCV stages, MNIST-faithful ROIs, a Keras model.

- :mod:`~digit_pipeline.reading`: **the reader**, the one reading path the app, ``read``
  and ``bench`` all call (:func:`read_sheet`: flatten, fit, prepare, segment, cut,
  classify, judge), with its parameters, pipeline, fit and judge;
- :mod:`~digit_pipeline.stages`: image operations, small pure functions by concern (page,
  edges, boxes, digits, drawing);
- :mod:`~digit_pipeline.model`: the model contract (28×28 float32 in [0, 1], 10 classes),
  with :mod:`~digit_pipeline.model.contract`'s ``MNIST_SIZE``, the one 28.

Beside them: :mod:`~digit_pipeline.io` (every decoder and encoder, and a reading's
downloads), :mod:`~digit_pipeline.training` (building and training models),
:mod:`~digit_pipeline.userdata` (the user's own digits), :mod:`~digit_pipeline.benchmarking`
(generated sheets and their scoring), :mod:`~digit_pipeline.batch` (archives) and
:mod:`~digit_pipeline.cli` (one module per command). At the top level only shared helpers:
:mod:`~digit_pipeline.validation` (every check) and :mod:`~digit_pipeline.aliases` (type
aliases). The package never imports streamlit.
"""

from .reading import Reading, SheetReading, fit_sheet, read_sheet
from .reading.autofit import AutoFit, auto_fit
from .reading.params import CANVAS_PARAMS, PARAM_SPECS, ParamSpec, PipelineParams
from .reading.pipeline import PipelineResult, run_pipeline, segment
from .reading.prepared import Prepared, prepare
from .stages import (
    blur_image,
    dilate_image,
    draw_boxes,
    edges_canny,
    extract_roi_black_white,
    find_contours_and_boxes,
    reading_order,
    remove_lines,
    resize_rois,
    to_gray,
    working_copy,
)

__all__ = [
    "CANVAS_PARAMS",
    "PARAM_SPECS",
    "AutoFit",
    "ParamSpec",
    "PipelineParams",
    "PipelineResult",
    "Prepared",
    "Reading",
    "SheetReading",
    "auto_fit",
    "blur_image",
    "dilate_image",
    "draw_boxes",
    "edges_canny",
    "extract_roi_black_white",
    "find_contours_and_boxes",
    "fit_sheet",
    "prepare",
    "read_sheet",
    "reading_order",
    "remove_lines",
    "resize_rois",
    "run_pipeline",
    "segment",
    "to_gray",
    "working_copy",
]
