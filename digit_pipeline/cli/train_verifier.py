"""``train-verifier``: the judge's one digit / several digits / no digit model.

The training is :func:`digit_pipeline.training.verifier.train_verifier`.
"""

from __future__ import annotations

import argparse

from .options import add_data_option, fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``train-verifier`` to the command line.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The command line's sub-commands.
    """
    verifier = sub.add_parser(
        "train-verifier",
        help="train the judge's verifier (one digit, several, or no digit) on crops made "
        "from MNIST's training digits",
    )
    verifier.add_argument(
        "--out",
        default="models/judge/verifier.keras",
        help="the .keras file to write, its card beside it [%(default)s]",
    )
    add_data_option(verifier)
    verifier.add_argument("--count", type=int, default=120_000, help="[%(default)s]")
    verifier.add_argument("--epochs", type=int, default=4, help="[%(default)s]")
    verifier.add_argument("--seed", type=int, default=0, help="[%(default)s]")
    verifier.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``train-verifier``; print its validation accuracy; return the exit status."""
    from ..training.verifier import train_verifier

    if args.epochs < 1 or args.count < 30:
        return fail("--epochs must be at least 1 and --count at least 30")
    try:
        card = train_verifier(args.out, args.data, args.count, args.epochs, args.seed)
    except (OSError, ValueError) as error:
        return fail(error)
    print(f"validation accuracy {card['validation_accuracy']:.4f}; wrote {args.out}")
    return 0
