"""``read``: the digits of images, folders, globs and ZIP archives, on all cores or on Ray.

The stage options are generated from :data:`digit_pipeline.reading.params.PARAM_SPECS`, so
the CLI, the app and the defaults never disagree. The reading itself is
:func:`digit_pipeline.batch.run.run_batch`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..batch.engines import default_workers
from ..model import DEFAULT_MODEL
from ..reading.params import PARAM_SPECS, PipelineParams
from .options import UsageError, option


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``read`` to the command line, with the batch and the stage options.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The command line's sub-commands.
    """
    read = sub.add_parser("read", help="read the digits of one or more images")
    read.add_argument(
        "images",
        nargs="+",
        metavar="IMAGE",
        help="image files, folders (searched recursively), globs (quote them; ** recurses) "
        "and ZIP archives (members read in memory, never extracted)",
    )
    read.add_argument("--json", action="store_true", help="one JSON object per image per line")
    read.add_argument(
        "--auto",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fit the stage parameters to each image (the app's Auto-fit boxes), or use "
        "the defaults and the options given as they are (--no-auto). Without either, "
        "each image is fitted unless an option the fit sets is given (the app likewise "
        "fits each new image); with --auto, options only set what the fit leaves alone",
    )
    read.add_argument("--model", default=str(DEFAULT_MODEL), help="a .keras model [%(default)s]")
    read.add_argument(
        "--params",
        metavar="FILE",
        help="settings saved by the app's Download these settings button (JSON); options "
        "given as well override them, and the images are not fitted unless --auto",
    )
    add_batch_options(read)
    add_param_options(read)
    read.set_defaults(run=run)


def add_batch_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``read`` for many images (where to write, how many at once)."""
    group = parser.add_argument_group("many images (folders, globs, ZIP archives)")
    group.add_argument(
        "--out",
        metavar="FILE.jsonl",
        help="append one JSON object per image to this file; rerun the same command to "
        "resume after a crash or Ctrl-C (images already in the file are skipped)",
    )
    group.add_argument("--csv", metavar="FILE", help="write the per-digit table of every image")
    group.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help=f"processes reading at once [the number of cores, here {default_workers()}]",
    )
    group.add_argument(
        "--engine",
        choices=("pool", "ray"),
        default="pool",
        help="pool = processes on this machine; ray = Ray Data, local or --address [%(default)s]",
    )
    group.add_argument(
        "--address",
        default=None,
        help="with --engine ray: an existing cluster (ray://host:port or auto) "
        "[start a local instance]",
    )
    group.add_argument("--quiet", action="store_true", help="no progress bar")


def _threshold(text: str) -> int | None:
    if text.lower() in ("otsu", "auto", "none"):
        return None
    return int(text)


def _remember(namespace: argparse.Namespace, dest: str) -> None:
    namespace.given_params = {*getattr(namespace, "given_params", ()), dest}


class _Given(argparse.Action):
    """Store the value and remember that the option was given on the command line."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        _remember(namespace, self.dest)


class _GivenSwitch(argparse.BooleanOptionalAction):
    """``--x / --no-x``, remembering that it was given."""

    def __call__(self, parser, namespace, values, option_string=None):
        super().__call__(parser, namespace, values, option_string)
        _remember(namespace, self.dest)


def add_param_options(parser: argparse.ArgumentParser) -> None:
    """Add one ``--<param>`` option per pipeline parameter (default: the dataclass's).

    The names of the options given on the command line are collected in the parsed
    namespace's ``given_params`` (absent when none was given).
    """
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
                option(spec.name),
                dest=spec.name,
                action=_GivenSwitch,
                default=spec.default,
                help=help_text,
            )
        elif spec.optional:
            group.add_argument(
                option(spec.name),
                dest=spec.name,
                type=_threshold,
                action=_Given,
                default=spec.default,
                metavar="N|otsu",
                help=help_text.replace("[None]", "[otsu]"),
            )
        else:
            group.add_argument(
                option(spec.name),
                dest=spec.name,
                type=spec.kind,
                action=_Given,
                default=spec.default,
                metavar="N",
                help=help_text,
            )


def load_params_file(path: str) -> dict[str, Any]:
    """Read the settings the app's *Download these settings* button saves.

    Raises
    ------
    ValueError
        If the file cannot be read or is not a JSON object.
    """
    try:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"--params {path} cannot be read ({error}).") from error
    if not isinstance(values, dict):
        raise ValueError(f"--params {path} must hold a JSON object of settings.")
    return values


def params_from_args(args: argparse.Namespace) -> PipelineParams:
    """Build validated :class:`PipelineParams` from parsed options.

    With ``--params FILE`` the file's settings come first and the options given on the
    command line override them.

    Raises
    ------
    ValueError
        For a value out of its range, or a ``--params`` file that cannot be used.
    """
    values = {spec.name: getattr(args, spec.name) for spec in PARAM_SPECS}
    if getattr(args, "params", None):
        given = set(getattr(args, "given_params", ()))
        saved = load_params_file(args.params)
        unknown = sorted(set(saved) - set(values))
        if unknown:
            raise ValueError(f"--params {args.params} holds unknown settings: {', '.join(unknown)}")
        values.update({k: v for k, v in saved.items() if k not in given})
    return PipelineParams(**values)


def fits(args: argparse.Namespace) -> bool:
    """Whether ``read`` fits the parameters to each image (see ``--auto``)."""
    from ..reading.autofit import FITTED_PARAMS

    if args.auto is not None:
        return args.auto
    if getattr(args, "params", None):
        return False  # saved settings were tuned on a sheet: read with them as they are
    return not set(getattr(args, "given_params", ())) & set(FITTED_PARAMS)


def run(args: argparse.Namespace) -> int:
    """Run ``read``; return the exit status (1 when an image failed, 2 when no model).

    Raises
    ------
    UsageError
        For a stage option out of its range or a ``--params`` file that cannot be used.
    """
    from ..batch.run import run_batch

    try:
        params = params_from_args(args)
    except ValueError as error:
        raise UsageError(str(error)) from error
    return run_batch(args, params, auto=fits(args))
