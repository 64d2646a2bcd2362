"""``evaluate``: a model measured on MNIST's test digits.

The measuring is :func:`digit_pipeline.training.evaluation.evaluate_file`.
"""

from __future__ import annotations

import argparse
import json

from ..model import DEFAULT_MODEL, ModelLoadError
from .options import add_data_option, fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``evaluate`` to the command line.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The command line's sub-commands.
    """
    evaluate = sub.add_parser(
        "evaluate",
        help="measure a model on MNIST's test digits: accuracy, confusion matrix, "
        "per-class precision/recall/F1",
    )
    evaluate.add_argument(
        "--model", default=str(DEFAULT_MODEL), help="a .keras model [%(default)s]"
    )
    add_data_option(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``evaluate``; print the figures; return the exit status (2 when no model)."""
    from ..training.data import load_mnist
    from ..training.evaluation import evaluate_file

    try:
        _, (x_test, y_test) = load_mnist(args.data)
        result = evaluate_file(args.model, x_test, y_test)
    except ModelLoadError as error:
        return fail(error, 2)
    except (OSError, ValueError) as error:
        return fail(error)
    if args.json:
        print(json.dumps(result.to_dict(str(args.model))))
        return 0
    print(f"model {args.model}: accuracy {result.accuracy:.4f} on {result.n} test digits")
    print("\nconfusion matrix (rows = true digit, columns = predicted)")
    print("true " + "".join(f"{k:>6}" for k in range(result.confusion.shape[1])))
    for k, row in enumerate(result.confusion):
        print(f"{k:>4} " + "".join(f"{v:>6}" for v in row))
    print(f"\n{'digit':>5} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}")
    for c in result.per_class:
        print(f"{c.digit:>5} {c.precision:>9.4f} {c.recall:>7.4f} {c.f1:>7.4f} {c.support:>8}")
    return 0
