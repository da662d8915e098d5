"""Input checks shared by the reductions: shapes, finiteness, scalars.

Every public function of :mod:`reductions` lowers its inputs through these
helpers, so bad input fails the same way everywhere: a ``ValueError`` or
``TypeError`` with a one-line message that names the argument.  The helpers
always return fresh ``float64`` arrays, which is what keeps the public
functions pure (they never write into, or hand back, the caller's arrays).
"""

from __future__ import annotations

import numbers

import numpy as np

VARIABLES = ("binary", "spin")

#: The two values a variable takes in each form.
VARIABLE_VALUES = {"binary": (0.0, 1.0), "spin": (-1.0, 1.0)}


def as_real_array(value, name: str, ndim: int | tuple[int, ...]) -> np.ndarray:
    """Return ``value`` as a new finite float64 array with ``ndim`` dimensions."""
    try:
        arr = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers ({exc})") from None
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in allowed:
        want = " or ".join(f"{k}-D" for k in allowed)
        raise ValueError(f"{name} must be {want}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return np.ascontiguousarray(arr)


def as_square(value, name: str) -> np.ndarray:
    """Return a finite square float64 matrix with at least one row."""
    arr = as_real_array(value, name, 2)
    if arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {arr.shape}")
    return arr


def as_vector(value, name: str, length: int) -> np.ndarray:
    """Return a finite float64 vector of the given length (``None`` gives zeros)."""
    if value is None:
        return np.zeros(length)
    arr = as_real_array(value, name, 1)
    if arr.shape != (length,):
        raise ValueError(f"{name} must have shape ({length},), got {arr.shape}")
    return arr


def as_scalar(value, name: str) -> float:
    """Return a finite real scalar as a Python float."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    out = float(value)
    if not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out}")
    return out


def check_variables(variables: str) -> str:
    """Validate the name of a variable form (``"binary"`` or ``"spin"``)."""
    if variables not in VARIABLES:
        raise ValueError(f"variables must be 'binary' or 'spin', got {variables!r}")
    return variables


def training_set(X, Y, offset) -> tuple[np.ndarray, np.ndarray, float]:
    """Check a training set: X (N, d) with N, d >= 1; Y (N,) or (N, k); a finite offset."""
    X = as_real_array(X, "X", 2)
    n_rows, d = X.shape
    if n_rows == 0 or d == 0:
        raise ValueError(f"X must have at least one row and one column, got shape {X.shape}")
    Y = as_real_array(Y, "Y", (1, 2))
    if Y.shape[0] != n_rows:
        raise ValueError(f"Y must have {n_rows} rows like X, got shape {Y.shape}")
    return X, Y, as_scalar(offset, "offset")


def as_points(z, n: int, name: str = "z") -> tuple[np.ndarray, bool]:
    """Return points as a ``(k, n)`` float array and whether a single point was given."""
    arr = as_real_array(z, name, (1, 2))
    single = arr.ndim == 1
    arr = arr.reshape(1, -1) if single else arr
    if arr.shape[1] != n:
        raise ValueError(f"{name} must have {n} entries per point, got shape {arr.shape}")
    return arr, single
