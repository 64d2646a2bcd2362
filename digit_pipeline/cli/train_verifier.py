"""``train-verifier``: the judge's one digit / several digits / no digit model.

The training is :func:`digit_pipeline.training.verifier.train_verifier`. The judge's other
crop model, ``train-orientation``, takes the same options (:func:`add_crop_parser`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .options import add_data_option, fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``train-verifier`` to the command line.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The command line's sub-commands.
    """
    add_crop_parser(
        sub,
        "train-verifier",
        "train the judge's verifier (one digit, several, or no digit) on crops made "
        "from MNIST's training digits",
        "models/judge/verifier.keras",
        run,
    )


def add_crop_parser(
    sub: argparse._SubParsersAction,
    name: str,
    help: str,
    out: str,
    run: Callable[[argparse.Namespace], int],
    defaults: tuple[int, int] = (120_000, 4),
) -> None:
    """Add a command that trains one of the judge's crop models.

    Its options: ``--out`` (default ``out``, the shipped file), ``--data``, ``--count``,
    ``--epochs`` (``defaults``), ``--seed``; ``run`` runs it.
    """
    parser = sub.add_parser(name, help=help)
    parser.add_argument(
        "--out", default=out, help="the .keras file to write, its card beside it [%(default)s]"
    )
    add_data_option(parser)
    parser.add_argument("--count", type=int, default=defaults[0], help="[%(default)s]")
    parser.add_argument("--epochs", type=int, default=defaults[1], help="[%(default)s]")
    parser.add_argument("--seed", type=int, default=0, help="[%(default)s]")
    parser.set_defaults(run=run)


def run_crop(args: argparse.Namespace, train: Callable[..., dict[str, Any]]) -> int:
    """Train a crop model with ``args``; print its validation accuracy; return the status."""
    if args.epochs < 1 or args.count < 30:
        return fail("--epochs must be at least 1 and --count at least 30")
    try:
        card = train(args.out, args.data, args.count, args.epochs, args.seed)
    except (OSError, ValueError) as error:
        return fail(error)
    print(f"validation accuracy {card['validation_accuracy']:.4f}; wrote {args.out}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``train-verifier``; print its validation accuracy; return the exit status."""
    from ..training.verifier import train_verifier

    return run_crop(args, train_verifier)
