"""A one-line progress bar on stderr: done / total, sheets per second, time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Redraws ``[#####.....] 120/400  3.1 sheets/s  ETA 1m30s`` in place.

    Silent when ``enabled`` is false (``--quiet``) or the stream is not a terminal.
    """

    def __init__(self, total: int, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.done = 0
        self.enabled = enabled and total > 0 and bool(getattr(self.stream, "isatty", bool)())
        self.start = time.perf_counter()
        self._last = 0.0

    def step(self, n: int = 1) -> None:
        """Count ``n`` sheets done and redraw (at most ten times a second)."""
        self.done += n
        now = time.perf_counter()
        if self.enabled and (now - self._last > 0.1 or self.done >= self.total):
            self._last = now
            self.stream.write("\r" + self.line(now - self.start))
            self.stream.flush()

    def line(self, elapsed: float) -> str:
        """Return the bar's text after ``elapsed`` seconds.

        Examples
        --------
        >>> p = Progress(4, enabled=False)
        >>> p.done = 2
        >>> p.line(4.0)
        '[##########..........] 2/4  0.5 sheets/s  ETA 4s'
        """
        width = 20
        filled = round(width * self.done / self.total) if self.total else width
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        eta = _duration(left) if left == left else "?"
        bar = "#" * filled + "." * (width - filled)
        return f"[{bar}] {self.done}/{self.total}  {rate:.1f} sheets/s  ETA {eta}"

    def close(self) -> None:
        """End the line."""
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"
