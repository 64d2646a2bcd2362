"""Paper printed with dots or dashes: a lattice of small marks, told from handwriting.

Squared paper printed as dots (a dot at each crossing), rows of close dots, dashed grids
and dashed rules leave no long line for :func:`~digit_pipeline.stages.remove_lines` to
find: each mark is a small blob of its own, and each became a box. What tells the print
from handwriting is its regularity: the same small mark repeated at one step along a
straight line, dozens of times. :func:`remove_print` finds the ink's small pieces that
have a twin at some step and another twin one more step along the same line (or one step
back), and paints them over with paper when enough of them make such a lattice; a digit's
pieces are neither repeated alike nor evenly spaced three in a row.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..aliases import GrayImage
from ..validation import check_image

__all__ = ["PRINT_INK", "PRINT_MARK", "PRINT_MEMBERS", "print_marks", "remove_print"]

PRINT_INK = 12
"""Grey levels below the paper from which a pixel is ink (printed marks are faint)."""

PRINT_MARK = 0.04
"""Largest printed mark: this share of the image's longer side, either way."""

PRINT_MEMBERS = 12
"""Fewest marks in a lattice: fewer are left alone (a few digits in a neat row)."""

_ALIKE = 0.2  # twins: width, height and ink area within this share of each other (+1 px)
_STEP_TOL = 0.05  # the step repeats within this share of its length (plus 1 px)
_REGULAR = 0.6  # a lattice: this share of its marks step alike (length and direction)
_ANGLE_TOL = np.radians(6.0)  # ... within this of the lattice's direction
_MIN_STEP = 6.0  # px: a lattice's step is no pixel-grid accident
_REACH = 3.0  # twins are sought within this many times the marks' mean spacing


def print_marks(gray: GrayImage, paper: float | None = None) -> np.ndarray:
    """Return a mask (bool, H x W) of the marks of a printed dot or dash lattice.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
        Dark ink on light paper whose lighting is even
        (:func:`~digit_pipeline.stages.flatten_lighting`).
    paper : float, optional
        The paper's grey level; default the image's median.

    Returns
    -------
    ndarray of shape (H, W), bool
        True on the ink of every mark found to belong to a lattice; all False when fewer
        than :data:`PRINT_MEMBERS` marks do.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((200, 300), 230, np.uint8)
    >>> for y in range(10, 200, 20):          # a dotted grid, 20 px apart
    ...     for x in range(10, 300, 20):
    ...         page[y - 1 : y + 2, x - 1 : x + 2] = 170
    >>> page[60:140, 100:108] = 30            # a "1", across the dots
    >>> marks = print_marks(page)
    >>> bool(marks[10, 10]), bool(marks[190, 290]), bool(marks[100, 104])
    (True, True, False)
    """
    check_image(gray, "gray", allow_color=False)
    level = float(np.median(gray)) if paper is None else float(paper)
    ink = (gray < level - PRINT_INK).astype(np.uint8)
    count, labels, stats, centres = cv2.connectedComponentsWithStats(ink, connectivity=8)
    biggest = max(3, round(PRINT_MARK * max(gray.shape)))
    small = np.flatnonzero(
        (stats[:, cv2.CC_STAT_WIDTH] <= biggest) & (stats[:, cv2.CC_STAT_HEIGHT] <= biggest)
    )
    small = small[small > 0]  # label 0 is the paper
    mask = np.zeros(gray.shape, bool)
    if len(small) < PRINT_MEMBERS:
        return mask
    members = small[_in_lattice(stats[small], centres[small], gray.shape)]
    keep = np.zeros(count, bool)
    keep[members] = True
    return keep[labels]


def _in_lattice(stats: np.ndarray, centres: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Which marks belong to a lattice of at least :data:`PRINT_MEMBERS` alike marks.

    For each mark, its nearest twin (alike in width, height and ink) gives a step ``v``;
    the mark has a lattice's regularity when a twin also sits at ``-v`` or at ``2v`` (the
    end of a row), and the three are linked. A lattice is a set of linked marks at least
    :data:`PRINT_MEMBERS` strong: a few alike digits in a neat row link to a few, never
    to the print.

    Twins are sought within ``_REACH`` times the marks' mean spacing (the side of the
    image's share per mark), among the marks of the neighbouring cells of a grid that
    size: a page of ten thousand dashes costs a few hundred thousand comparisons, not a
    hundred million.
    """
    n = len(stats)
    size = stats[:, [cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT, cv2.CC_STAT_AREA]].astype(np.float64)
    centres = centres.astype(np.float64)
    reach = _REACH * np.sqrt(shape[0] * shape[1] / n)
    cell = 2 * reach * (1 + _STEP_TOL) + 2.0  # a third mark two steps on is a cell away
    where = np.floor(centres / cell).astype(np.int64)
    columns = int(where[:, 0].max()) + 3
    key = (where[:, 1] + 1) * columns + where[:, 0] + 1
    order = np.argsort(key, kind="stable")
    starts = np.searchsorted(key[order], np.arange(key.max() + columns + 3))
    parent, steps = np.arange(n), np.full((n, 2), np.nan)
    for k in np.unique(key):
        rows = order[starts[k] : starts[k + 1]]
        block = np.concatenate(
            [order[starts[k + d] : starts[k + d + 3]] for d in (-columns - 1, -1, columns - 1)]
        )
        steps[rows] = _link_triples(parent, rows, block, size, centres, reach)
    roots = np.array([_root(parent, i) for i in range(n)])
    member = np.bincount(roots, minlength=n)[roots] >= PRINT_MEMBERS
    for root in np.unique(roots[member]):
        linked = roots == root
        member[linked] = _regular(steps[linked])
    return member | _like_the_lattice(member, size, steps)


def _regular(steps: np.ndarray) -> bool:
    """Whether linked marks step alike: most by one length, along one grid's two ways.

    A printed lattice steps by one length (its pitch, or its dashes' period) along its
    rows and columns, turned by the sheet's one angle; the specks of a textured paper
    (kraft, recycled) link by chance at every length and angle. Regular when at least
    ``_REGULAR`` of the steps are within ``_STEP_TOL`` * 2 of their median length and
    within ``_ANGLE_TOL`` of their common direction, modulo a quarter turn — and that
    length is at least ``_MIN_STEP`` px (one-pixel specks two pixels apart are as
    regular as the pixel grid).
    """
    steps = steps[np.isfinite(steps[:, 0])]
    length = np.hypot(steps[:, 0], steps[:, 1])
    typical = np.median(length)
    if typical < _MIN_STEP:
        return False
    even = np.abs(length - typical) <= 2 * _STEP_TOL * typical + 1.0
    quarter = 4 * np.arctan2(steps[:, 1], steps[:, 0])  # a quarter turn is a whole turn
    common = np.arctan2(np.sin(quarter).mean(), np.cos(quarter).mean())
    off = np.abs(np.angle(np.exp(1j * (quarter - common)))) / 4
    return bool(np.mean(even & (off <= _ANGLE_TOL)) >= _REGULAR)


def _like_the_lattice(member: np.ndarray, size: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Find the lattice's marks it left out: alike to its marks, with a twin at its step.

    A row of dots that the digits on it break into short runs links no
    :data:`PRINT_MEMBERS` of its own; each of its dots still has a twin at the lattice's
    step (either way along) and looks like the lattice's dots.
    """
    others = ~member & np.isfinite(steps[:, 0])
    if not member.any() or not others.any():
        return np.zeros(len(member), bool)
    # the lattice's kinds of mark: each size and step once (rounded), a few dozen at most
    kinds = np.unique(np.round(np.hstack([size[member], steps[member]])), axis=0)
    index = np.flatnonzero(others)
    mine = np.hstack([size[index], steps[index]])
    alike = _alike(mine[:, :3], kinds[:, :3])
    tol = _STEP_TOL * np.hypot(kinds[:, 3], kinds[:, 4]) + 1.5
    same = np.minimum(
        np.hypot(*(mine[:, None, 3:] - kinds[None, :, 3:]).transpose(2, 0, 1)),
        np.hypot(*(mine[:, None, 3:] + kinds[None, :, 3:]).transpose(2, 0, 1)),
    )
    out = np.zeros(len(member), bool)
    out[index] = np.any(alike & (same <= tol[None, :]), axis=1)
    return out


def _alike(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Which marks of ``a`` (rows) are twins of which of ``b`` (columns), by their sizes.

    Sizes are (width, height, ink area); twins differ in each by at most ``_ALIKE`` of the
    larger, plus a pixel.
    """
    a, b = a[:, None, :], b[None, :, :]
    return np.all(np.abs(a - b) <= _ALIKE * np.maximum(a, b) + 1.0, axis=2)


def _link_triples(
    parent: np.ndarray,
    rows: np.ndarray,
    block: np.ndarray,
    size: np.ndarray,
    centres: np.ndarray,
    reach: float,
) -> np.ndarray:
    """Link each mark of ``rows`` to its nearest twin in ``block`` and a third one on.

    Returns each mark's step to its nearest twin (NaN where it has none).
    """
    alike = _alike(size[rows], size[block])
    offsets = centres[None, block, :] - centres[rows, None, :]
    distance = np.hypot(offsets[..., 0], offsets[..., 1])
    apart = np.maximum(size[rows, None, 0], size[rows, None, 1])  # apart, not touching
    distance[~alike | (distance <= apart) | (distance > reach)] = np.inf
    nearest = np.argmin(distance, axis=1)
    length = distance[np.arange(len(rows)), nearest]
    found = np.isfinite(length)
    twin = block[nearest]
    step = centres[twin] - centres[rows]
    tol = np.where(found, _STEP_TOL * length + 1.0, 0.0)
    for along in (-1.0, 2.0):
        target = centres[rows] + along * step
        gap = np.hypot(*(centres[None, block, :] - target[:, None, :]).transpose(2, 0, 1))
        gap[~alike] = np.inf
        nearest_third = np.argmin(gap, axis=1)
        hit = found & (gap[np.arange(len(rows)), nearest_third] <= tol)
        for i, j, k in zip(rows[hit], twin[hit], block[nearest_third[hit]], strict=True):
            _link(parent, i, j)
            _link(parent, i, k)
    return np.where(found[:, None], step, np.nan)


def _root(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return int(i)


def _link(parent: np.ndarray, i: int, j: int) -> None:
    parent[_root(parent, i)] = _root(parent, j)


def remove_print(gray: GrayImage) -> GrayImage:
    """Paint the marks of a printed dot or dash lattice (:func:`print_marks`) with paper.

    Marks that touch a digit's stroke are part of its ink and stay; the rest, with a
    pixel around them (their soft edge), take the paper's grey level.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
        Dark ink on light paper whose lighting is even.

    Returns
    -------
    ndarray of shape (H, W), uint8
        A new image (the same values where no lattice was found).

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((200, 300), 230, np.uint8)
    >>> for y in range(10, 200, 20):
    ...     for x in range(10, 300, 20):
    ...         page[y - 1 : y + 2, x - 1 : x + 2] = 170
    >>> page[60:140, 100:108] = 30
    >>> clean = remove_print(page)
    >>> int(clean[10, 10]), int(clean[100, 104])
    (230, 30)
    """
    check_image(gray, "gray", allow_color=False)
    paper = float(np.median(gray))
    marks = print_marks(gray, paper)
    out = gray.copy()
    if marks.any():
        halo = cv2.dilate(marks.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        ink = gray < paper - PRINT_INK
        out[halo & ~(ink & ~marks)] = round(paper)  # never over a stroke's own ink
    return out
