"""Command line: ``python -m digit_pipeline {read,train} ...``.

Pipeline options are generated from :data:`digit_pipeline.params.PARAM_SPECS`, so the CLI,
the app and the defaults never disagree.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .imageio import ImageReadError, read_image
from .model import DEFAULT_MODEL, ModelLoadError
from .params import PARAM_SPECS, PipelineParams


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _threshold(text: str) -> int | None:
    if text.lower() in ("otsu", "auto", "none"):
        return None
    return int(text)


def add_param_options(parser: argparse.ArgumentParser) -> None:
    """Add one ``--<param>`` option per pipeline parameter (default: the dataclass's)."""
    group = parser.add_argument_group("pipeline parameters (defaults in brackets)")
    for spec in PARAM_SPECS:
        bounds = (
            f"one of {spec.choices}"
            if spec.choices
            else f"{spec.low:g}..{spec.high:g}"
            if spec.low is not None
            else ""
        )
        help_text = f"{spec.help} {bounds}".strip() + f" [{spec.default}]"
        if spec.kind is bool:
            group.add_argument(
                _option(spec.name),
                dest=spec.name,
                action=argparse.BooleanOptionalAction,
                default=spec.default,
                help=help_text,
            )
        elif spec.optional:
            group.add_argument(
                _option(spec.name),
                dest=spec.name,
                type=_threshold,
                default=spec.default,
                metavar="N|otsu",
                help=help_text.replace("[None]", "[otsu]"),
            )
        else:
            group.add_argument(
                _option(spec.name),
                dest=spec.name,
                type=spec.kind,
                default=spec.default,
                metavar="N",
                help=help_text,
            )


def params_from_args(args: argparse.Namespace) -> PipelineParams:
    """Build validated :class:`PipelineParams` from parsed options."""
    return PipelineParams(**{spec.name: getattr(args, spec.name) for spec in PARAM_SPECS})


def build_parser() -> argparse.ArgumentParser:
    """Build the ``python -m digit_pipeline`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m digit_pipeline",
        description="Read sheets of handwritten digits, or train the model.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    read = sub.add_parser("read", help="read the digits of one or more images")
    read.add_argument("images", nargs="+", metavar="IMAGE")
    read.add_argument("--json", action="store_true", help="one JSON object per image per line")
    read.add_argument("--model", default=str(DEFAULT_MODEL), help="a .keras model [%(default)s]")
    add_param_options(read)

    train = sub.add_parser("train", help="train the Flatten-Dense model on MNIST")
    train.add_argument(
        "--data",
        default=None,
        help="MNIST .npz in keras.datasets layout [download with keras.datasets.mnist]",
    )
    train.add_argument("--epochs", type=int, default=30, help="most epochs [%(default)s]")
    train.add_argument("--seed", type=int, default=0, help="random seed [%(default)s]")
    train.add_argument("--hidden", type=int, default=512, help="hidden units [%(default)s]")
    train.add_argument("--out", default=str(DEFAULT_MODEL), help="model path [%(default)s]")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train":
        return _train(args)
    try:
        params = params_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    return _read(args, params)


def _train(args: argparse.Namespace) -> int:
    from .model import train

    try:
        result = train(
            args.out, data=args.data, epochs=args.epochs, seed=args.seed, hidden=args.hidden
        )
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    card = result.card
    print(
        f"MNIST test accuracy {card['mnist_test_accuracy']:.4f} after {card['epochs_run']} "
        f"epochs; wrote {result.path} and {result.path.with_suffix('.json')}"
    )
    return 0


def _read(args: argparse.Namespace, params: PipelineParams) -> int:
    from .model import load_model
    from .reading import read_sheet

    try:
        model = load_model(args.model)
    except ModelLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failed = 0
    for i, name in enumerate(args.images):
        start = time.perf_counter()
        try:
            image = read_image(name)
        except ImageReadError as error:
            failed += 1
            print(f"error: {error}", file=sys.stderr)
            if args.json:
                print(json.dumps({"image": name, "error": str(error)}), flush=True)
            continue
        load_ms = (time.perf_counter() - start) * 1000
        reading, _ = read_sheet(model, image, params)
        if args.json:
            print(json.dumps(_record(name, image.shape, params, reading, load_ms)), flush=True)
        else:
            if len(args.images) > 1:
                print(("\n" if i else "") + f"==> {name} <==")
            print(reading.text if reading.digits else "(no digits found)", flush=True)
    return 1 if failed else 0


def _record(
    name: str, shape: tuple[int, ...], params: PipelineParams, reading: Any, load_ms: float
) -> dict[str, Any]:
    timings = {"load": load_ms, **reading.timings_ms}
    return {
        "image": str(Path(name)),
        "width": int(shape[1]),
        "height": int(shape[0]),
        "params": params.to_dict(),
        "text": reading.text,
        "digits": [d.to_dict() for d in reading.digits],
        "timings_ms": {k: round(v, 2) for k, v in timings.items()},
    }
