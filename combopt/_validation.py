"""Argument checks shared by every public entry point: counts, reals, seeds, arrays.

One mistake raises one exception type wherever it is made: a value of the
wrong *type* (a float or a bool where an integer is expected, a string where a
number is) raises ``TypeError``; a value of the right type outside its range
raises ``ValueError``. Messages are one line and name the argument.

Seeds
-----
Every seed of the package (:func:`combopt.solve`, the dimod samplers, the
network trainers, the benchmark runners, the command line) is an integer in
``[0, 2**53)``: the integers a JSON consumer that reads numbers as IEEE
doubles (``jq``, JavaScript) keeps exact, so a seed copied from a JSON record
replays the run anywhere. :func:`check_seed` draws a missing seed from the OS
in the same range.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "SEED_LIMIT",
    "as_finite_array",
    "check_count",
    "check_optional_count",
    "check_optional_real",
    "check_real",
    "check_seed",
]

#: Seeds are integers in ``[0, SEED_LIMIT)``; 2**53 is where doubles stop being exact.
SEED_LIMIT = 2**53


def _is_integer(value) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Integral)


def check_count(name: str, value, *, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an ``int`` in ``minimum..maximum``.

    Raises ``TypeError`` for a non-integer (bools included) and ``ValueError``
    for an integer out of range.

    Examples
    --------
    >>> check_count("num_reads", 3)
    3
    >>> check_count("tenure", 0, minimum=0)
    0
    >>> check_count("num_reads", 0)
    Traceback (most recent call last):
    ...
    ValueError: num_reads must be an integer >= 1, got 0
    >>> check_count("num_reads", 2.0)
    Traceback (most recent call last):
    ...
    TypeError: num_reads must be an integer, got float
    """
    if not _is_integer(value):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an integer in {minimum}..{maximum}, got {value}")
    return value


def check_optional_count(name: str, value, *, minimum: int = 0) -> int | None:
    """:func:`check_count`, with ``None`` passed through.

    Examples
    --------
    >>> check_optional_count("max_iterations", None) is None
    True
    """
    return None if value is None else check_count(name, value, minimum=minimum)


def check_real(name: str, value, *, minimum: float | None = None, strict: bool = False) -> float:
    """``value`` as a finite ``float``, at least (``strict``: above) ``minimum``.

    Examples
    --------
    >>> check_real("time_limit", 2)
    2.0
    >>> check_real("time_limit", 0.0, minimum=0.0, strict=True)
    Traceback (most recent call last):
    ...
    ValueError: time_limit must be a finite number > 0, got 0.0
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and (value < minimum or (strict and value == minimum)):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be a finite number {relation} {minimum:g}, got {value}")
    return value


def check_optional_real(
    name: str, value, *, minimum: float | None = None, strict: bool = False
) -> float | None:
    """:func:`check_real`, with ``None`` passed through.

    Examples
    --------
    >>> check_optional_real("target_energy", None) is None
    True
    """
    return None if value is None else check_real(name, value, minimum=minimum, strict=strict)


def check_seed(seed) -> int:
    """The seed to use: a given one checked, or one drawn from the OS.

    Parameters
    ----------
    seed : int or None
        An integer in ``[0, 2**53)``, or ``None`` to draw one in that range.

    Returns
    -------
    int

    Examples
    --------
    >>> check_seed(7)
    7
    >>> 0 <= check_seed(None) < 2**53
    True
    >>> check_seed(2**53)
    Traceback (most recent call last):
    ...
    ValueError: seed must be an integer in [0, 2**53), got 9007199254740992
    """
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] % SEED_LIMIT)
    if not _is_integer(seed):
        raise TypeError(f"seed must be an integer in [0, 2**53) or None, got {type(seed).__name__}")
    if not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"seed must be an integer in [0, 2**53), got {seed}")
    return int(seed)


def as_finite_array(name: str, value, *, ndim: tuple[int, ...] | None = None) -> np.ndarray:
    """``value`` as a float64 array; NaN/inf raise ``ValueError``, non-numbers ``TypeError``.

    Examples
    --------
    >>> as_finite_array("x", [1, 2]).tolist()
    [1.0, 2.0]
    >>> as_finite_array("x", [1.0, float("nan")])
    Traceback (most recent call last):
    ...
    ValueError: x contains NaN or infinite values
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers ({exc})") from None
    if ndim is not None and arr.ndim not in ndim:
        dims = " or ".join(map(str, ndim))
        raise ValueError(f"{name} must have {dims} dimensions, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def as_triplets(what: str, rows, cols, data, size: int) -> tuple[np.ndarray, ...]:
    """COO triplets ``(rows, cols, data)`` checked: one shape, integer indices in ``0..size-1``.

    ``data`` becomes a finite float64 array; the index arrays are returned as
    given (no copy). Raises ``ValueError`` (``TypeError`` for non-integer
    indices) with a message naming ``what``.

    Examples
    --------
    >>> rows, cols, data = as_triplets("Q", [0], [1], [2], 2)
    >>> rows.tolist(), cols.tolist(), data.tolist()
    ([0], [1], [2.0])
    >>> as_triplets("Q", [0], [2], [1.0], 2)
    Traceback (most recent call last):
    ...
    ValueError: Q cols hold an index outside 0..1
    """
    rows, cols = np.asarray(rows), np.asarray(cols)
    data = as_finite_array(f"{what} data", data, ndim=(1,))
    if rows.shape != data.shape or cols.shape != data.shape:
        raise ValueError(
            f"{what} rows, cols and data must have one shape, got "
            f"{rows.shape}, {cols.shape} and {data.shape}"
        )
    for name, index in (("rows", rows), ("cols", cols)):
        if index.size and not np.issubdtype(index.dtype, np.integer):
            raise TypeError(f"{what} {name} must be integers")
        if index.size and (index.min() < 0 or index.max() >= size):
            raise ValueError(f"{what} {name} hold an index outside 0..{size - 1}")
    return rows, cols, data
