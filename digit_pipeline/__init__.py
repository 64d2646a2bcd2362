"""Read sheets of handwritten digits: OpenCV stages, MNIST-faithful ROIs, a Keras model.

The stages are small pure functions (:mod:`digit_pipeline.stages`); :func:`run_pipeline`
runs them all and returns every intermediate; :mod:`digit_pipeline.model` holds the
model contract; :mod:`digit_pipeline.reading` turns an image into text.
"""

from .params import CANVAS_PARAMS, PARAM_SPECS, ParamSpec, PipelineParams
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
    "ParamSpec",
    "PipelineParams",
    "blur_image",
    "dilate_image",
    "draw_boxes",
    "edges_canny",
    "extract_roi_black_white",
    "find_contours_and_boxes",
    "reading_order",
    "remove_lines",
    "resize_rois",
    "to_gray",
    "working_copy",
]
