"""The single source of truth for every stage parameter: default, range, step, label.

The Streamlit sidebar and the command line are both built from :data:`PARAM_SPECS`.
Pixel-sized knobs (mask size, dilation kernel, minimum box area) act on the *working copy*:
the grey image scaled down so that its longer side is at most ``work_size`` pixels. That
keeps one set of defaults right for a 0.5 MP scan and a 12 MP photo alike; boxes are always
reported in original-image pixels.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..validation import check_float, check_int


def spec(
    default: Any,
    label: str,
    help: str,
    *,
    low: float | None = None,
    high: float | None = None,
    step: float | None = None,
    choices: tuple[int, ...] | None = None,
    odd: bool = False,
    optional: str | None = None,
) -> Any:
    """Declare one field of a spec dataclass: its default, label, why, and bounds."""
    return field(
        default=default,
        metadata={
            "label": label,
            "help": help,
            "low": low,
            "high": high,
            "step": step,
            "choices": choices,
            "odd": odd,
            "optional": optional,
        },
    )


@dataclass(frozen=True)
class PipelineParams:
    """Every tunable knob of the reading pipeline, validated on construction.

    Parameters
    ----------
    work_size : int
        Longer side, in pixels, of the working copy the edge stages run on.
    blur_size : int
        Gaussian mask size (odd).
    canny_lower : int
        Canny hysteresis lower threshold.
    canny_multiplier : float
        Canny upper threshold = lower x multiplier.
    canny_aperture : int
        Sobel aperture of Canny: 3, 5 or 7.
    dilate_size : int
        Side of the square dilation kernel.
    dilate_iterations : int
        Number of dilation passes.
    min_box_area : int
        Boxes smaller than this (working-copy pixels) are dropped as specks.
    flatten_page : bool
        In a photo of a whole sheet on a darker desk, warp the sheet flat before reading
        (:func:`~digit_pipeline.stages.page_corners`); a scan or a crop is read as it is.
    invert : bool
        The sheet has light ink on dark paper: invert it before anything else.
    remove_lines : bool
        Suppress long straight lines (ruled or squared paper) and the dots and dashes of
        dotted and dashed grids (:func:`~digit_pipeline.stages.remove_print`) before
        finding edges.
    join_fragments : bool
        Join pieces of one digit (see :func:`~digit_pipeline.stages.join_fragments`).
    split_touching : bool
        Split boxes holding touching digits (see
        :func:`~digit_pipeline.stages.split_wide_boxes`), and let the judge cut boxes
        whose parts read better (:func:`~digit_pipeline.reading.judge.split_touching`).
    roi_threshold : int or None
        Grey level separating ink from paper inside each box; ``None`` picks it per box
        with Otsu's method.

    Raises
    ------
    ValueError
        If a value is outside its declared range; the message names the field.

    Examples
    --------
    >>> PipelineParams().canny_upper == round(PipelineParams().canny_lower * 3.0)
    True
    >>> PipelineParams(blur_size=4)
    Traceback (most recent call last):
    ...
    ValueError: blur_size must be odd and >= 1 and <= 31, got 4
    """

    work_size: int = spec(
        1200,
        "Working size (px)",
        "Edge stages run on a copy scaled so its longer side is at most this.",
        low=400,
        high=4000,
        step=100,
    )
    blur_size: int = spec(
        5,
        "Gaussian mask size",
        "Odd side of the Gaussian blur mask.",
        low=1,
        high=31,
        step=2,
        odd=True,
    )
    canny_lower: int = spec(
        30,
        "Canny lower threshold",
        "Weaker gradients than this are never edges.",
        low=0,
        high=255,
        step=1,
    )
    canny_multiplier: float = spec(
        3.0,
        "Canny multiplier",
        "Upper threshold = lower threshold x multiplier.",
        low=1.0,
        high=5.0,
        step=0.1,
    )
    canny_aperture: int = spec(3, "Canny aperture", "Sobel aperture size.", choices=(3, 5, 7))
    dilate_size: int = spec(
        3, "Dilation kernel size", "Side of the square dilation kernel.", low=1, high=25, step=1
    )
    dilate_iterations: int = spec(
        1, "Dilation iterations", "How many times to dilate.", low=0, high=10, step=1
    )
    min_box_area: int = spec(
        100,
        "Minimum box area",
        "Smaller boxes (working-copy pixels) are dropped as specks.",
        low=0,
        high=5000,
        step=10,
    )
    flatten_page: bool = spec(
        True,
        "Flatten the page",
        "In a photo of a sheet on a darker desk, warp the sheet flat (four corners) first.",
    )
    invert: bool = spec(
        False,
        "Light ink on dark paper",
        "Invert the image first (chalk on a blackboard, white on black). Auto-fit sets it.",
    )
    remove_lines: bool = spec(
        True,
        "Remove ruled lines",
        "Suppress the lines of ruled or squared paper, and the dots and dashes of dotted "
        "and dashed grids.",
    )
    join_fragments: bool = spec(
        True,
        "Join broken strokes",
        "Join small pieces (a floating bar, a pencil lift) to the digit beside them.",
    )
    split_touching: bool = spec(
        True,
        "Split touching digits",
        "Cut boxes much wider than a digit, or read better as parts, into one box per digit.",
    )
    roi_threshold: int | None = spec(
        None,
        "ROI threshold",
        "Grey level between ink and paper inside each box.",
        low=0,
        high=255,
        step=1,
        optional="automatic (Otsu)",
    )

    def __post_init__(self) -> None:  # noqa: D105
        check_fields(self, PARAM_SPECS)

    @property
    def canny_upper(self) -> int:
        """Canny upper threshold, ``round(canny_lower * canny_multiplier)``."""
        return round(self.canny_lower * self.canny_multiplier)

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as a plain JSON-ready dict."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> PipelineParams:
        """Return a copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class ParamSpec:
    """How one field of :class:`PipelineParams` (or another spec) is shown and bounded."""

    name: str
    kind: type
    default: Any
    label: str
    help: str
    low: float | None
    high: float | None
    step: float | None
    choices: tuple[int, ...] | None
    odd: bool
    optional: str | None


def _kind(annotation: str) -> type:
    if annotation.startswith("bool"):
        return bool
    if annotation.startswith("float"):
        return float
    return int


def specs_of(cls: type) -> tuple[ParamSpec, ...]:
    """One :class:`ParamSpec` per field of a dataclass declared with :func:`spec`, in order."""
    return tuple(
        ParamSpec(name=f.name, kind=_kind(str(f.type)), default=f.default, **f.metadata)
        for f in dataclasses.fields(cls)
        if f.metadata
    )


def check_fields(obj: Any, specs: tuple[ParamSpec, ...]) -> None:
    """Validate each field of a frozen dataclass against its spec; normalise its type.

    Raises
    ------
    ValueError
        Naming the first field outside its range.
    """
    for spec in specs:
        value = getattr(obj, spec.name)
        if spec.optional and value is None:
            continue
        if spec.kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{spec.name} must be True or False, got {value!r}")
        elif spec.kind is float:
            object.__setattr__(
                obj, spec.name, check_float(value, spec.name, low=spec.low, high=spec.high)
            )
        else:
            check_int(
                value,
                spec.name,
                low=None if spec.low is None else int(spec.low),
                high=None if spec.high is None else int(spec.high),
                odd=spec.odd,
                choices=spec.choices,
            )
            object.__setattr__(obj, spec.name, int(value))


PARAM_SPECS: tuple[ParamSpec, ...] = specs_of(PipelineParams)
"""One :class:`ParamSpec` per field, in declaration order."""


CANVAS_PARAMS = PipelineParams(remove_lines=False)
"""Stage defaults for digits drawn on the app's canvas: clean black strokes on white, no
ruled lines to remove (and a large "1" may span half the canvas, which line removal would
take for a rule)."""
