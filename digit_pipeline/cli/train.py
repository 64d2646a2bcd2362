"""``train``: a model trained on MNIST, saved with its card (never over a shipped one unasked).

The training is :func:`digit_pipeline.training.train.train`; its options are made from
:data:`~digit_pipeline.training.settings.TRAIN_SPECS` (one per setting, same names).
"""

from __future__ import annotations

import argparse

from ..model import ModelLoadError
from ..training.settings import TRAIN_SPECS, TrainSettings
from .options import add_data_option, fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``train`` to the command line.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The command line's sub-commands.
    """
    train = sub.add_parser(
        "train", help="train a model on MNIST (Flatten-Dense by default, or the small CNN)"
    )
    add_data_option(train)
    add_setting_options(train)
    train.add_argument(
        "--out",
        default=None,
        help="model path [$DIGIT_WORKBENCH_MODELS or ~/.digit_workbench/models, "
        "<arch>-<time>.keras]; a shipped model is only replaced when named here",
    )
    train.set_defaults(run=run)


def add_setting_options(parser: argparse.ArgumentParser) -> None:
    """Add one ``--<setting>`` option per field of :class:`TrainSettings` (its default too).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Gets one option per :data:`~digit_pipeline.training.settings.TRAIN_SPECS` entry,
        ``--x / --no-x`` for a switch and one number or more for ``--hidden``.
    """
    for spec in TRAIN_SPECS:
        default = "%(default)s" if spec.default is not None else spec.unset
        help_text = f"{spec.help.replace('%', '%%')} [{default}]"
        if spec.kind is bool:
            parser.add_argument(
                spec.option,
                action=argparse.BooleanOptionalAction,
                default=spec.default,
                help=help_text,
            )
            continue
        parser.add_argument(
            spec.option,
            type=spec.kind,
            nargs="+" if spec.many else None,
            choices=spec.choices,
            default=spec.default,
            metavar=spec.metavar,
            help=help_text,
        )


def settings_from_args(args: argparse.Namespace) -> TrainSettings:
    """Return the :class:`TrainSettings` the parsed options stand for."""
    values = {}
    for spec in TRAIN_SPECS:
        value = getattr(args, spec.name)
        values[spec.name] = tuple(value) if spec.many and value is not None else value
    return TrainSettings(**values)


def new_model_path(arch: str) -> str:
    """Return a new path in the user's models folder (no shipped model is replaced unasked)."""
    import datetime

    from ..training.finetune import user_models_dir

    folder = user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return str(folder / f"{arch}-{stamp}.keras")


def run(args: argparse.Namespace) -> int:
    """Run ``train``; print the test accuracy and where the model went; return the status."""
    from ..training.progress import text_bar
    from ..training.train import train

    if args.epochs < 1:
        return fail(f"--epochs must be at least 1, got {args.epochs}")
    out = args.out or new_model_path(args.arch)
    try:
        result = train(
            out, settings_from_args(args), data=args.data, on_update=text_bar(), verbose=0
        )
    except (OSError, ValueError, ModelLoadError) as error:
        return fail(error)
    card = result.card
    print(
        f"MNIST test accuracy {card['mnist_test_accuracy']:.4f} after {card['epochs_run']} "
        f"epochs; wrote {result.path} and {result.path.with_suffix('.json')}"
    )
    return 0
