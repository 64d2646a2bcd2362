"""Command line: ``python -m digit_pipeline {read,train,finetune,evaluate,bench,...} ...``.

Pipeline options are generated from :data:`digit_pipeline.reading.params.PARAM_SPECS`, so the CLI,
the app and the defaults never disagree.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .batch.run import add_batch_options, load_params_file
from .benchmarking import run as bench
from .model import DEFAULT_MODEL, ModelLoadError
from .reading.params import PARAM_SPECS, PipelineParams
from .training import styles


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _threshold(text: str) -> int | None:
    if text.lower() in ("otsu", "auto", "none"):
        return None
    return int(text)


def _remember(namespace: argparse.Namespace, dest: str) -> None:
    namespace.given_params = {*getattr(namespace, "given_params", ()), dest}


class _Given(argparse.Action):
    """Store the value and remember that the option was given on the command line."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        _remember(namespace, self.dest)


class _GivenSwitch(argparse.BooleanOptionalAction):
    """``--x / --no-x``, remembering that it was given."""

    def __call__(self, parser, namespace, values, option_string=None):
        super().__call__(parser, namespace, values, option_string)
        _remember(namespace, self.dest)


def add_param_options(parser: argparse.ArgumentParser) -> None:
    """Add one ``--<param>`` option per pipeline parameter (default: the dataclass's).

    The names of the options given on the command line are collected in the parsed
    namespace's ``given_params`` (absent when none was given).
    """
    group = parser.add_argument_group("pipeline parameters (defaults in brackets)")
    for spec in PARAM_SPECS:
        bounds = (
            f"one of {spec.choices}"
            if spec.choices
            else f"{spec.low:g}..{spec.high:g}"
            if spec.low is not None
            else ""
        )
        help_text = f"{spec.help} {bounds}".strip() + f" [{spec.default}]"
        if spec.kind is bool:
            group.add_argument(
                _option(spec.name),
                dest=spec.name,
                action=_GivenSwitch,
                default=spec.default,
                help=help_text,
            )
        elif spec.optional:
            group.add_argument(
                _option(spec.name),
                dest=spec.name,
                type=_threshold,
                action=_Given,
                default=spec.default,
                metavar="N|otsu",
                help=help_text.replace("[None]", "[otsu]"),
            )
        else:
            group.add_argument(
                _option(spec.name),
                dest=spec.name,
                type=spec.kind,
                action=_Given,
                default=spec.default,
                metavar="N",
                help=help_text,
            )


def params_from_args(args: argparse.Namespace) -> PipelineParams:
    """Build validated :class:`PipelineParams` from parsed options.

    With ``--params FILE`` the file's settings come first and the options given on the
    command line override them.
    """
    values = {spec.name: getattr(args, spec.name) for spec in PARAM_SPECS}
    if getattr(args, "params", None):
        given = set(getattr(args, "given_params", ()))
        saved = load_params_file(args.params)
        unknown = sorted(set(saved) - set(values))
        if unknown:
            raise ValueError(f"--params {args.params} holds unknown settings: {', '.join(unknown)}")
        values.update({k: v for k, v in saved.items() if k not in given})
    return PipelineParams(**values)


def build_parser() -> argparse.ArgumentParser:
    """Build the ``python -m digit_pipeline`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m digit_pipeline",
        description="Read sheets of handwritten digits, train or fine-tune the model, "
        "or run the reading benchmark.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    _add_read(sub)
    _add_train(sub)
    _add_finetune(sub)
    _add_evaluate(sub)
    _add_train_verifier(sub)
    styles.add_parser(sub)
    bench.add_arguments(
        sub.add_parser(
            "bench",
            help="reading benchmark: synthetic sheets of MNIST test digits, "
            "read with default and fitted parameters",
        )
    )
    return parser


def _add_read(sub: argparse._SubParsersAction) -> None:
    """Add ``read``: images, folders, globs and ZIPs, with the stage options."""
    read = sub.add_parser("read", help="read the digits of one or more images")
    read.add_argument(
        "images",
        nargs="+",
        metavar="IMAGE",
        help="image files, folders (searched recursively), globs (quote them; ** recurses) "
        "and ZIP archives (members read in memory, never extracted)",
    )
    read.add_argument("--json", action="store_true", help="one JSON object per image per line")
    read.add_argument(
        "--auto",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fit the stage parameters to each image (the app's Auto-fit boxes), or use "
        "the defaults and the options given as they are (--no-auto). Without either, "
        "each image is fitted unless an option the fit sets is given (the app likewise "
        "fits each new image); with --auto, options only set what the fit leaves alone",
    )
    read.add_argument("--model", default=str(DEFAULT_MODEL), help="a .keras model [%(default)s]")
    read.add_argument(
        "--params",
        metavar="FILE",
        help="settings saved by the app's Download these settings button (JSON); options "
        "given as well override them, and the images are not fitted unless --auto",
    )
    add_batch_options(read)
    add_param_options(read)


def _add_train(sub: argparse._SubParsersAction) -> None:
    """Add ``train``: a model trained on MNIST."""
    train = sub.add_parser(
        "train", help="train a model on MNIST (Flatten-Dense by default, or the small CNN)"
    )
    train.add_argument(
        "--data",
        default=None,
        help="MNIST .npz in keras.datasets layout [download with keras.datasets.mnist]",
    )
    train.add_argument(
        "--arch",
        choices=("mlp", "cnn"),
        default="mlp",
        help="mlp = Flatten-Dense, cnn = small CNN [%(default)s]",
    )
    train.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="augment the training batches: shifts, rotations, zoom, stroke width, "
        "elastic distortion [%(default)s]",
    )
    train.add_argument("--epochs", type=int, default=30, help="most epochs [%(default)s]")
    train.add_argument("--seed", type=int, default=0, help="random seed [%(default)s]")
    train.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        default=None,
        metavar="UNITS",
        help="dense hidden units; mlp takes 1-3 layers, e.g. --hidden 256 128 [mlp 1024, cnn 128]",
    )
    train.add_argument("--dropout", type=float, default=None, help="[mlp 0.2, cnn 0.3]")
    train.add_argument("--batch-size", type=int, default=128, help="[%(default)s]")
    train.add_argument(
        "--learning-rate", type=float, default=1e-3, help="Adam's initial rate [%(default)s]"
    )
    train.add_argument(
        "--train-size",
        type=int,
        default=None,
        metavar="N",
        help="train on only N training images (a quick demo) [all but the validation split]",
    )
    train.add_argument(
        "--filters", type=int, default=32, help="CNN filters of the first block [%(default)s]"
    )
    train.add_argument(
        "--patience",
        type=int,
        default=8,
        help="epochs without validation gain before stopping [%(default)s]",
    )
    train.add_argument(
        "--teacher",
        default=None,
        metavar="MODEL",
        help="a trained .keras model to learn from as well (distillation), e.g. models/cnn.keras",
    )
    train.add_argument(
        "--teacher-weight",
        type=float,
        default=0.5,
        help="share of the teacher's output in the training targets [%(default)s]",
    )
    train.add_argument(
        "--out",
        default=None,
        help="model path [$DIGIT_WORKBENCH_MODELS or ~/.digit_workbench/models, "
        "<arch>-<time>.keras]; a shipped model is only replaced when named here",
    )


def _add_finetune(sub: argparse._SubParsersAction) -> None:
    """Add ``finetune``: a model fine-tuned on the user's dataset."""
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
    finetune.add_argument(
        "--data",
        default=None,
        help="MNIST .npz in keras.datasets layout [download with keras.datasets.mnist]",
    )
    finetune.add_argument("--epochs", type=int, default=3, help="epochs [%(default)s]")
    finetune.add_argument("--seed", type=int, default=0, help="random seed [%(default)s]")
    finetune.add_argument(
        "--out",
        default=None,
        help="new model path, must not exist "
        "[$DIGIT_WORKBENCH_MODELS or ~/.digit_workbench/models, <model>-ft-<time>.keras]",
    )


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    """Add ``evaluate``: a model measured on MNIST's test digits."""
    evaluate = sub.add_parser(
        "evaluate",
        help="measure a model on MNIST's test digits: accuracy, confusion matrix, "
        "per-class precision/recall/F1",
    )
    evaluate.add_argument(
        "--model", default=str(DEFAULT_MODEL), help="a .keras model [%(default)s]"
    )
    evaluate.add_argument(
        "--data",
        default=None,
        help="MNIST .npz in keras.datasets layout (its test split is used) "
        "[download with keras.datasets.mnist]",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")


def _add_train_verifier(sub: argparse._SubParsersAction) -> None:
    """Add ``train-verifier``: the judge's one/several/no-digit model."""
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
    verifier.add_argument(
        "--data", default=None, help="MNIST .npz in keras.datasets layout [download]"
    )
    verifier.add_argument("--count", type=int, default=120_000, help="[%(default)s]")
    verifier.add_argument("--epochs", type=int, default=4, help="[%(default)s]")
    verifier.add_argument("--seed", type=int, default=0, help="[%(default)s]")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train":
        return _train(args)
    if args.command == "finetune":
        return _finetune(args)
    if args.command == "evaluate":
        return _evaluate(args)
    if args.command == "bench":
        return bench.run(args)
    if args.command == "train-verifier":
        return _train_verifier(args)
    if args.command == "teach-styles":
        return styles.run(args)
    try:
        params = params_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    return _read(args, params)


def _new_model_path(arch: str) -> str:
    """Return a new path in the user's models folder (no shipped model is replaced unasked)."""
    import datetime

    from .training.finetune import user_models_dir

    folder = user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return str(folder / f"{arch}-{stamp}.keras")


def _train_verifier(args: argparse.Namespace) -> int:
    from .training.verifier import train_verifier

    if args.epochs < 1 or args.count < 30:
        print("error: --epochs must be at least 1 and --count at least 30", file=sys.stderr)
        return 1
    try:
        card = train_verifier(args.out, args.data, args.count, args.epochs, args.seed)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"validation accuracy {card['validation_accuracy']:.4f}; wrote {args.out}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from .training.progress import text_bar
    from .training.train import train

    if args.epochs < 1:
        print(f"error: --epochs must be at least 1, got {args.epochs}", file=sys.stderr)
        return 1
    out = args.out or _new_model_path(args.arch)
    try:
        result = train(
            out,
            data=args.data,
            arch=args.arch,
            augment=args.augment,
            epochs=args.epochs,
            seed=args.seed,
            hidden=args.hidden,
            dropout=args.dropout,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            train_size=args.train_size,
            filters=args.filters,
            patience=args.patience,
            teacher=args.teacher,
            teacher_weight=args.teacher_weight,
            on_update=text_bar(),
            verbose=0,
        )
    except (OSError, ValueError, ModelLoadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    card = result.card
    print(
        f"MNIST test accuracy {card['mnist_test_accuracy']:.4f} after {card['epochs_run']} "
        f"epochs; wrote {result.path} and {result.path.with_suffix('.json')}"
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .training.data import load_mnist
    from .training.evaluation import evaluate_file

    try:
        _, (x_test, y_test) = load_mnist(args.data)
        result = evaluate_file(args.model, x_test, y_test)
    except ModelLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
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


def _finetune(args: argparse.Namespace) -> int:
    from .training.finetune import fine_tune
    from .userdata import Dataset, default_dir

    folder = Path(args.dataset) if args.dataset else default_dir()
    if args.epochs < 1:
        print(f"error: --epochs must be at least 1, got {args.epochs}", file=sys.stderr)
        return 1
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
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    card = result.card
    for when in ("before", "after"):
        scores = card[when]
        print(
            f"{when:6}: MNIST test {scores['mnist_test_accuracy']:.4f}, "
            f"your held-back digits {scores['user_holdout_accuracy']:.4f}"
        )
    print(f"wrote {result.path} and {result.path.with_suffix('.json')}")
    return 0


def _read(args: argparse.Namespace, params: PipelineParams) -> int:
    from .batch.run import run_batch

    return run_batch(args, params, auto=_fits(args))


def _fits(args: argparse.Namespace) -> bool:
    """Whether ``read`` fits the parameters to each image (see ``--auto``)."""
    from .reading.autofit import FITTED_PARAMS

    if args.auto is not None:
        return args.auto
    if getattr(args, "params", None):
        return False  # saved settings were tuned on a sheet: read with them as they are
    return not set(getattr(args, "given_params", ())) & set(FITTED_PARAMS)
