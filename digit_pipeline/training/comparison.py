"""Compare two models scored on the same digits: McNemar's test on paired correctness.

Only the digits one model reads right and the other wrong count; :func:`mcnemar` tests
whether the two models differ in accuracy, exactly (binomial) for few such digits and by
the chi-square approximation for many. The per-model measures are in :mod:`.evaluation`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["McNemar", "mcnemar"]


@dataclass(frozen=True)
class McNemar:
    """McNemar's test on paired correctness.

    ``only_a`` = digits model A reads right and B wrong; ``only_b`` the reverse. ``method``
    is ``"exact"`` (two-sided exact binomial test of ``only_a`` ~ Bin(only_a + only_b, 1/2))
    or ``"chi2"`` (chi-square with Edwards' continuity correction, 1 degree of freedom).
    """

    only_a: int
    only_b: int
    statistic: float
    p_value: float
    method: str


def _binomial_two_sided(k: int, n: int) -> float:
    """Exact two-sided p-value of ``min(k, n - k)`` successes in ``n`` fair coin flips."""
    if n == 0:
        return 1.0
    low = min(k, n - k)
    log_half_n = -n * math.log(2.0)
    tail = sum(
        math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + log_half_n)
        for i in range(low + 1)
    )
    return min(1.0, 2.0 * tail)


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray, method: str = "auto") -> McNemar:
    """Test whether two models, scored on the same digits, differ in accuracy (McNemar).

    Only the discordant digits count: ``b`` read right by A only, ``c`` by B only. Under the
    null hypothesis each discordant digit is a fair coin (McNemar 1947).

    Parameters
    ----------
    correct_a, correct_b : ndarray of shape (N,), bool
        Whether each model read each digit right (same digits, same order).
    method : {"auto", "exact", "chi2"}
        ``"exact"``: two-sided exact binomial test (statistic = ``min(b, c)``).
        ``"chi2"``: ``(|b - c| - 1)^2 / (b + c)`` with Edwards' (1948) continuity correction,
        p from the chi-square distribution with 1 degree of freedom.
        ``"auto"``: exact when ``b + c < 25``, else chi2 (the usual rule of thumb).

    Returns
    -------
    McNemar

    Raises
    ------
    ValueError
        If the arrays differ in length or ``method`` is unknown.

    Examples
    --------
    >>> a = np.array([True] * 10 + [False] * 2)
    >>> b = np.array([False] * 8 + [True] * 4)
    >>> t = mcnemar(a, b)
    >>> t.only_a, t.only_b, t.method, round(t.p_value, 4)
    (8, 2, 'exact', 0.1094)
    """
    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    if a.shape != b.shape:
        raise ValueError(f"correct_a and correct_b must match, got {a.shape} and {b.shape}")
    if method not in ("auto", "exact", "chi2"):
        raise ValueError(f"method must be 'auto', 'exact' or 'chi2', got {method!r}")
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    n = only_a + only_b
    if method == "auto":
        method = "exact" if n < 25 else "chi2"
    if method == "exact":
        return McNemar(
            only_a, only_b, float(min(only_a, only_b)), _binomial_two_sided(only_a, n), method
        )
    statistic = (max(abs(only_a - only_b) - 1, 0) ** 2 / n) if n else 0.0
    p_value = math.erfc(math.sqrt(statistic / 2.0))  # chi-square, 1 d.o.f., upper tail
    return McNemar(only_a, only_b, float(statistic), float(p_value), method)
