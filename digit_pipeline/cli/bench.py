"""``bench``: the reading benchmark, synthetic sheets of MNIST test digits or real photos.

The options are defined here; the benchmark itself is
:func:`digit_pipeline.benchmarking.run.run`.
"""

from __future__ import annotations

import argparse

from ..benchmarking.plan import CONDITIONS, MAX_MP, MODES
from ..model import DEFAULT_MODEL
from .options import add_data_option, add_judge_option, judge_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``bench`` to the command line.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The command line's sub-commands.
    """
    bench = sub.add_parser(
        "bench",
        help="reading benchmark: synthetic sheets of MNIST test digits, "
        "read with default and fitted parameters",
    )
    add_arguments(bench)
    bench.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``bench``; return the exit status (see :func:`digit_pipeline.benchmarking.run.run`)."""
    from ..benchmarking.run import run as run_bench

    return run_bench(args, judge_from_args(args))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``bench`` options to ``parser`` (a sub-command's parser).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Gets ``--sheets --seed --out --data --digits --fonts --model --modes --conditions
        --max-mp --turn --inks --grids --numbers --defocus --webcam --shapes --full-page
        --pairs --save-failures --real --auto --judge-off --ablate``.
    """
    _add_sheet_arguments(parser)
    _add_reading_arguments(parser)
    add_judge_option(parser)
    parser.add_argument(
        "--ablate",
        nargs="?",
        const="all",
        default=None,
        metavar="NAME[,NAME]",
        help="read the family (the synthetic sheets, or --real DIR) with everything on, then "
        "with each rule and step of the judge and each refine switch off in turn (or only "
        "those named), fitted as `read` reads; print what each changes (per writer for "
        "real photos), and with --out write ablation.json and ablation.md",
    )
    parser.add_argument(
        "--real",
        default=None,
        metavar="DIR",
        help="instead of synthetic sheets, read the real photos of DIR (a truth.json "
        "beside them, laid out like shared/data/real_dev) as `read` does, and score "
        "the texts against the truth",
    )
    parser.add_argument(
        "--auto",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with --real: fit each image (as `read` does, the default) or read with the "
        "plain defaults (--no-auto); without either, --modes decides",
    )


def _add_sheet_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--sheets --seed --out --data --digits --fonts``: which sheets, and where to."""
    parser.add_argument("--sheets", type=int, default=60, help="sheets to draw [%(default)s]")
    parser.add_argument("--seed", type=int, default=0, help="seed of the plan [%(default)s]")
    parser.add_argument(
        "--out", default=None, help="folder for results.json and report.md [none: print only]"
    )
    add_data_option(parser)
    parser.add_argument(
        "--digits",
        choices=("mnist", "fonts"),
        default="mnist",
        help="draw the sheets from MNIST test digits, or from handwriting fonts [%(default)s]",
    )
    parser.add_argument(
        "--fonts",
        action="append",
        default=None,
        metavar="GLOB",
        help="with --digits fonts: font files or glob patterns, repeatable "
        "[Debian's handwriting-font packages]",
    )


def _add_reading_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of a generated run: which models, modes, sheets and family.

    ``--model --modes --conditions --max-mp --turn --inks --grids --numbers --defocus
    --webcam --shapes --full-page --pairs --save-failures``.
    """
    parser.add_argument(
        "--model",
        action="append",
        default=None,
        metavar="PATH",
        help=f"a .keras model; repeat to compare models on the same sheets [{DEFAULT_MODEL}]",
    )
    parser.add_argument(
        "--modes",
        default=",".join(MODES),
        help="comma-separated: default (default parameters), auto (fitted) [%(default)s]",
    )
    parser.add_argument(
        "--conditions",
        default=None,
        help=f"comma-separated subset of: {', '.join(CONDITIONS)} [all]",
    )
    parser.add_argument(
        "--max-mp",
        type=float,
        default=MAX_MP,
        help="largest sheet in megapixels; lower it for a quick run [%(default)s]",
    )
    parser.add_argument(
        "--turn",
        action="store_true",
        help="store every sheet turned: a quarter turn clockwise, a half turn, three "
        "quarters, in turn (photos stored sideways or upside down; the reading must find "
        "the way up)",
    )
    parser.add_argument(
        "--inks",
        action="store_true",
        help="draw every sheet in a coloured ink (red, pink, orange, purple, green, blue "
        "markers) on a coloured paper (pink, yellow, kraft, blue, green, grey, white)",
    )
    parser.add_argument(
        "--grids",
        action="store_true",
        help="write every sheet on printed paper: dotted grids, rows of dots, dashed "
        "grids and rules, and solid grids twice as fine as the lines of digits",
    )
    parser.add_argument(
        "--numbers",
        action="store_true",
        help="write each line as numbers of 1-4 digits, 1.8-4 digit heights apart and "
        "each a little higher or lower (the text parts them with spaces: 'text as written' "
        "counts the sheets read so)",
    )
    parser.add_argument(
        "--defocus",
        action="store_true",
        help="photograph every sheet out of focus (a disk blur 3-6%% of the digits' "
        "height) with corners 30-60%% darker",
    )
    parser.add_argument(
        "--webcam",
        action="store_true",
        help="every sheet as a webcam frame (640x480 or 1280x720): small digits, faint "
        "ink, noise, low JPEG quality",
    )
    parser.add_argument(
        "--shapes",
        action="store_true",
        help="write each line as numbers apart, each inside a drawn ellipse or rectangle "
        "(some touching or crossing its digits)",
    )
    parser.add_argument(
        "--full-page",
        action="store_true",
        help="fill a 12 MP page with small digits close together: 60-100 px tall, a "
        "tenth to a third of a digit apart, up to 20 lines of 10-32",
    )
    parser.add_argument(
        "--pairs",
        action="store_true",
        help="write each line as pairs of digits, the second run into the first by up to "
        "40%% of the narrower one's width, or touching it",
    )
    parser.add_argument(
        "--save-failures",
        action="store_true",
        help="with --out: save each sheet not read exactly, boxes drawn, in failures/ "
        "(replacing that folder)",
    )
