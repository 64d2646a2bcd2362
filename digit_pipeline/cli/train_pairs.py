"""``train-pairs``: the judge's pair reader, two touching digits read whole (00-99).

The training is :func:`digit_pipeline.training.pairs.train_pair_reader`; the options are
the judge's other crop models' (:func:`~.train_verifier.add_crop_parser`).
"""

from __future__ import annotations

import argparse

from .train_verifier import add_crop_parser, run_crop


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``train-pairs`` to the command line.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The command line's sub-commands.
    """
    from ..training.pairs import COUNT, EPOCHS

    add_crop_parser(
        sub,
        "train-pairs",
        "train the judge's pair reader (a box of two touching digits read whole, 00-99) "
        "on pairs made from MNIST's training digits (--count new ones every epoch)",
        "models/judge/pairs.keras",
        run,
        defaults=(COUNT, EPOCHS),
    )


def run(args: argparse.Namespace) -> int:
    """Run ``train-pairs``; print its held-out accuracy; return the exit status."""
    from ..training.pairs import train_pair_reader

    return run_crop(args, train_pair_reader)
