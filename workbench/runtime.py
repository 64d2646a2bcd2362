"""Streamlit's epilogue after every run, less the step this app must not take.

After every rerun Streamlit's script runner calls ``keras.backend.clear_session()`` once
Keras is imported — a guard it keeps for graph-mode Keras 2, whose models lived in one
global graph — and ``runner.postScriptGC`` runs a full ``gc.collect`` over a heap that
TensorFlow makes large. In this app both are wrong and slow:

- the models are cached resources shared by every session (:func:`workbench.cache.model_future`):
  nothing should clear Keras' state under them, and ``clear_session`` also empties
  TensorFlow's kernel cache under a training running in the Model lab's thread;
- together they cost ~0.3 s of every slider move in a browser (issue 15's profile), 7-10×
  what a bare Streamlit app takes.

:func:`keep_keras_session` replaces the hook with one that does the rest of what it did
(closing matplotlib's figures); ``.streamlit/config.toml`` turns ``postScriptGC`` off.
Python's own collector still runs by its thresholds: ``benchmarks/bench_feel.py`` measures
the server's memory over 200 slider moves in 6 sessions (BENCHMARKS.md).

:func:`bound_allocator` keeps that memory from climbing with sessions: each session's
script runs in its own thread, and glibc's ``malloc`` gives threads arenas of their own
(up to 8 per core) and, once a big block is freed, serves blocks up to 32 MB from those
arenas instead of the system, where freed memory stays with the process. A 12 MP photo's
working arrays are such blocks.

:func:`collect_closed_sessions` lets the sessions of closed tabs go: Streamlit keeps a
closed tab's session ``server.disconnectedSessionTTL`` seconds (120) for a browser that
reconnects, then drops it; a dropped session hands back its upload and its pictures only
when it is garbage-collected (``AppSession.__del__`` shuts it down), and it sits in
reference cycles that only a full collection frees. Without ``postScriptGC`` such a
collection may not come for hours: every closed session's photo stayed.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import MutableMapping
from typing import Any

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameters (malloc.h)
_M_ARENA_MAX = -8
MMAP_THRESHOLD = 1 << 20
"""Blocks of this many bytes or more are mapped from the system and returned when freed."""
ARENAS = 2
"""glibc's malloc arenas at most, shared by all threads."""


def bound_allocator() -> bool:
    """Make glibc's ``malloc`` hand big freed blocks back and share its arenas.

    Fixes the threshold above which a block is mapped from the system (by default it grows
    to the largest block freed so far, up to 32 MB) at :data:`MMAP_THRESHOLD` and caps the
    arenas at :data:`ARENAS`. Anywhere but glibc (macOS, musl) it does nothing.

    Returns
    -------
    bool
        True when glibc took both settings.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_ARENA_MAX, ARENAS))


def keep_keras_session() -> None:
    """Stop Streamlit clearing Keras' session after every run (idempotent, per process)."""
    from streamlit.runtime.scriptrunner import script_runner

    if getattr(script_runner._clean_problem_modules, "keeps_keras", False):
        return
    script_runner._clean_problem_modules = clean_problem_modules


def clean_problem_modules() -> None:
    """Close matplotlib's figures, as Streamlit's own hook does; leave Keras alone."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


clean_problem_modules.keeps_keras = True  # type: ignore[attr-defined]


STARTED = "_session_started"
"""Session state: this session's first run is over (:func:`collect_closed_sessions`)."""


def collect_closed_sessions(state: MutableMapping[str, Any]) -> bool:
    """Collect the sessions Streamlit let go, on each new session's first run only.

    One full ``gc.collect`` when a session starts (its first paint, not a slider move)
    frees the closed sessions Streamlit has dropped since the last one, and with them
    their uploads (a 12 MP photo: 4 MB each). ``state`` is the session state.

    Returns
    -------
    bool
        True when it collected (the session's first run).
    """
    if state.get(STARTED):
        return False
    state[STARTED] = True
    gc.collect()
    return True
