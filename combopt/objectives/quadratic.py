"""Quadratic objectives ``f(x) = x^T Q x + c^T x + offset`` over finite domains."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from combopt._kernels.csr import sparse_couplings
from combopt._kernels.quadratic import DenseQuadratic, SparseQuadratic, dense_couplings
from combopt._validation import as_triplets, check_count
from combopt.objectives.base import Objective, as_finite_array

#: At or above this fraction of nonzero couplings the dense kernel is used...
DENSE_THRESHOLD = 0.05
#: ...as long as the dense coupling matrix stays below this many bytes.
DENSE_MAX_BYTES = 2**27
#: Entries gathered at once by the energy of triplets (:meth:`QuadraticObjective.from_coo`).
_GATHER_ENTRIES = 2**22


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
        if representation not in ("auto", "dense", "sparse"):
            raise ValueError(
                f"representation must be 'auto', 'dense' or 'sparse', got {representation!r}"
            )
        self._Q = Q
        self._coo = None
        self._set_terms(Q.shape[0], linear, offset)
        self.representation = representation

    def _set_terms(self, n, linear, offset) -> None:
        """Check and keep ``n``, ``linear`` and ``offset`` (both constructors)."""
        if n == 0:
            raise ValueError("Q has no variables")
        linear = np.zeros(n) if linear is None else as_finite_array("linear", linear, ndim=(1,))
        if linear.shape != (n,):
            raise ValueError(f"linear must have shape ({n},), got {linear.shape}")
        offset = float(offset)
        if not np.isfinite(offset):
            raise ValueError("offset must be finite")
        self.linear = linear
        self.offset = offset
        self.num_variables = n

    @classmethod
    def from_coo(cls, rows, cols, data, n: int, linear=None, offset: float = 0.0):
        """The objective of COO triplets ``Q[rows[k], cols[k]] += data[k]``, without scipy.

        The same objective as ``QuadraticObjective(scipy.sparse.coo_array((data,
        (rows, cols)), shape=(n, n)), linear, offset)``, whose construction costs
        more than a small problem's whole search; ``Q`` is built only when read.

        Parameters
        ----------
        rows, cols : array_like of int, shape (m,)
            Entry positions, each in ``[0, n)``; duplicates add up. The three
            arrays are kept as given, without a copy.
        data : array_like of float, shape (m,)
        n : int
            Number of variables (at least one).
        linear, offset
            As for the constructor.

        Examples
        --------
        >>> obj = QuadraticObjective.from_coo([0], [1], [-2.0], 2, linear=[1.0, 0.0])
        >>> float(obj.energy([1.0, 1.0])), obj.Q.toarray().tolist()
        (-1.0, [[0.0, -2.0], [0.0, 0.0]])
        """
        n = check_count("n", n)
        rows, cols, data = as_triplets("Q", rows, cols, data, n)
        data = np.ascontiguousarray(data)
        obj = cls.__new__(cls)
        obj._Q, obj._coo = None, (rows, cols, data)
        obj._set_terms(n, linear, offset)
        obj.representation = "auto"
        return obj

    @property
    def Q(self):
        """The couplings: the array given, or a ``scipy.sparse.coo_array`` (n, n)."""
        if self._Q is None:
            rows, cols, data = self._coo
            n = self.num_variables
            self._Q = sp.coo_array((data, (rows, cols)), shape=(n, n))
        return self._Q

    def energy(self, x):
        """``x^T Q x + c^T x + offset`` for ``x`` of shape (n,) or (k, n)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1] != self.num_variables:
            raise ValueError(f"x must have {self.num_variables} variables, got shape {x.shape}")
        if self._coo is not None:
            # Straight from the triplets, in blocks of points of bounded memory.
            rows, cols, data = self._coo
            points = x.reshape(-1, self.num_variables)
            quadratic = np.empty(points.shape[0])
            step = max(1, _GATHER_ENTRIES // max(data.shape[0], 1))
            for k in range(0, points.shape[0], step):
                block = points[k:k + step]
                quadratic[k:k + step] = (block[:, rows] * block[:, cols]) @ data
            quadratic = quadratic.reshape(x.shape[:-1])
        elif sp.issparse(self.Q):
            # Q @ x for all points at once: memory of x's size, none of Q's per point.
            points = x.reshape(-1, self.num_variables)
            products = np.asarray(self.Q @ points.T)
            quadratic = np.einsum("kn,nk->k", points, products).reshape(x.shape[:-1])
        else:
            quadratic = np.sum((x @ self.Q) * x, axis=-1)
        return quadratic + x @ self.linear + self.offset

    def _triplets(self):
        """``Q``'s nonzero entries as COO triplets (indices int32 or int64; duplicates allowed)."""
        if self._coo is not None:
            return self._coo
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
