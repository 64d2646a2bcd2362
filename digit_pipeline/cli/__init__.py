"""Command line: ``python -m digit_pipeline {read,train,finetune,evaluate,...} ...``.

One module per command, each with ``add_parser(subparsers)``, which adds the command and
its options and sets ``run`` (the function that runs it, ``run(args) -> exit status``):

- :mod:`.read`: the digits of images, folders, globs and ZIPs (stage options generated from
  :data:`~digit_pipeline.reading.params.PARAM_SPECS`);
- :mod:`.train`, :mod:`.finetune`, :mod:`.evaluate`, :mod:`.train_verifier`,
  :mod:`.train_orientation`, :mod:`.train_pairs`, :mod:`.teach_styles`: models;
- :mod:`.bench`: the reading benchmark.

What they share (``--data``, the error line) is :mod:`.options`. A command imports the work
it does (Keras, training, the benchmark) only when it runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from . import (
    bench,
    evaluate,
    finetune,
    read,
    teach_styles,
    train,
    train_orientation,
    train_pairs,
    train_verifier,
)
from .options import UsageError

COMMANDS = (
    read,
    train,
    finetune,
    evaluate,
    train_verifier,
    train_orientation,
    train_pairs,
    teach_styles,
    bench,
)
"""The command modules, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """Build the ``python -m digit_pipeline`` argument parser, one command per module."""
    parser = argparse.ArgumentParser(
        prog="python -m digit_pipeline",
        description="Read sheets of handwritten digits, train or fine-tune the model, "
        "or run the reading benchmark.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments; ``None`` = ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success; 1 when the work failed (a bad image, a refused setting); 2 for a
        usage error or a model that cannot be loaded.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except UsageError as error:
        parser.error(str(error))
