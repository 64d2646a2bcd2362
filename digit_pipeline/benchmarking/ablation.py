"""What each rule of the judge and each refine step is worth: a family read with it off.

:func:`variants` lists the reading with everything on and, for each rule and step of the
judge (:data:`~digit_pipeline.reading.judge.RULES`, :data:`~digit_pipeline.reading.judge.
STEPS`; a step off by default is left out) and each switch of the refine steps, the
reading with that one off. A benchmark family (synthetic sheets, or the real photos of a
folder) is read once per variant as ``read`` reads it (the fit on), and
:func:`ablation_markdown` prints what each variant changes against everything on: digits
read, extra boxes, sheets read exactly, and for real photos the writers (each photo's
source) it helps and hurts. A rule earns its place when
switching it off loses digits on photos of two writers or more and on no family gains.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import keras
    import numpy as np

    from ..reading.judge import JudgeParams
    from ..reading.params import PipelineParams
    from .plan import SheetCase

__all__ = [
    "Tally",
    "Variant",
    "ablate_real",
    "ablate_sheets",
    "ablation_markdown",
    "tallies_json",
    "variants",
    "writer_of",
]

ALL_ON = "all on"
"""The name of the variant with every rule and step on."""


@dataclass(frozen=True)
class Variant:
    """One way to read: the judge and the parameters (the base of the fit) it reads with."""

    name: str
    judge: JudgeParams
    params: PipelineParams


@dataclass
class Tally:
    """What a variant read on a family: digits, extra boxes, sheets exact.

    ``writers``: per writer, digits read minus extra boxes (one number to compare).
    """

    truth: int = 0
    read: int = 0
    extra: int = 0
    exact: int = 0
    sheets: int = 0
    writers: dict[str, int] = field(default_factory=dict)

    def add(self, truth: int, read: int, extra: int, exact: bool, writer: str = "") -> None:
        """Count one sheet."""
        self.truth, self.read, self.extra = self.truth + truth, self.read + read, self.extra + extra
        self.exact, self.sheets = self.exact + int(exact), self.sheets + 1
        if writer:
            self.writers[writer] = self.writers.get(writer, 0) + read - extra


def variants(names: Sequence[str] | None = None) -> list[Variant]:
    """Everything on, then each rule, step and refine switch off in turn (``names``: those).

    Examples
    --------
    >>> [v.name for v in variants(["faint", "join_fragments"])]
    ['all on', 'faint off', 'join_fragments off']
    """
    from ..reading.judge import DEFAULT_JUDGE, RULES, STEPS, JudgeParams
    from ..reading.params import PipelineParams

    switches = ("join_fragments",)  # the refine steps a PipelineParams switch turns off
    steps = [s for s in STEPS if s not in DEFAULT_JUDGE.off]  # one off by default: no ablation
    every = [*RULES, *steps, *switches]
    chosen = every if names is None else [n for n in every if n in set(names)]
    unknown = sorted(set(names or ()) - set(every))
    if unknown:
        raise ValueError(f"unknown rule or step {unknown}; known: {', '.join(every)}")
    out = [Variant(ALL_ON, DEFAULT_JUDGE, PipelineParams())]
    for name in chosen:
        if name in switches:
            out.append(Variant(f"{name} off", DEFAULT_JUDGE, PipelineParams(**{name: False})))
        else:
            judge = JudgeParams(off=DEFAULT_JUDGE.off | {name})
            out.append(Variant(f"{name} off", judge, PipelineParams()))
    return out


def writer_of(file: str) -> str:
    """Return the writer (the photo's source) named last in a real_dev file name.

    Examples
    --------
    >>> writer_of("m07_bluepen_yellow_note_4rows_hypjudy.bmp")
    'hypjudy'
    """
    return Path(file).stem.rsplit("_", 1)[-1]


def ablate_sheets(
    plan: Sequence[SheetCase],
    x_test: np.ndarray,
    y_test: np.ndarray,
    model: keras.Model,
    chosen: Sequence[Variant],
    log: Callable[[str], None] | None = None,
) -> dict[str, Tally]:
    """Read every synthetic sheet of ``plan`` once per variant (fitted, as ``read`` reads)."""
    from .cases import read_case, render_case, score_record

    tallies = {v.name: Tally() for v in chosen}
    for k, case in enumerate(plan, 1):
        data, truth = render_case(case, x_test, y_test)
        for v in chosen:
            reading, _, _, seconds = read_case(model, data, "auto", v.judge, v.params)
            r = score_record(case, truth, reading, seconds, model="", mode="auto")
            tallies[v.name].add(r["truth"], r["correct"], r["found"] - r["matched"], r["exact"])
        if log is not None:
            log(f"[{k}/{len(plan)}] {case.case_id}")
    return tallies


def ablate_real(
    folder: str | Path,
    model: keras.Model,
    chosen: Sequence[Variant],
    log: Callable[[str], None] | None = None,
) -> dict[str, Tally]:
    """Read every photo of ``folder`` (with its truth.json) once per variant, fitted."""
    from .real import load_truth, read_entry, score_text

    tallies = {v.name: Tally() for v in chosen}
    for entry in load_truth(folder):
        for v in chosen:
            _, reading, _ = read_entry(Path(folder), entry, model, True, v.judge, v.params)
            s = score_text(entry, reading.text)
            tallies[v.name].add(s.truth, s.correct, s.extra, s.exact, writer_of(entry["file"]))
        if log is not None:
            log(f"{entry['file']}")
    return tallies


def ablation_markdown(tallies: dict[str, Tally], family: str) -> str:
    """Tabulate each variant against everything on: digits read, extra, exact; writers.

    Writers *helped* by a rule are those whose digits read minus extra boxes fall with it
    off; *hurt*, rise.
    """
    base = tallies[ALL_ON]
    real = bool(base.writers)
    head = "| variant | read | Δ read | extra | Δ extra | exact | Δ exact |"
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    if real:
        head += " writers it helps | writers it hurts |"
        rule += "---|---|"
    lines = [f"**{family}**: {base.sheets} sheets, {base.truth} digits", "", head, rule]
    for name, t in tallies.items():
        row = (
            f"| {name} | {t.read} | {_delta(t.read - base.read, name)} | {t.extra} | "
            f"{_delta(t.extra - base.extra, name)} | {t.exact}/{t.sheets} | "
            f"{_delta(t.exact - base.exact, name)} |"
        )
        if real:
            helps = sorted(w for w, n in base.writers.items() if t.writers.get(w, 0) < n)
            hurts = sorted(w for w, n in base.writers.items() if t.writers.get(w, 0) > n)
            row += f" {', '.join(helps) or '—'} | {', '.join(hurts) or '—'} |"
        lines.append(row)
    return "\n".join(lines) + "\n"


def _delta(value: int, name: str) -> str:
    return "" if name == ALL_ON else f"{value:+d}"


def tallies_json(tallies: dict[str, Tally]) -> dict[str, Any]:
    """Return the tallies as a JSON-ready dict."""
    return {name: vars(t) for name, t in tallies.items()}
