"""argparse ``type=`` converters shared by the sub-commands.

A bad value becomes argparse's one-line usage error (exit code 2), naming the
option, instead of a traceback.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def integer(minimum: int) -> Callable[[str], int]:
    """A converter to ``int`` that refuses values below ``minimum``.

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
        return value

    convert.__name__ = f"integer >= {minimum}"
    return convert


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
