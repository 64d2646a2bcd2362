"""``evaluate``: a model measured on MNIST's test digits, or on another yardstick.

``--data`` takes MNIST (its test split) or other digits as ``x, y`` (USPS's, made MNIST-like
by the reader's own cut); ``--real DIR`` measures the classifier alone on real photos' digits
cut at their true boxes (:mod:`digit_pipeline.training.yardsticks`). The measuring is
:func:`digit_pipeline.training.evaluation.evaluate_file`.
"""

from __future__ import annotations

import argparse
import json

from ..model import DEFAULT_MODEL, ModelLoadError
from .options import UsageError, fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``evaluate`` to the command line.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The command line's sub-commands.
    """
    evaluate = sub.add_parser(
        "evaluate",
        help="measure a model on MNIST's test digits (or another yardstick): accuracy, "
        "confusion matrix, per-class precision/recall/F1",
    )
    evaluate.add_argument(
        "--model", default=str(DEFAULT_MODEL), help="a .keras model [%(default)s]"
    )
    evaluate.add_argument(
        "--data",
        default=None,
        help="an .npz: MNIST in keras.datasets layout (its test split), or other digits as "
        "x, y of any size (e.g. ../shared/data/usps_train.npz: each cut to 28x28 as a "
        "sheet's box is) [MNIST, downloaded with keras.datasets.mnist]",
    )
    evaluate.add_argument(
        "--real",
        default=None,
        metavar="DIR",
        help="instead, real photos' digits cut at their true boxes (--boxes), e.g. "
        "../shared/data/real_dev",
    )
    evaluate.add_argument(
        "--boxes",
        default=None,
        metavar="FILE",
        help="with --real: the true boxes (JSON) [benchmarks/data/real_dev_boxes.json]",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``evaluate``; print the figures; return the exit status (2 when no model)."""
    from ..training.evaluation import evaluate_file

    try:
        name, x, y = _digits(args)
        result = evaluate_file(args.model, x, y)
    except ModelLoadError as error:
        return fail(error, 2)
    except UsageError:
        raise  # the usage line and status 2, as argparse reports a bad option
    except (OSError, ValueError) as error:
        return fail(error)
    if args.json:
        print(json.dumps({**result.to_dict(str(args.model)), "data": name}))
        return 0
    print(f"model {args.model}: accuracy {result.accuracy:.4f} on {result.n} digits of {name}")
    print("\nconfusion matrix (rows = true digit, columns = predicted)")
    print("true " + "".join(f"{k:>6}" for k in range(result.confusion.shape[1])))
    for k, row in enumerate(result.confusion):
        print(f"{k:>4} " + "".join(f"{v:>6}" for v in row))
    print(f"\n{'digit':>5} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}")
    for c in result.per_class:
        print(f"{c.digit:>5} {c.precision:>9.4f} {c.recall:>7.4f} {c.f1:>7.4f} {c.support:>8}")
    return 0


def _digits(args: argparse.Namespace) -> tuple[str, object, object]:
    """Return the name, digits and labels ``evaluate`` measures on (see ``--data``, ``--real``).

    Raises
    ------
    UsageError
        For ``--boxes`` without ``--real``.
    """
    from ..training.yardsticks import REAL_DEV_BOXES, load_yardstick, real_digits, yardstick_of

    if args.boxes and not args.real:
        raise UsageError("--boxes goes with --real DIR")
    if args.real:
        stick = real_digits(args.real, args.boxes or REAL_DEV_BOXES)
        return f"{stick.name} (true boxes)", stick.x, stick.y
    stick = yardstick_of("mnist", "") if args.data is None else load_yardstick(args.data)
    return stick.name, stick.x, stick.y
