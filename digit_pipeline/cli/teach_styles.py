"""``teach-styles``: a model taught flagged and footed 1s without forgetting the rest.

The teaching is :func:`digit_pipeline.training.styles.teach_styles`.
"""

from __future__ import annotations

import argparse

from .options import add_data_option, fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``teach-styles`` to the command line.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The command line's sub-commands.
    """
    teach = sub.add_parser(
        "teach-styles",
        help="fine-tune a model on flagged and footed 1s without changing what it reads "
        "otherwise (writes a new model)",
    )
    teach.add_argument("--model", required=True, help="the .keras model to start from")
    teach.add_argument("--out", required=True, help="the new .keras file (must not exist)")
    add_data_option(teach)
    teach.add_argument("--flagged", type=int, default=2000, help="[%(default)s]")
    teach.add_argument("--footed", type=int, default=500, help="[%(default)s]")
    teach.add_argument("--epochs", type=int, default=2, help="[%(default)s]")
    teach.add_argument("--learning-rate", type=float, default=1e-4, help="[%(default)s]")
    teach.add_argument("--seed", type=int, default=0, help="[%(default)s]")
    teach.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``teach-styles``; print the accuracies; return the exit status."""
    from ..model import ModelLoadError
    from ..training.styles import teach_styles

    if args.epochs < 1 or args.flagged < 0 or args.footed < 0 or args.flagged + args.footed < 1:
        return fail("--epochs must be at least 1 and --flagged + --footed at least 1")
    try:
        card = teach_styles(
            args.model,
            args.out,
            data=args.data,
            flagged=args.flagged,
            footed=args.footed,
            epochs=args.epochs,
            learning_rate=args.learning_rate,
            seed=args.seed,
        )
    except (OSError, ValueError, ModelLoadError) as error:
        return fail(error)
    styles = card["styles"]
    print(
        f"validation accuracy {styles['validation_accuracy_before']:.4f} -> "
        f"{card['best_val_accuracy']:.4f}; MNIST test {card['mnist_test_accuracy']:.4f}; "
        f"wrote {args.out}"
    )
    return 0
