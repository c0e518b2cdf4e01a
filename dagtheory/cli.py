"""The ``dagtheory`` command.

Each subcommand prints a table, or JSON with ``--json``. Bad arguments and bad
input end with exit status 2 and a one-line message, never a traceback.
"""

import argparse
import sys

from . import __version__
from .exceptions import DagTheoryError
from .report import (
    example2_report,
    example2_table,
    mixing_example_report,
    mixing_example_table,
    to_json,
)

__all__ = ["main", "build_parser"]


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _run_example2(args):
    report = example2_report(horizon=args.horizon)
    return to_json(report) if args.json else example2_table(report)


def _run_mixing_example(args):
    report = mixing_example_report()
    return to_json(report) if args.json else mixing_example_table(report)


def build_parser():
    """The argument parser of the ``dagtheory`` command."""
    parser = argparse.ArgumentParser(
        prog="dagtheory",
        description="The theory of multi-head attention as sink-rooted DAGs: "
                    "fidelity, mixing and head weights, exact and fast.",
    )
    parser.add_argument("--version", action="version", version=f"dagtheory {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    example2 = commands.add_parser(
        "example2", help="Example 2 of the theory (§2): amplification by mixing two heads, exactly",
        description="Per-head and combined minimax fidelity of Example 2, the arg-min node and "
                    "step, and the amplification ratio, in exact rational arithmetic.",
    )
    example2.add_argument("--horizon", type=_positive_int, default=20, metavar="K",
                          help="horizon K (default 20)")
    example2.add_argument("--json", action="store_true",
                          help="print JSON (exact rationals as strings beside floats)")
    example2.set_defaults(run=_run_example2)
    mixing = commands.add_parser(
        "mixing-example", help="the mixing instance of the theory (§3): a mixture that mixes faster",
        description="Exact mixing times, distances and the M1/M2/M3 bounds of §3's instance.",
    )
    mixing.add_argument("--json", action="store_true", help="print JSON")
    mixing.set_defaults(run=_run_mixing_example)
    return parser


def main(argv=None):
    """Run the ``dagtheory`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        print(args.run(args))
    except (DagTheoryError, ValueError, TypeError) as err:
        print(f"dagtheory {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
