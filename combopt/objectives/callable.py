"""Any objective given as a Python function of the whole assignment (the slow path).

This is the paper's general ``e(g(X, W), Y)``: nothing is known about the
function, so trying one value of one coordinate costs one full call. The
solver runs the very same strategy code as for the compiled objectives, but
interpreted (see :mod:`combopt._kernels.interpreted`), so expect thousands,
not hundreds of millions, of evaluations per second. Prefer a compiled
objective kind whenever the problem has structure.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from combopt._validation import check_count
from combopt.objectives.base import Objective


class CallableObjective(Objective):
    """Minimise ``func(x)`` for ``x`` a float64 vector of length ``num_variables``.

    Parameters
    ----------
    func : callable
        ``func(x) -> float`` for ``x`` of shape (n,). It must not keep or
        modify ``x``. A non-finite return value is an error.
    num_variables : int
        Length of ``x``.

    Examples
    --------
    >>> obj = CallableObjective(lambda x: float(((x - 0.4) ** 2).sum()), 3)
    >>> float(obj.energy([0.0, 1.0, 0.0]))
    0.68
    """

    def __init__(self, func: Callable[[np.ndarray], float], num_variables: int):
        if not callable(func):
            raise TypeError("func must be callable")
        self.func = func
        self.num_variables = check_count("num_variables", num_variables)

    def _call(self, x: np.ndarray) -> float:
        value = float(self.func(x))
        if not np.isfinite(value):
            raise ValueError(
                f"the objective returned a non-finite value ({value}) at x={x.tolist()}"
            )
        return value

    def energy(self, x):
        """``func`` at ``x`` (shape (n,)) or at each row of ``x`` (shape (k, n))."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1] != self.num_variables:
            raise ValueError(f"x must have {self.num_variables} variables, got shape {x.shape}")
        if x.ndim == 1:
            return self._call(x.copy())
        return np.array([self._call(row.copy()) for row in x.reshape(-1, x.shape[-1])]).reshape(
            x.shape[:-1]
        )

    def _lower(self):
        return _CallableProblem(self), 1


class _CallableProblem:
    """The interpreted counterpart of a kernel namedtuple (cache row: the current energy)."""

    def __init__(self, objective: CallableObjective):
        self._objective = objective

    @staticmethod
    def _point(values, offsets, x_idx):
        return values[offsets[:-1] + x_idx]

    def init(self, values, offsets, x_idx, cache):
        cache[0] = self._objective._call(self._point(values, offsets, x_idx))
        return cache[0]

    def deltas(self, values, offsets, x_idx, cache, i, out):
        x = self._point(values, offsets, x_idx)
        for k in range(offsets[i + 1] - offsets[i]):
            if k == x_idx[i]:
                out[k] = 0.0
            else:
                x[i] = values[offsets[i] + k]
                out[k] = self._objective._call(x) - cache[0]

    def apply(self, values, offsets, x_idx, cache, i, k):
        x_idx[i] = k
        cache[0] = self._objective._call(self._point(values, offsets, x_idx))
