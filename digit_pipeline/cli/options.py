"""What every command shares: the ``--data`` option, usage errors and the one error line.

Each command module (:mod:`.read`, :mod:`.train`, ...) builds its parser with these, so an
option two commands share is written once.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..reading.judge import JudgeParams

DATA_HELP = "MNIST .npz in keras.datasets layout [download with keras.datasets.mnist]"
"""The one help text of ``--data`` (every command that reads MNIST takes it)."""


class UsageError(ValueError):
    """Options that parse but do not go together.

    :func:`~digit_pipeline.cli.main` reports it as argparse reports a bad option: the
    usage, one line, exit status 2.
    """


def option(name: str) -> str:
    """Return the command-line spelling of a field name.

    Examples
    --------
    >>> option("blur_size")
    '--blur-size'
    """
    return "--" + name.replace("_", "-")


def add_data_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--data FILE``: a local MNIST ``.npz`` (default: Keras downloads MNIST).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        A command's parser; gets ``data`` (``None`` when not given).
    """
    parser.add_argument("--data", default=None, help=DATA_HELP)


def fail(error: object, status: int = 1) -> int:
    """Print ``error: <error>`` on stderr and return ``status`` (the exit status).

    Examples
    --------
    >>> fail("--epochs must be at least 1", 1)
    1
    """
    print(f"error: {error}", file=sys.stderr)
    return status


def add_judge_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--judge-off`` and ``--judge-on NAME[,NAME]``: the judge's rules and steps off or on.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        A command's parser; gets ``judge_off`` (a string, "" when not given).
    """
    from ..reading.judge import RULES, STEPS
    from ..reading.judge.params import OFF_BY_DEFAULT

    names = ", ".join(repr(n) for n in [*RULES, *STEPS])
    parser.add_argument(
        "--judge-off",
        default="",
        metavar="NAME[,NAME]",
        help=f"switch these rules or steps of the judge off, to measure what each is "
        f"worth; comma-separated, of: {names} [none]",
    )
    parser.add_argument(
        "--judge-on",
        default="",
        metavar="NAME[,NAME]",
        help="switch on steps that are off by default, to measure them; comma-separated, of: "
        + (", ".join(repr(n) for n in sorted(OFF_BY_DEFAULT)) or "none today, every step is on")
        + " [none]",
    )


def judge_from_args(args: argparse.Namespace) -> JudgeParams:
    """Build the :class:`~digit_pipeline.reading.judge.JudgeParams` of ``--judge-off``.

    Raises
    ------
    UsageError
        For a name that is no rule or step (``--judge-off``), or no step that is off by
        default (``--judge-on``).
    """
    from ..reading.judge import JudgeParams
    from ..reading.judge.params import OFF_BY_DEFAULT

    def names(option: str) -> set[str]:
        return {n.strip() for n in (getattr(args, option, "") or "").split(",") if n.strip()}

    unknown = sorted(names("judge_on") - OFF_BY_DEFAULT)
    if unknown:
        known = ", ".join(sorted(OFF_BY_DEFAULT)) or "none is"
        raise UsageError(f"--judge-on: {unknown[0]!r} is no step that is off by default ({known})")
    try:
        return JudgeParams(off=(OFF_BY_DEFAULT | names("judge_off")) - names("judge_on"))
    except ValueError as error:
        raise UsageError(f"--judge-off: {error}") from error
