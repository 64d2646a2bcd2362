"""``finetune``: a model fine-tuned on MNIST plus the user's saved digits (a new file).

The fine-tuning is :func:`digit_pipeline.training.finetune.fine_tune`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..model import DEFAULT_MODEL, ModelLoadError
from .options import add_data_option, fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``finetune`` to the command line.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The command line's sub-commands.
    """
    finetune = sub.add_parser(
        "finetune",
        help="fine-tune a model on MNIST training data plus your saved digits "
        "(writes a new model; never overwrites one)",
    )
    finetune.add_argument(
        "--dataset",
        default=None,
        help="your dataset folder (the app's Save to my dataset) "
        "[$DIGIT_WORKBENCH_DATA or ~/.digit_workbench/dataset]",
    )
    finetune.add_argument(
        "--model", default=str(DEFAULT_MODEL), help="the model to start from [%(default)s]"
    )
    add_data_option(finetune)
    finetune.add_argument("--epochs", type=int, default=3, help="epochs [%(default)s]")
    finetune.add_argument("--seed", type=int, default=0, help="random seed [%(default)s]")
    finetune.add_argument(
        "--out",
        default=None,
        help="new model path, must not exist "
        "[$DIGIT_WORKBENCH_MODELS or ~/.digit_workbench/models, <model>-ft-<time>.keras]",
    )
    finetune.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``finetune``; print both scores before and after; return the exit status."""
    from ..training.finetune import fine_tune
    from ..userdata import Dataset, default_dir

    folder = Path(args.dataset) if args.dataset else default_dir()
    if args.epochs < 1:
        return fail(f"--epochs must be at least 1, got {args.epochs}")
    try:
        x, y = Dataset(folder).load()
        result = fine_tune(
            args.model,
            x,
            y,
            mnist=args.data,
            out=args.out,
            epochs=args.epochs,
            seed=args.seed,
            progress=lambda fraction, message: print(
                f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True
            ),
        )
    except ModelLoadError as error:
        return fail(error, 2)
    except (OSError, ValueError) as error:
        return fail(error)
    card = result.card
    for when in ("before", "after"):
        scores = card[when]
        print(
            f"{when:6}: MNIST test {scores['mnist_test_accuracy']:.4f}, "
            f"your held-back digits {scores['user_holdout_accuracy']:.4f}"
        )
    print(f"wrote {result.path} and {result.path.with_suffix('.json')}")
    return 0
