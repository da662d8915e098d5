"""Least squares: the single-layer linear network of the paper's NP-hardness proof."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from combopt._kernels.lstsq import LeastSquares
from combopt.objectives.base import Objective, as_finite_array


class LeastSquaresObjective(Objective):
    """``f(W) = ||X W - Y||_F^2 / N`` with every weight in a finite domain.

    Parameters
    ----------
    X : array_like or scipy.sparse matrix, shape (N, d)
        Inputs, one sample per row.
    Y : array_like, shape (N,) or (N, k)
        Targets; ``k`` output columns give ``d * k`` weights.

    Notes
    -----
    The variables are the weights ``W`` flattened row-major: variable
    ``j * k + o`` is ``W[j, o]`` (``k = 1`` for a vector ``Y``). Use
    :meth:`weights` to reshape an assignment. Evaluating every value of a
    weight costs O(nnz of column j) plus O(1) per value; changing it costs
    O(nnz of column j).

    Examples
    --------
    >>> import numpy as np
    >>> obj = LeastSquaresObjective(np.eye(2), [1.0, -1.0])
    >>> float(obj.energy(np.array([1.0, -1.0]))), float(obj.energy(np.zeros(2)))
    (0.0, 1.0)
    """

    def __init__(self, X, Y):
        if sp.issparse(X):
            X = sp.csc_array(X, dtype=np.float64)
            if X.ndim != 2:
                raise ValueError(f"X must be two-dimensional, got shape {X.shape}")
            if not np.all(np.isfinite(X.data)):
                raise ValueError("X contains NaN or infinite values")
        else:
            X = as_finite_array("X", X, ndim=(2,))
        Y = as_finite_array("Y", Y, ndim=(1, 2))
        N, d = X.shape
        if N == 0 or d == 0:
            raise ValueError(f"X must have at least one row and one column, got shape {X.shape}")
        if Y.shape[0] != N:
            raise ValueError(f"Y has {Y.shape[0]} rows but X has {N}")
        self.X = X
        self.Y = Y
        self.num_outputs = 1 if Y.ndim == 1 else Y.shape[1]
        self.num_variables = d * self.num_outputs

    def weights(self, x) -> np.ndarray:
        """Reshape an assignment (n,) to ``W``: (d,) for a vector ``Y``, else (d, k)."""
        x = np.asarray(x, dtype=np.float64)
        d = self.X.shape[1]
        return x.reshape(d) if self.Y.ndim == 1 else x.reshape(d, self.num_outputs)

    def energy(self, x):
        """``||X W - Y||^2 / N`` for ``x`` of shape (n,) or (m, n)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1] != self.num_variables:
            raise ValueError(f"x must have {self.num_variables} variables, got shape {x.shape}")
        batch = x.reshape(-1, self.X.shape[1], self.num_outputs)
        Y = self.Y.reshape(self.X.shape[0], self.num_outputs)
        losses = np.array([np.sum((self.X @ W - Y) ** 2) for W in batch]) / self.X.shape[0]
        return losses[0] if x.ndim == 1 else losses.reshape(x.shape[:-1])

    def _lower(self):
        X = sp.csc_array(self.X)
        X.sort_indices()
        N = X.shape[0]
        targets = np.ascontiguousarray(self.Y.reshape(N, self.num_outputs).T).ravel()
        col_sqnorm = np.asarray(X.multiply(X).sum(axis=0), dtype=np.float64).ravel()
        problem = LeastSquares(
            X.indptr.astype(np.int64), X.indices.astype(np.int64),
            np.ascontiguousarray(X.data, dtype=np.float64), col_sqnorm, targets,
            np.int64(N), np.int64(self.num_outputs),
        )
        return problem, N * self.num_outputs
