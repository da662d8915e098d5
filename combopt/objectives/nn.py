"""Training loss of a dense classifier (softmax regression, MLP) as an objective.

The variables are the network's weights and biases in the order of
:meth:`combopt.nn.DenseNet.flat` (each layer's ``W`` row-major, then its
``b``); the energy is the mean training loss. The kernel
(:mod:`combopt._kernels.nn_dense`) evaluates a candidate weight by updating
only what it touches -- one logit column in the output layer, one hidden unit
and the layers above it otherwise -- with the per-sample cross-entropy updated
in O(1) from cached sums.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp

from combopt._kernels.nn_dense import (
    ACT_RELU,
    ACT_SIGMOID,
    ACT_TANH,
    LOSS_CROSS_ENTROPY,
    LOSS_SQUARED,
    DenseNetProblem,
    cache_layout,
)
from combopt._numeric.layers import DenseNet, sample_losses
from combopt.objectives.base import Objective, as_finite_array

__all__ = ["DenseNetObjective"]

_ACT_CODES = {"relu": ACT_RELU, "tanh": ACT_TANH, "logistic": ACT_SIGMOID}
_LOSS_CODES = {"cross_entropy": LOSS_CROSS_ENTROPY, "squared": LOSS_SQUARED}


#: Inputs with at most this many distinct values get a table of them (one ``exp`` per level).
_MAX_LEVELS = 1024


def _input_levels(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(code of each value, distinct values)``, or two empty arrays if there are too many.

    Examples
    --------
    >>> codes, levels = _input_levels(np.array([0.5, 1.0, 0.5]))
    >>> codes.tolist(), levels.tolist()
    ([0, 1, 0], [0.5, 1.0])
    """
    data = np.asarray(data, dtype=np.float64)
    # A sample first: a data set with many distinct values skips the full sort.
    if np.unique(data[:: max(1, data.size // 4096)]).size > _MAX_LEVELS:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    levels, codes = np.unique(data, return_inverse=True)
    if levels.size > _MAX_LEVELS:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return codes.astype(np.int64).ravel(), levels


class DenseNetObjective(Objective):
    """Mean training loss of a fully connected classifier over its weights.

    Parameters
    ----------
    X : array_like or scipy.sparse matrix, shape (N, d)
        Training inputs (sparse inputs such as MNIST pixels are stored
        column-wise, so zero inputs cost nothing).
    y : array_like of int, shape (N,)
        Labels in ``0..n_classes-1``.
    hidden : sequence of int
        Hidden layer widths; ``()`` is softmax (multinomial logistic) regression.
    n_classes : int, optional
        ``C``; default ``max(y) + 1``.
    activation : {"relu", "tanh", "logistic"}
        Hidden activation.
    loss : {"cross_entropy", "squared"}
        Per-sample error: ``-log softmax(z)_y`` or ``||softmax(z) - onehot(y)||^2``.

    Attributes
    ----------
    sizes : list of int
        ``[d, *hidden, C]``.
    layer_slices : list of slice
        Each layer's variables (its ``W`` then ``b``).

    Examples
    --------
    >>> import numpy as np
    >>> from combopt import Domain, solve
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]]); y = np.array([0, 1])
    >>> obj = DenseNetObjective(X, y)
    >>> res = solve(obj, Domain.ternary(), max_iterations=5, seed=0)
    >>> obj.network(res.x).predict(X).tolist()
    [0, 1]
    """

    def __init__(self, X, y, hidden=(), *, n_classes=None, activation="relu", loss="cross_entropy"):
        if sp.issparse(X):
            X = sp.csc_array(X, dtype=np.float64)
            if not np.all(np.isfinite(X.data)):
                raise ValueError("X contains NaN or infinite values")
        else:
            X = as_finite_array("X", X, ndim=(2,))
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"X must have at least one row and one column, got shape {X.shape}")
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise ValueError("y must hold non-negative integer labels")
        n_classes = int(y.max()) + 1 if n_classes is None else int(n_classes)
        if n_classes < 2 or y.max() >= n_classes:
            raise ValueError(f"n_classes must be >= 2 and exceed every label, got {n_classes}")
        hidden = [int(h) for h in hidden]
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden layer widths must be positive, got {hidden}")
        if activation not in _ACT_CODES:
            raise ValueError(
                f"activation must be one of {', '.join(_ACT_CODES)}, got {activation!r}"
            )
        if loss not in _LOSS_CODES:
            raise ValueError(f"loss must be one of {', '.join(_LOSS_CODES)}, got {loss!r}")
        self.X = X
        # The kernel reads the inputs column by column; built once here because
        # segmented training lowers the same objective many times.
        self._X_csc = sp.csc_array(X)
        self._X_csc.sort_indices()
        self._levels = None  # (codes, distinct values) of the inputs, built by _lower
        self.y = y.astype(np.int64)
        self.activation = activation
        self.loss = loss
        self.sizes = [int(X.shape[1]), *hidden, n_classes]
        starts = [0]
        for a, b in zip(self.sizes, self.sizes[1:]):
            starts.append(starts[-1] + (a + 1) * b)
        self.layer_slices = [slice(s, e) for s, e in itertools.pairwise(starts)]
        self.num_variables = starts[-1]

    def network(self, x):
        """The :class:`combopt.nn.DenseNet` whose parameters are ``x`` (shape ``(n,)``)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self.num_variables,):
            raise ValueError(f"x must have shape ({self.num_variables},), got {x.shape}")
        weights, biases = [], []
        for sl, a, b in zip(self.layer_slices, self.sizes, self.sizes[1:]):
            chunk = x[sl]
            weights.append(chunk[: a * b].reshape(a, b))
            biases.append(chunk[a * b :])
        return DenseNet(weights, biases, self.activation)

    def energy(self, x):
        """Mean training loss for ``x`` of shape ``(n,)`` or ``(k, n)`` (full forward pass)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1] != self.num_variables or x.ndim not in (1, 2):
            raise ValueError(f"x must have {self.num_variables} variables, got shape {x.shape}")
        rows = np.atleast_2d(x)
        out = np.array(
            [sample_losses(self.network(r).logits(self.X), self.y, self.loss).mean() for r in rows]
        )
        return float(out[0]) if x.ndim == 1 else out

    def _lower(self):
        X = self._X_csc
        N = X.shape[0]
        var_start = np.array(
            [s.start for s in self.layer_slices] + [self.num_variables], dtype=np.int64
        )
        a_off, h_off, w_off, stats_off, length = cache_layout(N, self.sizes, self.num_variables)
        if self._levels is None:
            self._levels = _input_levels(X.data)
        problem = DenseNetProblem(
            np.ascontiguousarray(X.data, dtype=np.float64),
            X.indices.astype(np.int64),
            X.indptr.astype(np.int64),
            *self._levels,
            self.y,
            np.array(self.sizes, dtype=np.int64),
            var_start,
            a_off,
            h_off,
            w_off,
            stats_off,
            np.int64(N),
            np.int64(_ACT_CODES[self.activation]),
            np.int64(_LOSS_CODES[self.loss]),
            np.int64(max(self.sizes)),
        )
        return problem, int(length)
