"""``read`` over many images.

Expand the arguments, skip what the journal holds, read the rest on the chosen engine,
write each record as it comes, report bad images and go on. The options are
:mod:`digit_pipeline.cli.read`'s.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..model import ModelLoadError
from ..reading.params import PipelineParams
from .engines import (
    RAY_MISSING,
    RayConnectError,
    Result,
    default_workers,
    ray_available,
    read_pool,
    read_ray,
    read_sequential,
)
from .journal import CsvTable, Journal, iter_records
from .progress import Progress
from .sources import Source, digest, expand


def run_batch(args: argparse.Namespace, params: PipelineParams, auto: bool) -> int:
    """Run ``read``; return the exit status (1 when an image failed, 2 when no model)."""
    if args.workers is not None and args.workers < 1:
        print(f"error: --workers must be at least 1, got {args.workers}", file=sys.stderr)
        return 2
    if args.engine == "ray" and not ray_available():
        print(f"error: {RAY_MISSING}", file=sys.stderr)
        return 2
    sources, problems = expand(args.images)
    failed = len(problems)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    journal = None
    hashes: dict[str, str | None] = {}
    pending = sources
    if args.out:
        try:
            journal = Journal(args.out)
        except (OSError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        if journal.cut:
            print(f"note: cut an unfinished last line off {args.out}.", file=sys.stderr)
        # Only an image whose name the journal holds needs hashing here, to see whether
        # its content changed; the others are hashed by whoever reads them.
        known = journal.names  # a set built from the journal's lines: once, not per image
        hashes = {s.name: digest(s) for s in sources if s.name in known}
        pending = [
            s
            for s in sources
            if s.name not in hashes or not journal.is_done(s.name, hashes[s.name])
        ]
        skipped = len(sources) - len(pending)
        if skipped:
            print(
                f"note: {skipped} of {len(sources)} images already read; resuming.",
                file=sys.stderr,
            )
    csv = CsvTable(args.csv) if args.csv and journal is None else None
    progress = Progress(len(pending), enabled=not args.quiet)
    model = str(Path(args.model).resolve()) if Path(args.model).exists() else args.model
    try:
        for _source, record, note in _engine(args, pending, params, model, auto):
            if note:
                print(note, file=sys.stderr)
            if "error" in record:
                failed += 1
                print(f"error: {record['error']}", file=sys.stderr)
            content_hash = record.pop("hash", None)  # read_record's; the journal keeps it
            _emit(args, record, progress.done, len(sources) > 1, journal, content_hash)
            if csv is not None:
                csv.add(record)
            progress.step()
    except (ModelLoadError, RayConnectError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        progress.close()
        again = " Rerun the same command to resume." if journal else ""
        done = f"interrupted after {progress.done} of {len(pending)} images."
        print(done + again, file=sys.stderr)
        return 130
    finally:
        if journal is not None:
            journal.close()
        if csv is not None:
            csv.close()
    progress.close()
    if args.csv and journal is not None:
        table = CsvTable(args.csv)  # everything the journal holds, in its order
        for record in iter_records(args.out):
            table.add(record)
        table.close()
    return 1 if failed else 0


def _engine(
    args: argparse.Namespace, pending: list[Source], params: PipelineParams, model: str, auto: bool
) -> Iterator[Result]:
    workers = args.workers or default_workers()
    if args.engine == "ray":
        return read_ray(pending, params, model, auto, workers, args.address)
    workers = min(workers, len(pending))
    if workers <= 1:
        return read_sequential(pending, params, model, auto)
    return read_pool(pending, params, model, auto, workers)


def _emit(
    args: argparse.Namespace,
    record: dict[str, Any],
    index: int,
    several: bool,
    journal: Journal | None,
    content_hash: str | None,
) -> None:
    if journal is not None:
        journal.append({**record, "hash": content_hash})
    elif args.json:
        print(json.dumps(record), flush=True)
    elif "error" not in record:
        header = f"==> {record['image']} <==\n" if several else ""
        text = record["text"] if record["digits"] else "(no digits found)"
        print(("\n" if several and index else "") + header + text, flush=True)
