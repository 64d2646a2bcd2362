"""Compare two ``bench`` results.json files reading by reading (a refactor must change none).

Usage::

    python scripts/compare_readings.py BEFORE/results.json AFTER/results.json

Prints the totals of each and every sheet whose text, boxes found, matches, digits read or
parameters differ; exits 1 if any does.
"""

from __future__ import annotations

import json
import sys

FIELDS = ("text", "found", "matched", "correct", "params")
REAL_FIELDS = ("text", "correct", "wrong", "missed", "extra")
"""``bench --real`` writes a list of photos (``file``) with these instead."""


def _value(sheet: dict, field: str, other: dict) -> object:
    """A sheet's field; of its parameters only those both runs have (a new one is no change)."""
    value = sheet.get(field)
    if field == "params" and isinstance(value, dict) and isinstance(other.get(field), dict):
        return {k: v for k, v in value.items() if k in other[field]}
    return value


def main(before_path: str, after_path: str) -> int:
    runs = [json.load(open(path)) for path in (before_path, after_path)]
    real = isinstance(runs[0], list)  # bench --real: photos, not generated sheets
    sheets = [run if real else run["sheets"] for run in runs]
    name_of, fields = ("file", REAL_FIELDS) if real else ("case_id", FIELDS)
    keyed = [{(s[name_of], s["model"], s["mode"]): s for s in run} for run in sheets]
    before, after = keyed
    for name, run in zip(("before", "after"), keyed, strict=True):
        for mode in sorted({k[2] for k in run}):
            rows = [s for k, s in run.items() if k[2] == mode]
            found = "" if real else f"found {sum(s['found'] for s in rows)}, "
            print(
                f"{name:6} {mode:8} sheets {len(rows)}, truth {sum(s['truth'] for s in rows)}, "
                f"{found}read {sum(s['correct'] for s in rows)}, "
                f"exact {sum(bool(s['exact']) for s in rows)}"
            )
    differ = sorted(
        k
        for k in before.keys() | after.keys()
        if k not in before
        or k not in after
        or any(_value(before[k], f, after[k]) != _value(after[k], f, before[k]) for f in fields)
    )
    for key in differ:
        print("differs:", *key)
    print(f"{len(before.keys() & after.keys())} readings compared, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
