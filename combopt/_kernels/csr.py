"""The symmetric CSR couplings of a sparse quadratic objective, built in two passes.

``sparse_couplings`` turns ``Q``'s COO triplets into ``S = Q + Q^T`` off the
diagonal (rows sorted by column, repeats summed) and ``diag(Q)``, the arrays
of :class:`~combopt._kernels.quadratic.SparseQuadratic`, without the
concatenated, sorted and converted copies a scipy route makes: memory is the
output (16 bytes per stored coupling, twice per pair) plus one ``n``-sized
counter. Indices may be int32 or int64 (the output is int64).
"""

import numpy as np
from numba import njit

#: Rows up to this length are sorted by insertion (no allocation), longer ones by argsort.
_INSERTION_MAX = 32


@njit(cache=True)
def _sort_row(indices, values, start, stop):
    """Sort ``indices[start:stop]`` (and ``values`` with it) stably by index."""
    if stop - start <= _INSERTION_MAX:
        for p in range(start + 1, stop):
            j, v = indices[p], values[p]
            q = p - 1
            while q >= start and indices[q] > j:
                indices[q + 1] = indices[q]
                values[q + 1] = values[q]
                q -= 1
            indices[q + 1] = j
            values[q + 1] = v
        return
    order = np.argsort(indices[start:stop], kind="mergesort") + start
    indices[start:stop] = indices[order]
    values[start:stop] = values[order]


@njit(cache=True)
def sparse_couplings(rows, cols, data, n):
    """``(indptr, indices, values, diag)``: S = Q + Q^T off the diagonal in CSR, and diag(Q).

    Parameters
    ----------
    rows, cols : integer arrays, shape (m,)
        ``Q``'s triplets (repeats allowed), indices in ``0..n-1``.
    data : float64 array, shape (m,)
    n : int

    Returns
    -------
    indptr : int64 array, shape (n + 1,)
    indices : int64 array, shape (nnz,)
        Sorted within each row; repeats of a pair are summed in triplet order.
    values : float64 array, shape (nnz,)
    diag : float64 array, shape (n,)
        The diagonal triplets, summed.
    """
    m = rows.shape[0]
    diag = np.zeros(n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    for t in range(m):
        i, j = rows[t], cols[t]
        if i == j:
            diag[i] += data[t]
        else:
            indptr[i + 1] += 1
            indptr[j + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    fill = indptr[:n].copy()
    indices = np.empty(indptr[n], dtype=np.int64)
    values = np.empty(indptr[n], dtype=np.float64)
    for t in range(m):
        i, j = rows[t], cols[t]
        if i != j:
            indices[fill[i]] = j
            values[fill[i]] = data[t]
            fill[i] += 1
            indices[fill[j]] = i
            values[fill[j]] = data[t]
            fill[j] += 1
    # Sort every row, then sum repeats while compacting in place (out <= start always).
    out = 0
    start = 0
    for i in range(n):
        stop = indptr[i + 1]
        _sort_row(indices, values, start, stop)
        indptr[i] = out
        p = start
        while p < stop:
            j = indices[p]
            total = values[p]
            p += 1
            while p < stop and indices[p] == j:
                total += values[p]
                p += 1
            indices[out] = j
            values[out] = total
            out += 1
        start = stop
    indptr[n] = out
    if out < indices.shape[0]:
        return indptr, indices[:out].copy(), values[:out].copy(), diag
    return indptr, indices, values, diag
