"""The ``combopt`` command line.

Each sub-command lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` (a function
``handler(args) -> int``). :func:`main` is the entry point used by the console
script and by the tests (in-process, ``main(argv) -> int``).

Bad input (``ValueError``, ``TypeError``, ``OSError``) never shows a traceback:
it is printed as one line on stderr and the exit code is 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from combopt._version import __version__

#: Sub-command modules, in the order ``combopt --help`` lists them.
SUBCOMMANDS = ("solve", "reduce", "tsp", "color", "train", "bench")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (exit code 2)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every sub-command registered."""
    parser = _Parser(
        prog="combopt",
        description="CoNNTrA finite-domain coordinate search, QUBO reductions and benchmarks.",
    )
    parser.add_argument("--version", action="version", version=f"combopt {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        importlib.import_module(f"combopt.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args))
    except (ValueError, TypeError, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"combopt {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"combopt {args.command}: interrupted", file=sys.stderr)
        return 130


def console_main() -> None:
    """Console-script entry point."""
    sys.exit(main())
