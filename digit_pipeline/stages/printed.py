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

PRINT_MARK = 0.08
"""Largest printed mark: this share of the image's longer side, either way (a photo taken
close to squared paper makes each dash 5 % of it; what tells the print is the lattice)."""

PRINT_MEMBERS = 12
"""Fewest marks in a lattice: fewer are left alone (a few digits in a neat row)."""

_ALIKE = 0.2  # twins: width, height and ink area within this share of each other (+1 px)
_THIN = 4  # px: a mark this thin (a dash) is a pixel thicker where it straddles the grid
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
    image's share per mark), the third mark within its tolerance of the point one step on
    or back: each among the marks of the neighbouring cells of a grid that size
    (:func:`_near`), so a page of ten thousand dashes, or the twenty thousand fibres of
    kraft paper, costs a few hundred thousand comparisons, not a hundred million.
    """
    n = len(stats)
    size = stats[:, [cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT, cv2.CC_STAT_AREA]].astype(np.float64)
    centres = centres.astype(np.float64)
    reach = _REACH * np.sqrt(shape[0] * shape[1] / n)
    # ties go to the mark first by cells two steps wide, row by row (as they always went)
    cells = np.floor(centres / (2 * reach * (1 + _STEP_TOL) + 2.0))
    rank = np.empty(n, np.int64)
    rank[np.lexsort((np.arange(n), cells[:, 0], cells[:, 1]))] = np.arange(n)
    # each mark's nearest twin: alike, apart (not touching), within reach
    rows, cols = _near(centres, centres, reach)
    x, y = centres.T
    distance = np.hypot(x[cols] - x[rows], y[cols] - y[rows])
    apart = np.maximum(size[:, 0], size[:, 1])[rows]  # apart, not touching
    near = np.flatnonzero((distance > apart) & (distance <= reach))
    rows, cols, distance = rows[near], cols[near], distance[near]
    ok = _twins(size[rows], size[cols])
    found, twin, length = _nearest(n, rows[ok], cols[ok], distance[ok], rank)
    step = np.where(found[:, None], centres[twin] - centres, np.nan)
    tol = _STEP_TOL * length + 1.0
    marks, edges = np.flatnonzero(found), []
    for along in (-1.0, 2.0):  # a third twin one step back, or two steps on
        target = centres[marks] + along * (centres[twin[marks]] - centres[marks])
        rows, cols = _near(target, centres, float(tol[marks].max()) if len(marks) else 1.0)
        gap = np.hypot(x[cols] - target[rows, 0], y[cols] - target[rows, 1])
        near = np.flatnonzero(gap <= tol[marks][rows])
        rows, cols, gap = rows[near], cols[near], gap[near]
        ok = _twins(size[marks[rows]], size[cols])
        hit, third, _ = _nearest(len(marks), rows[ok], cols[ok], gap[ok], rank)
        edges += [marks[hit], twin[marks[hit]], marks[hit], third[hit]]  # the three linked
    roots = _components(n, np.concatenate(edges[::2]), np.concatenate(edges[1::2]))
    member = np.bincount(roots, minlength=n)[roots] >= PRINT_MEMBERS
    for root in np.unique(roots[member]):
        linked = roots == root
        member[linked] = _regular(step[linked])
    return member | _like_the_lattice(member, size, step)


def _near(points: np.ndarray, marks: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Return index pairs ``(i, j)``: ``marks[j]`` in the grid cells around ``points[i]``.

    The grid's cells are ``radius`` wide, so every mark within ``radius`` of a point is
    among its pairs (and some a little further).
    """
    if not len(points) or not len(marks):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cell = max(float(radius), 1.0) * (1 + 1e-9) + 1e-9
    spot = np.floor(marks / cell).astype(np.int64)
    near = np.floor(points / cell).astype(np.int64)
    low = np.minimum(spot.min(axis=0), near.min(axis=0)) - 1
    spot, near = spot - low, near - low
    width = int(max(spot[:, 0].max(), near[:, 0].max())) + 2
    key = spot[:, 1] * width + spot[:, 0]
    order = np.argsort(key, kind="stable")
    keys = key[order]
    wanted = (near[:, 1] * width + near[:, 0])[:, None] + np.array(
        [dy * width + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    )
    first = np.searchsorted(keys, wanted, "left").ravel()
    count = np.searchsorted(keys, wanted, "right").ravel() - first
    rows = np.repeat(np.repeat(np.arange(len(points)), 9), count)
    runs = np.cumsum(count) - count
    at = np.arange(int(count.sum())) - np.repeat(runs, count) + np.repeat(first, count)
    return rows, order[at]


def _nearest(
    n: int, rows: np.ndarray, cols: np.ndarray, distance: np.ndarray, rank: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each of ``n`` rows, its nearest ``cols`` by ``distance`` (ties: lowest ``rank``).

    Returns whether a row has any, the nearest (0 where none) and its distance (inf).
    """
    order = np.lexsort((rank[cols], distance, rows))
    first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]] if len(order) else order
    found = np.zeros(n, bool)
    found[rows[first]] = True
    nearest = np.zeros(n, np.int64)
    nearest[rows[first]] = cols[first]
    length = np.full(n, np.inf)
    length[rows[first]] = distance[first]
    return found, nearest, length


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Label the connected sets of ``n`` marks linked by the edges ``a[k]``-``b[k]``."""
    parent = np.arange(n)
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        parent[_root(parent, i)] = _root(parent, j)
    return np.array([_root(parent, i) for i in range(n)], dtype=np.int64)


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
    """Which marks of ``a`` (rows) are twins of which of ``b`` (columns) (:func:`_twins`)."""
    return _twins(a[:, None, :], b[None, :, :])


def _twins(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether the marks of sizes ``a`` and ``b`` (broadcast) are twins.

    Sizes are (width, height, ink area) on the last axis; twins differ in each by at most
    ``_ALIKE`` of the larger, plus a pixel. A thin mark (a dash, at most ``_THIN`` px
    across) may also differ in area by a line of pixels along its length: one that
    straddles the pixel grid is a pixel thicker, half again its ink, than its twin that
    does not. (Not a compact mark's: small digits alike in size would pass for twins.)
    """
    width, height = np.maximum(a[..., 0], b[..., 0]), np.maximum(a[..., 1], b[..., 1])
    line = np.where(np.minimum(width, height) <= _THIN, np.maximum(width, height), 0.0)
    return (
        (np.abs(a[..., 0] - b[..., 0]) <= _ALIKE * width + 1.0)
        & (np.abs(a[..., 1] - b[..., 1]) <= _ALIKE * height + 1.0)
        & (np.abs(a[..., 2] - b[..., 2]) <= _ALIKE * np.maximum(a[..., 2], b[..., 2]) + line + 1.0)
    )


def _root(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return int(i)


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
