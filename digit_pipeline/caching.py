"""A small bounded, thread-safe cache every part of the package shares.

The reader keeps each step of a reading in one (:class:`~digit_pipeline.reading.reader.
Reader`), and the model lab's evaluations are kept in another
(:func:`~digit_pipeline.training.evaluation.evaluate_file`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from .validation import check_int

__all__ = ["BoundedCache"]

V = TypeVar("V")


class BoundedCache(Generic[V]):
    """At most ``size`` values by key, the least recently used dropped first; thread-safe.

    Only the dictionary's access holds the lock: a value is made outside it, so two
    threads missing one key at once may both make it, and both get the one stored first.

    Parameters
    ----------
    size : int
        How many values are kept, at least 1.

    Examples
    --------
    >>> cache = BoundedCache(2)
    >>> [cache.get_or_make(k, lambda k=k: k * 10) for k in (1, 2, 1, 3)]
    [10, 20, 10, 30]
    >>> cache.keys()  # 2 was the least recently used
    [1, 3]
    """

    def __init__(self, size: int) -> None:
        self.size = check_int(size, "size", low=1)
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """Return the value kept for ``key``, or ``make()``'s, kept from now on."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()
        with self._lock:
            value = self._values.setdefault(key, value)  # another thread's, if it was first
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def items(self) -> list[tuple[Hashable, V]]:
        """Return the keys and values kept, the most recently used last (a copy)."""
        with self._lock:
            return list(self._values.items())

    def keys(self) -> list[Hashable]:
        """Return the keys kept, the most recently used last (a copy)."""
        return [key for key, _ in self.items()]

    def __len__(self) -> int:
        """Return how many values are kept."""
        with self._lock:
            return len(self._values)
