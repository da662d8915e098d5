"""Quadratic objectives ``f(x) = x^T Q x + c^T x + offset`` over finite domains."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from combopt._kernels.csr import sparse_couplings
from combopt._kernels.quadratic import DenseQuadratic, SparseQuadratic, dense_couplings
from combopt.objectives.base import Objective, as_finite_array

#: At or above this fraction of nonzero couplings the dense kernel is used...
DENSE_THRESHOLD = 0.05
#: ...as long as the dense coupling matrix stays below this many bytes.
DENSE_MAX_BYTES = 2**27


class QuadraticObjective(Objective):
    """``f(x) = x^T Q x + c^T x + offset``, each ``x_i`` in its own finite domain.

    Parameters
    ----------
    Q : array_like or scipy.sparse matrix, shape (n, n)
        Any square matrix; only ``Q + Q^T`` matters off the diagonal, so an
        upper-triangular, lower-triangular or symmetric ``Q`` all work.
    linear : array_like, shape (n,), optional
        The linear coefficients ``c`` (zeros by default).
    offset : float, optional
        The constant term.
    representation : {"auto", "dense", "sparse"}
        How the kernel stores the couplings. ``"auto"`` chooses dense when at
        least 5% of the off-diagonal couplings are nonzero and the dense matrix
        takes at most 128 MiB.

    Notes
    -----
    Each variable's domain is any finite set of reals: with ``Domain.binary()``
    this is a QUBO, with ``Domain.spin()`` an Ising model (``Q`` the couplings,
    ``c`` the fields). Evaluating every value of coordinate i costs
    ``O(|domain_i|)``; changing it costs ``O(degree of i)``.

    Examples
    --------
    >>> import numpy as np
    >>> obj = QuadraticObjective(np.array([[1.0, -2.0], [0.0, 1.0]]), linear=[0.0, -1.0])
    >>> float(obj.energy(np.array([1.0, 1.0])))
    -1.0
    """

    def __init__(self, Q, linear=None, offset: float = 0.0, *, representation: str = "auto"):
        if sp.issparse(Q):
            # Kept as COO triplets: the lowering and the energy read them directly,
            # and a COO input (the dimod adapter's) is not converted at all.
            if not (isinstance(Q, sp.coo_array) and Q.dtype == np.float64):
                Q = sp.coo_array(Q, dtype=np.float64)
            if Q.ndim != 2 or Q.shape[0] != Q.shape[1]:
                raise ValueError(f"Q must be square, got shape {Q.shape}")
            if not np.all(np.isfinite(Q.data)):
                raise ValueError("Q contains NaN or infinite values")
        else:
            Q = as_finite_array("Q", Q, ndim=(2,))
            if Q.shape[0] != Q.shape[1]:
                raise ValueError(f"Q must be square, got shape {Q.shape}")
        n = Q.shape[0]
        if n == 0:
            raise ValueError("Q has no variables")
        linear = np.zeros(n) if linear is None else as_finite_array("linear", linear, ndim=(1,))
        if linear.shape != (n,):
            raise ValueError(f"linear must have shape ({n},), got {linear.shape}")
        offset = float(offset)
        if not np.isfinite(offset):
            raise ValueError("offset must be finite")
        if representation not in ("auto", "dense", "sparse"):
            raise ValueError(
                f"representation must be 'auto', 'dense' or 'sparse', got {representation!r}"
            )
        self.Q = Q
        self.linear = linear
        self.offset = offset
        self.num_variables = n
        self.representation = representation

    def energy(self, x):
        """``x^T Q x + c^T x + offset`` for ``x`` of shape (n,) or (k, n)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1] != self.num_variables:
            raise ValueError(f"x must have {self.num_variables} variables, got shape {x.shape}")
        if sp.issparse(self.Q):
            # Q @ x for all points at once: memory of x's size, none of Q's per point.
            points = x.reshape(-1, self.num_variables)
            products = np.asarray(self.Q @ points.T)
            quadratic = np.einsum("kn,nk->k", points, products).reshape(x.shape[:-1])
        else:
            quadratic = np.sum((x @ self.Q) * x, axis=-1)
        return quadratic + x @ self.linear + self.offset

    def _triplets(self):
        """``Q``'s nonzero entries as COO triplets (indices int32 or int64; duplicates allowed)."""
        if sp.issparse(self.Q):
            return self.Q.row, self.Q.col, self.Q.data
        rows, cols = np.nonzero(self.Q)
        return rows, cols, self.Q[rows, cols]

    def _lower(self):
        n = self.num_variables
        rows, cols, data = self._triplets()
        linear = np.ascontiguousarray(self.linear)
        off_diagonal = rows.size - np.count_nonzero(rows == cols)
        # A dense row update is a contiguous, vectorised loop; at moderate
        # density it beats a CSR scatter even though it touches every column.
        dense = self.representation == "dense" or (
            self.representation == "auto"
            and 2 * off_diagonal >= DENSE_THRESHOLD * n * n
            and 8 * n * n <= DENSE_MAX_BYTES
        )
        data = np.ascontiguousarray(data, dtype=np.float64)
        if dense:
            # One compiled pass: numpy's masks, concatenations and bincount cost
            # as much as a short search on a few hundred variables.
            couplings, diag = dense_couplings(
                rows.astype(np.int64, copy=False), cols.astype(np.int64, copy=False), data, n
            )
            return DenseQuadratic(couplings, diag, linear, self.offset), n
        # S = Q + Q^T off the diagonal, straight from the triplets: one output-sized
        # allocation instead of scipy's concatenated and converted copies.
        indptr, indices, values, diag = sparse_couplings(rows, cols, data, n)
        return SparseQuadratic(indptr, indices, values, diag, linear, self.offset), n
