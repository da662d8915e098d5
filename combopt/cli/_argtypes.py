"""argparse ``type=`` converters shared by the sub-commands.

A bad value becomes argparse's one-line usage error (exit code 2), naming the
option, instead of a traceback.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from combopt._validation import SEED_LIMIT


def integer(minimum: int, limit: int | None = None) -> Callable[[str], int]:
    """A converter to ``int`` that refuses values below ``minimum`` (or from ``limit`` on).

    Examples
    --------
    >>> integer(1)("3")
    3
    """

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        if limit is not None and value >= limit:
            raise argparse.ArgumentTypeError(f"must be < {limit}, got {value}")
        return value

    convert.__name__ = f"integer >= {minimum}"
    return convert


#: ``--seed``: an integer in ``[0, 2**53)``, the range of every seed of the package.
seed = integer(0, SEED_LIMIT)
seed.__name__ = "seed in [0, 2**53)"


def positive_real(text: str) -> float:
    """A finite number ``> 0`` (seconds, penalty weights).

    Examples
    --------
    >>> positive_real("0.5")
    0.5
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value
