"""``train-orientation``: the judge's model of a digit's way up (0-3 quarter turns).

The training is :func:`digit_pipeline.training.orientation.train_orientation`; the options
are ``train-verifier``'s (:func:`~.train_verifier.add_crop_parser`).
"""

from __future__ import annotations

import argparse

from .train_verifier import add_crop_parser, run_crop


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``train-orientation`` to the command line.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The command line's sub-commands.
    """
    add_crop_parser(
        sub,
        "train-orientation",
        "train the judge's orientation model (a digit upright, lying or upside down) on "
        "turned crops of MNIST's training digits",
        "models/judge/orientation.keras",
        run,
    )


def run(args: argparse.Namespace) -> int:
    """Run ``train-orientation``; print its validation accuracy; return the exit status."""
    from ..training.orientation import train_orientation

    return run_crop(args, train_orientation)
