"""The benchmark's families: the same planned sheets drawn another way.

``bench --inks`` draws each sheet of the plan in a coloured ink on a coloured paper
(:func:`in_coloured_ink`); ``bench --grids`` writes it on dotted, dashed or fine printed
paper (:func:`on_grid_paper`); ``bench --numbers`` writes each line as numbers apart
(:func:`written_as_numbers`); ``bench --defocus`` photographs it out of focus with dark
corners (:func:`out_of_focus`), ``bench --webcam`` through a webcam
(:func:`through_a_webcam`); ``bench --shapes`` draws a shape round each number
(:func:`in_drawn_shapes`); ``bench --full-page`` fills a 12 MP page with small digits
close together (:func:`on_a_full_page`); ``bench --pairs`` writes each line as pairs of
digits run into each other (:func:`in_touching_pairs`). Each choice comes from the case's
own seed, so a family is the same every run, and a change is judged on the kind, not on
one photo.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .plan import SheetCase, _fit_layout
from .styles import SheetStyle

__all__ = [
    "COLOURED_INKS",
    "COLOURED_PAPERS",
    "FAMILIES",
    "NUMBER_GAPS",
    "WEBCAM_FRAMES",
    "in_coloured_ink",
    "in_drawn_shapes",
    "in_touching_pairs",
    "on_a_full_page",
    "on_grid_paper",
    "out_of_focus",
    "through_a_webcam",
    "written_as_numbers",
]

COLOURED_INKS = (  # red, light red, pink, orange, purple, green, light green, bright blue
    (200, 40, 45),
    (225, 85, 80),
    (215, 70, 140),
    (225, 115, 40),
    (120, 60, 150),
    (40, 140, 70),
    (95, 175, 90),
    (50, 90, 210),
)
"""Marker and felt-pen inks photographed: ``bench --inks`` draws each sheet in one of them."""
NUMBER_GAPS = (1.8, 3.0)
"""``bench --numbers``: the gap between numbers, in digit heights (then up to 40 % more).
Within a number, real_dev's writers leave up to 1.3 heights (a 3x3 grid): numbers closer
than that cannot be told apart by their gaps."""
COLOURED_PAPERS = (  # pink, yellow, kraft brown, light blue, light green, grey, white
    (245, 212, 216),
    (250, 240, 170),
    (205, 170, 125),
    (205, 225, 245),
    (215, 240, 205),
    (214, 214, 208),
    (248, 247, 243),
)
"""Papers for ``bench --inks``: coloured, brown and grey as often as white."""


def _refitted(case: SheetCase, style: SheetStyle, size: tuple[int, int] | None = None) -> SheetCase:
    """Return ``case`` drawn in ``style`` on a sheet of ``size`` (default the case's).

    Its layout is trimmed again (:func:`~.plan._fit_layout`) where the new look needs more
    room.
    """
    lines, size = _fit_layout(style, list(case.lines), case.size if size is None else size)
    return replace(
        case, style=style, lines=tuple(lines), size=size, indices=case.indices[: sum(lines)]
    )


def in_coloured_ink(case: SheetCase) -> SheetCase:
    """Return ``case`` drawn in a coloured ink on a coloured paper (``bench --inks``).

    Ink, paper and pen pressure come from the case's own seed, so the family is the same
    every run; everything else (digits, layout, camera) is the case's.

    Examples
    --------
    >>> from digit_pipeline.benchmarking.plan import make_plan
    >>> case = make_plan(2, 0)[1]
    >>> inked = in_coloured_ink(case)
    >>> inked.style.ink_rgb in COLOURED_INKS, inked.style.paper_rgb in COLOURED_PAPERS
    (True, True)
    >>> inked.indices == case.indices and in_coloured_ink(case) == inked
    True
    """
    rng = np.random.default_rng([case.seed, 0xC010])
    style = replace(
        case.style,
        ink="pen",
        ink_rgb=COLOURED_INKS[rng.integers(len(COLOURED_INKS))],
        paper_rgb=COLOURED_PAPERS[rng.integers(len(COLOURED_PAPERS))],
        ink_opacity=float(rng.uniform(0.8, 1.0)),
    )
    return replace(case, style=style)


def on_grid_paper(case: SheetCase) -> SheetCase:
    """Return ``case`` written on printed paper: dotted, dashed or fine grids (``bench --grids``).

    Ruled or squared paper, printed as dots (a dot at each crossing, or rows of close
    dots), as dashes, or as solid lines twice as close as the lines of digits (5 mm
    squares under digits two squares tall) — also half the dotted and dashed sheets are
    that fine. Each print comes from the case's own seed; the layout is trimmed again if
    the wider line spacing a ruling needs does not fit the sheet.

    Examples
    --------
    >>> from digit_pipeline.benchmarking.plan import make_plan
    >>> case = make_plan(2, 0)[1]
    >>> printed = on_grid_paper(case)
    >>> printed.style.ruling in ("ruled", "squared"), printed == on_grid_paper(case)
    (True, True)
    >>> printed.indices == case.indices[: sum(printed.lines)]
    True
    """
    rng = np.random.default_rng([case.seed, 0x6121D])
    kind = ("dotted", "dashed", "solid")[rng.choice(3, p=(0.4, 0.4, 0.2))]
    style = replace(
        case.style,
        ruling="squared" if rng.random() < 0.5 else "ruled",
        rule_print=kind,
        rule_divisions=2 if kind == "solid" or rng.random() < 0.5 else 1,
        line_spacing=max(case.style.line_spacing, float(rng.uniform(1.3, 1.7))),
    )
    return _refitted(case, style)


def written_as_numbers(case: SheetCase) -> SheetCase:
    """Return ``case`` with each line written as numbers apart (``bench --numbers``).

    Each line's digits become numbers of 1-4 digits, :data:`NUMBER_GAPS` digit heights
    apart, each a little higher or lower than the last (``SheetStyle.number_gap``); the
    truth's text parts them with spaces. Squared paper becomes plain (its one digit per
    square has no gaps to read); the layout is trimmed again if the wider lines do not fit.

    Examples
    --------
    >>> from digit_pipeline.benchmarking.plan import make_plan
    >>> case = make_plan(2, 0)[1]
    >>> apart = written_as_numbers(case)
    >>> apart.style.number_gap >= NUMBER_GAPS[0], apart == written_as_numbers(case)
    (True, True)
    >>> apart.indices == case.indices[: sum(apart.lines)]
    True
    """
    rng = np.random.default_rng([case.seed, 0x2B3])
    style = replace(
        case.style,
        number_gap=float(rng.uniform(*NUMBER_GAPS)),
        ruling=None if case.style.ruling == "squared" else case.style.ruling,
    )
    return _refitted(case, style)


def out_of_focus(case: SheetCase) -> SheetCase:
    """Return ``case`` photographed out of focus, with dark corners (``bench --defocus``).

    A close-up whose lens missed the paper: a disk blur 3-6 % of the digits' height wide
    (a 140 px digit's strokes spread over 4-8 px more each side), corners 30-60 % darker
    than the centre, lighting a little uneven. From the case's own seed; digits, layout
    and paper are the case's.

    Examples
    --------
    >>> from digit_pipeline.benchmarking.plan import make_plan
    >>> case = make_plan(2, 0)[1]
    >>> blurred = out_of_focus(case)
    >>> blurred.style.defocus_px > 0, blurred.indices == case.indices
    (True, True)
    """
    rng = np.random.default_rng([case.seed, 0xDEF0C])
    lo, hi = case.style.digit_height
    style = replace(
        case.style,
        defocus_px=round(float(rng.uniform(0.03, 0.06)) * (lo + hi) / 2, 1),
        vignette=float(rng.uniform(0.3, 0.6)),
        lighting=max(case.style.lighting, float(rng.uniform(0.1, 0.3))),
    )
    return replace(case, style=style)


WEBCAM_FRAMES = ((640, 480), (1280, 720))
"""The frames of ``bench --webcam`` (width, height)."""


def through_a_webcam(case: SheetCase) -> SheetCase:
    """Return ``case`` as a webcam frame: small, faint, noisy digits (``bench --webcam``).

    A 640x480 or 1280x720 frame, digits 4-6 % of its height tall, ink at 35-60 % of its
    contrast, grey light, sensor noise 4-7 levels, a soft lens and a low JPEG quality
    (45-70). The layout is trimmed to the frame; the digits are the case's.

    Examples
    --------
    >>> from digit_pipeline.benchmarking.plan import make_plan
    >>> case = make_plan(2, 0)[1]
    >>> frame = through_a_webcam(case)
    >>> frame.size in WEBCAM_FRAMES or frame.size[0] > 640, frame == through_a_webcam(case)
    (True, True)
    """
    rng = np.random.default_rng([case.seed, 0xCA3])
    width, height = WEBCAM_FRAMES[int(rng.integers(len(WEBCAM_FRAMES)))]
    tall = round(height * float(rng.uniform(0.04, 0.06)))
    style = replace(
        case.style,
        digit_height=(tall, round(tall * 1.25)),
        stroke_px=0,
        stroke_frac=None,
        ink_opacity=float(rng.uniform(0.35, 0.6)),
        lighting=float(rng.uniform(0.2, 0.45)),
        shadow=0.0,
        noise_sigma=float(rng.uniform(4.0, 7.0)),
        blur_sigma=float(rng.uniform(0.6, 1.1)),
        jpeg_quality=int(rng.integers(45, 71)),
        rotation_deg=float(np.clip(case.style.rotation_deg, -3.0, 3.0)),
        ruling=None if case.style.ruling == "squared" else case.style.ruling,
        rule_divisions=1,
    )
    return _refitted(case, style, (width, height))


def in_drawn_shapes(case: SheetCase) -> SheetCase:
    """Return ``case`` written as numbers, each inside a drawn shape (``bench --shapes``).

    Each line's digits become numbers of 1-4 digits 2-3 digit heights apart
    (:func:`written_as_numbers`'s layout), each inside an ellipse or a rectangle drawn in
    the same ink, 0-35 % of its height away from the digits or cutting into them by up to
    8 % (``SheetStyle.shapes``); the lines are spaced to leave the shapes room, on plain
    paper. The shapes are no digits: the truth is the numbers'.

    Examples
    --------
    >>> from digit_pipeline.benchmarking.plan import make_plan
    >>> case = make_plan(2, 0)[1]
    >>> framed = in_drawn_shapes(case)
    >>> framed.style.shapes, framed.style.ruling, framed == in_drawn_shapes(case)
    (1.0, None, True)
    """
    rng = np.random.default_rng([case.seed, 0x5A9E])
    style = replace(
        case.style,
        number_gap=float(rng.uniform(2.0, 3.0)),
        shapes=1.0,
        ruling=None,
        line_spacing=max(case.style.line_spacing, float(rng.uniform(2.0, 2.4))),
    )
    return _refitted(case, style)


FULL_PAGES = ((4000, 3000), (3000, 4000))
"""The pages of ``bench --full-page``: a 12 MP photo, landscape or portrait (width, height)."""


def on_a_full_page(case: SheetCase) -> SheetCase:
    """Return ``case`` as a 12 MP page full of small digits close together (``bench --full-page``).

    Digits 1.5-2.5 % of the page's longer side tall (60-100 px, a few dozen pixels on the
    working copy), 0.1-0.3 of a digit's width apart, lines 1.35-1.8 heights apart, as many
    lines of 10-32 digits as the page holds (up to 20): a page of pen or pencil figures in
    the case's ink and paper. The case's digits come first, then more of MNIST's test
    digits drawn from the case's seed (below the largest index the case already holds, so
    they exist wherever the case does).

    Examples
    --------
    >>> from digit_pipeline.benchmarking.plan import make_plan
    >>> case = make_plan(2, 0)[1]
    >>> page = on_a_full_page(case)
    >>> page.size in FULL_PAGES, len(page.indices) > 3 * len(case.indices)
    (True, True)
    >>> len(page.indices) == sum(page.lines), page == on_a_full_page(case)
    (True, True)
    """
    rng = np.random.default_rng([case.seed, 0xF011])
    size = FULL_PAGES[int(rng.integers(len(FULL_PAGES)))]
    tall = round(max(size) * float(rng.uniform(0.015, 0.025)))
    style = replace(
        case.style,
        digit_height=(round(tall / 1.25), tall),
        gap_frac=float(rng.uniform(0.1, 0.3)),
        line_spacing=float(rng.uniform(1.35, 1.8)),
        stroke_px=0,
        stroke_frac=None if case.style.stroke_frac is None else min(case.style.stroke_frac, 0.12),
        rotation_deg=float(np.clip(case.style.rotation_deg, -2.0, 2.0)),
        number_gap=0.0,
        shapes=0.0,
    )
    wanted = [int(n) for n in rng.integers(10, 33, size=20)]
    lines, size = _fit_layout(style, wanted, size)
    more = rng.integers(0, max(case.indices) + 1, size=max(0, sum(lines) - len(case.indices)))
    indices = (*case.indices, *(int(k) for k in more))[: sum(lines)]
    return replace(case, style=style, lines=tuple(lines), size=size, indices=indices)


def in_touching_pairs(case: SheetCase) -> SheetCase:
    """Return ``case`` written as pairs of touching digits (``bench --pairs``).

    Each line's digits become numbers of two (the last may be one), 1.2-2 digit heights
    apart; the second digit of a pair runs into the first by up to 40 % of the narrower
    one's width, or touches it (``gap_frac`` 0 to -0.3): a ``12`` whose 2 runs into the
    1, a ``97`` in one stroke. Plain or ruled paper (squared paper puts a digit in each
    square: none touch); strokes no bolder than a marker's.

    Examples
    --------
    >>> from digit_pipeline.benchmarking.plan import make_plan
    >>> case = make_plan(2, 0)[1]
    >>> pairs = in_touching_pairs(case)
    >>> pairs.style.number_size, pairs.style.gap_frac <= 0, pairs == in_touching_pairs(case)
    (2, True, True)
    """
    rng = np.random.default_rng([case.seed, 0x9A12])
    style = replace(
        case.style,
        number_gap=float(rng.uniform(1.2, 2.0)),
        number_size=2,
        gap_frac=-float(rng.uniform(0.0, 0.3)),
        ruling=None if case.style.ruling == "squared" else case.style.ruling,
        rule_divisions=1,
        shapes=0.0,
    )
    return _refitted(case, style)


FAMILIES = {
    "inks": in_coloured_ink,
    "grids": on_grid_paper,
    "numbers": written_as_numbers,
    "defocus": out_of_focus,
    "webcam": through_a_webcam,
    "shapes": in_drawn_shapes,
    "full_page": on_a_full_page,
    "pairs": in_touching_pairs,
}
"""Each ``bench`` flag and the family it draws the plan as (applied in this order)."""
