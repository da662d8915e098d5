"""Exhaustive Gray-code scan comparing a QUBO with its training-set form.

Visits every point of ``{lo, hi}^d`` in Gray-code order, so consecutive points
differ in one variable and both forms update in O(d + N):

* the QUBO keeps the field ``g = A x`` and evaluates ``E_q = x·g + b·x + c``;
* the training form keeps the residual ``r = X x - Y`` and evaluates
  ``E_t = r·r / N + offset``.

Only the fields and residuals are updated incrementally, and they are
recomputed from scratch every ``_REFRESH`` steps, so rounding drift cannot
build up over the 2^d steps.  The range of points is cut into chunks run with
``prange``; each chunk starts from a freshly computed point, and the per-chunk
results are combined in a fixed order, so the result does not depend on the
thread count.

Arrays and scalars only; the public entry point is
:func:`combopt.reduction_check.check`.
"""

import numpy as np
from numba import njit, prange

#: Steps between recomputing the field and the residual from scratch.
_REFRESH = 256

#: Columns of the per-chunk statistics row.
STAT_MAX_DIFF = 0
STAT_MIN_Q = 1
STAT_ARGMIN_Q = 2
STAT_MIN_T = 3
STAT_ARGMIN_T = 4
STAT_MISMATCH = 5
STAT_COUNT_Q = 6
STAT_COUNT_T = 7
NUM_STATS = 8


@njit(cache=True)
def _refresh(A, X, Y, x, field, resid):
    d = x.shape[0]
    field[:] = 0.0
    resid[:] = -Y
    for j in range(d):
        v = x[j]
        if v != 0.0:
            for t in range(d):
                field[t] += A[t, j] * v
            for n in range(resid.shape[0]):
                resid[n] += X[n, j] * v


@njit(cache=True)
def _scan_chunk(A, b, c, X, Y, offset, lo, hi, start, stop, min_q, min_t, tol, out):
    d = A.shape[0]
    n_rows = X.shape[0]
    x = np.empty(d)
    field = np.empty(d)
    resid = np.empty(n_rows)
    code = start ^ (start >> 1)
    for j in range(d):
        x[j] = hi if (code >> j) & 1 else lo
    out[STAT_MAX_DIFF] = 0.0
    out[STAT_MIN_Q] = np.inf
    out[STAT_MIN_T] = np.inf
    out[STAT_ARGMIN_Q] = -1.0
    out[STAT_ARGMIN_T] = -1.0
    mismatch = 0
    count_q = 0
    count_t = 0
    i = 0
    delta = 0.0
    for step in range(start, stop):
        if step != start:
            # Gray code: going from step-1 to step flips the lowest set bit of step.
            i = 0
            while not (step >> i) & 1:
                i += 1
            if x[i] == hi:
                x[i] = lo
                delta = lo - hi
            else:
                x[i] = hi
                delta = hi - lo
        if (step - start) % _REFRESH == 0:
            _refresh(A, X, Y, x, field, resid)
        else:
            for t in range(d):
                field[t] += A[t, i] * delta
            for n in range(n_rows):
                resid[n] += X[n, i] * delta
        e_q = c
        for t in range(d):
            e_q += x[t] * (field[t] + b[t])
        e_t = 0.0
        for n in range(n_rows):
            e_t += resid[n] * resid[n]
        e_t = e_t / n_rows + offset
        diff = abs(e_q - e_t)
        out[STAT_MAX_DIFF] = max(out[STAT_MAX_DIFF], diff)
        gray = step ^ (step >> 1)
        if e_q < out[STAT_MIN_Q]:
            out[STAT_MIN_Q] = e_q
            out[STAT_ARGMIN_Q] = gray
        if e_t < out[STAT_MIN_T]:
            out[STAT_MIN_T] = e_t
            out[STAT_ARGMIN_T] = gray
        in_q = e_q <= min_q + tol
        in_t = e_t <= min_t + tol
        count_q += in_q
        count_t += in_t
        mismatch += in_q != in_t
    out[STAT_MISMATCH] = mismatch
    out[STAT_COUNT_Q] = count_q
    out[STAT_COUNT_T] = count_t


@njit(cache=True, parallel=True)
def gray_scan(A, b, c, X, Y, offset, lo, hi, chunk_bits, min_q, min_t, tol):
    """Scan all ``2^d`` points; return per-chunk statistics, shape ``(chunks, NUM_STATS)``.

    ``A`` is symmetric ``(d, d)``, ``X`` is ``(N, d)``; a point's code has bit
    ``j`` set when ``x_j == hi``.  Points with energy within ``tol`` of
    ``min_q`` (QUBO) or ``min_t`` (training) count as minimisers; pass
    ``-inf`` to skip that comparison.  Chunks hold ``2^chunk_bits`` points.
    """
    d = A.shape[0]
    total = np.int64(1) << d
    size = np.int64(1) << min(chunk_bits, d)
    chunks = total // size
    stats = np.empty((chunks, NUM_STATS))
    for k in prange(chunks):
        _scan_chunk(A, b, c, X, Y, offset, lo, hi, k * size, (k + 1) * size,
                    min_q, min_t, tol, stats[k])
    return stats
