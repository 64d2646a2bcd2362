"""The stages of the reading pipeline, each a small pure function.

Every stage takes the image first and its knobs after, validates them with
:mod:`digit_pipeline.validation`, and returns a new array: inputs are never modified.

Submodules, by concern:

- :mod:`~digit_pipeline.stages.page`: grey conversion, the working copy, uneven lighting
  and ruled lines.
- :mod:`~digit_pipeline.stages.printed`: dots and dashes printed on the paper
  (:func:`remove_print`).
- :mod:`~digit_pipeline.stages.shapes`: rings and boxes drawn round digits
  (:func:`remove_shapes`).
- :mod:`~digit_pipeline.stages.surround`: the desk around a photographed sheet
  (:func:`page_surround`) and the sheet's outline on it (:func:`find_page`).
- :mod:`~digit_pipeline.stages.perspective`: the page found in a photo warped flat
  (:func:`page_corners`, :func:`flatten_page`).
- :mod:`~digit_pipeline.stages.edges`: blur, Canny edges, dilation.
- :mod:`~digit_pipeline.stages.boxes`: bounding boxes, nested boxes, reading order (lines
  along the sheet's slope, numbers by their gaps) and mapping boxes back to the original
  image.
- :mod:`~digit_pipeline.stages.refine`: joining fragments, splitting touching digits,
  shrinking a box to its ink, opening drawn enclosures, merging overlaps.
- :mod:`~digit_pipeline.stages.crops`: cropping a box and binarising it (shared helpers).
- :mod:`~digit_pipeline.stages.ink`: the sheet's ink against its own paper, and how faint
  a box's ink may be (:func:`ink_mask`, :func:`ink_floor`).
- :mod:`~digit_pipeline.stages.digits`: black-and-white ROIs and MNIST-faithful 28x28 digits.
- :mod:`~digit_pipeline.stages.drawing`: boxes and labels drawn on the image.

Everything is importable from here: ``from digit_pipeline.stages import blur_image``.
What only the judge asks of a box (its ink's pieces, whose ink it is, a long tail) lives
with the judge, in :mod:`digit_pipeline.reading.judge`.
"""

from ..model.contract import MNIST_SIZE
from .boxes import (
    MAX_CONTOURS,
    drop_nested,
    find_contours_and_boxes,
    number_indices,
    reading_order,
    reading_order_indices,
    scale_boxes,
)
from .crops import MIN_INK_CONTRAST
from .digits import (
    MNIST_BOX,
    MNIST_CENTER,
    MNIST_STROKE,
    PAIR_SHAPE,
    THIN_STROKE,
    extract_roi_black_white,
    resize_pairs,
    resize_rois,
    stroke_width,
)
from .digits import _thicken_thin_strokes as _thicken_thin_strokes
from .drawing import draw_boxes, draw_outline, shade_outside
from .edges import blur_image, dilate_image, edges_canny
from .ink import MIN_DARKNESS, darkness, ink_floor, ink_mask
from .page import (
    DIM_PAPER,
    LIGHTING_WINDOW,
    STEP_SIZE,
    flatten_lighting,
    remove_lines,
    to_gray,
    working_copy,
)
from .perspective import (
    boxes_in_photo,
    flatten_page,
    flattened_size,
    order_corners,
    page_corners,
)
from .printed import print_marks, remove_print
from .refine import (
    ink_box,
    join_fragments,
    merge_overlapping,
    open_enclosures,
    split_wide_boxes,
    typical_height,
)
from .shapes import SHAPE_INK, drawn_shapes, remove_shapes
from .surround import SHARP_STEP, SURROUND_DARKER, SURROUND_INK, find_page, page_surround

__all__ = [
    "DIM_PAPER",
    "LIGHTING_WINDOW",
    "MAX_CONTOURS",
    "MIN_DARKNESS",
    "MIN_INK_CONTRAST",
    "MNIST_BOX",
    "MNIST_CENTER",
    "MNIST_SIZE",
    "MNIST_STROKE",
    "PAIR_SHAPE",
    "SHAPE_INK",
    "SHARP_STEP",
    "STEP_SIZE",
    "SURROUND_DARKER",
    "SURROUND_INK",
    "THIN_STROKE",
    "blur_image",
    "boxes_in_photo",
    "darkness",
    "dilate_image",
    "draw_boxes",
    "draw_outline",
    "drawn_shapes",
    "drop_nested",
    "edges_canny",
    "extract_roi_black_white",
    "find_contours_and_boxes",
    "find_page",
    "flatten_lighting",
    "flatten_page",
    "flattened_size",
    "ink_box",
    "ink_floor",
    "ink_mask",
    "join_fragments",
    "merge_overlapping",
    "number_indices",
    "open_enclosures",
    "order_corners",
    "page_corners",
    "page_surround",
    "print_marks",
    "reading_order",
    "reading_order_indices",
    "remove_lines",
    "remove_print",
    "remove_shapes",
    "resize_pairs",
    "resize_rois",
    "scale_boxes",
    "shade_outside",
    "split_wide_boxes",
    "stroke_width",
    "to_gray",
    "typical_height",
    "working_copy",
]
