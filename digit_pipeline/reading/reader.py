"""The one cached reader: each step of a reading once per image, parameters and model.

An app reruns its script on every slider move and every click. :class:`Reader` keeps what
each step made — the flattened page, the prepared image, the fit, the reading — in small
bounded caches, so no step runs twice for the same inputs; the stage previews come from
the reading it kept (:data:`~digit_pipeline.reading.pipeline.STAGE_VIEWS`). It only
remembers: every reading is still made by :func:`~digit_pipeline.reading.read_sheet` and
every fit by :func:`~digit_pipeline.reading.fit_sheet`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..aliases import Image
from ..caching import BoundedCache
from ..stages import flatten_page
from .autofit import AutoFit, fit_base
from .params import PipelineParams
from .prepared import Prepared, prepare, prepare_key
from .sheet import Reading, fit_sheet, read_sheet

Corners = tuple[tuple[float, float], ...]
"""A page's four corners, ``(x, y)`` pixels of the image it is flattened out of."""


class Reader:
    """Read images, keeping each step's output per image, parameters and model.

    Every method takes the image's ``key`` (a digest of its bytes, say: the caller's name
    for the image; the same key must always come with the same image) and the page's
    ``corners`` to flatten out of it first, or None to read it as it is. The image is the
    one the caller holds (decoded, not flattened); it is used only when a step runs.

    A model is told apart by its identity (``id``); each kept fit or reading holds its
    model, so no other model can take that identity while the entry lives. Pass the same
    model object for the same model (an app keeps one per file).

    Parameters
    ----------
    pages, prepared, fits, readings : int
        How many flattened pages, prepared images, fits and readings are kept (the least
        recently used go first).

    Examples
    --------
    >>> import numpy as np, cv2
    >>> page = np.full((120, 240), 235, np.uint8)
    >>> _ = cv2.line(page, (40, 30), (40, 90), 30, 6)
    >>> _ = cv2.circle(page, (160, 60), 28, 30, 6)
    >>> reader = Reader()
    >>> reading = reader.read("page", page, PipelineParams())
    >>> len(reading.result.boxes), reader.read("page", page, PipelineParams()) is reading
    (2, True)
    >>> moved = reader.read("page", page, PipelineParams(canny_lower=40))  # a slider move
    >>> moved is reading, moved.result.prepared is reading.result.prepared
    (False, True)
    """

    def __init__(
        self, pages: int = 4, prepared: int = 8, fits: int = 8, readings: int = 32
    ) -> None:
        self._pages: BoundedCache[Image] = BoundedCache(pages)
        self._prepared: BoundedCache[Prepared] = BoundedCache(prepared)
        self._fits: BoundedCache[tuple[Any, AutoFit]] = BoundedCache(fits)
        self._readings: BoundedCache[tuple[Any, Reading]] = BoundedCache(readings)

    def image(self, key: str, image: Image, corners: Sequence | None = None) -> Image:
        """Return the image read: ``image`` itself, or the page ``corners`` flattened (kept).

        Parameters
        ----------
        key : str
            The caller's name for ``image``.
        image : ndarray of shape (H, W) or (H, W, 3|4), uint8
        corners : array-like of shape (4, 2), optional
            Top-left, top-right, bottom-right, bottom-left, in ``image``'s pixels.

        Returns
        -------
        ndarray, uint8
            A flattened page is read-only: it is shared by every caller.
        """
        page = _corners(corners)
        if page is None:
            return image
        return self._pages.get_or_make((key, page), lambda: _read_only(flatten_page(image, page)))

    def prepared(
        self, key: str, image: Image, params: PipelineParams, corners: Sequence | None = None
    ) -> Prepared:
        """Return the image prepared for ``params``: a fit's own when it fits, else kept.

        Prepared once per image and :func:`~digit_pipeline.reading.prepared.prepare_key`;
        a fit prepares the image itself, and its :class:`Prepared` is used where it
        :meth:`~Prepared.fits` ``params``.
        """
        page = _corners(corners)
        for _, fit in self._fits_of(key, page):
            if fit.prepared is not None and fit.prepared.fits(params):
                return fit.prepared
        return self._prepared.get_or_make(
            (key, page, prepare_key(params)),
            lambda: prepare(self.image(key, image, page), params),
        )

    def fit(
        self,
        key: str,
        image: Image,
        base: PipelineParams | None = None,
        model: Any = None,
        corners: Sequence | None = None,
    ) -> AutoFit:
        """Fit the parameters to the image (:func:`~digit_pipeline.reading.fit_sheet`), once.

        Kept per image, :func:`~digit_pipeline.reading.autofit.fit_base` of ``base`` (the
        fit depends on nothing else of it) and model. With a model the fit reads the image
        to judge its candidates; :meth:`read` with the parameters it chose returns that
        reading itself.

        Returns
        -------
        AutoFit
        """
        page, base = _corners(corners), fit_base(base)
        fit_key = (key, page, base, _model_id(model))
        made = self._fits.get_or_make(
            fit_key, lambda: (model, fit_sheet(self.image(key, image, page), base, model))
        )
        return made[1]

    def read(
        self,
        key: str,
        image: Image,
        params: PipelineParams | None = None,
        model: Any = None,
        corners: Sequence | None = None,
    ) -> Reading:
        """Read the image with ``params`` (and ``model``), once per image, parameters, model.

        Reuses what is there: the reading of a fit with this model that chose exactly
        ``params``, else a kept reading, else :func:`~digit_pipeline.reading.read_sheet`
        on :meth:`prepared`'s image (the page already flattened: ``page=None``).

        Parameters
        ----------
        key : str
            The caller's name for ``image``.
        image : ndarray of shape (H, W) or (H, W, 3|4), uint8
            As the caller holds it; ``corners`` flattens a page out of it.
        params : PipelineParams, optional
            Defaults if omitted.
        model : keras.Model, optional
            Without one, the digits are cut but not read (``sheet`` is None).
        corners : array-like of shape (4, 2), optional
            The page to flatten first (:meth:`image`); its boxes are in the page's pixels.

        Returns
        -------
        Reading
            The same object for the same inputs while it is kept; shared: never mutate it.
        """
        params, page, model_id = params or PipelineParams(), _corners(corners), _model_id(model)
        if model is not None:
            for fit_key, fit in self._fits_of(key, page):
                if fit_key[3] == model_id and fit.reading is not None:
                    if fit.reading.params == params:
                        return fit.reading

        def make() -> tuple[Any, Reading]:
            ready = self.prepared(key, image, params, page)
            read = self.image(key, image, page)
            return model, read_sheet(read, params, model=model, prepared=ready, page=None)

        return self._readings.get_or_make((key, page, params, model_id), make)[1]

    def _fits_of(self, key: str, page: Corners | None) -> list[tuple[tuple, AutoFit]]:
        """Return the fits kept for this image and page, the most recently used first."""
        return [
            (fit_key, made[1])
            for fit_key, made in reversed(self._fits.items())
            if fit_key[:2] == (key, page)
        ]


def _corners(corners: Sequence | None) -> Corners | None:
    """Corners as a hashable tuple of float pairs (None stays None)."""
    if corners is None:
        return None
    return tuple((float(x), float(y)) for x, y in np.asarray(corners, dtype=float).reshape(-1, 2))


def _model_id(model: Any) -> int | None:
    return None if model is None else id(model)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array
