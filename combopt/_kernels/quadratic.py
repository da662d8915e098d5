"""Quadratic objectives over finite domains: ``f(x) = x^T Q x + c^T x + offset``.

The kernel keeps, per read, the local fields ``h_i = sum_{j != i} S_ij x_j``
with ``S = Q + Q^T`` off the diagonal. Moving ``x_i`` from ``a`` by ``d`` then
changes the energy by ``d * (c_i + h_i + 2 Q_ii a) + Q_ii d^2``: O(1) per
candidate value, O(|domain of i|) for the whole coordinate, and the move
updates the fields of the neighbours of ``i`` only (a dense row, or a CSR row).

Over two-valued domains a flip of ``x_i`` by ``s`` changes the field of ``j``
by ``s S_ij``, hence the flip delta of ``j`` by ``step_j s S_ij``: ``obj_flip``
updates the fields and the flip deltas of all variables in the same pass over
the row (the delta of ``i`` itself changes sign).
"""

from collections import namedtuple

import numpy as np
from numba import njit
from numba.extending import overload

from combopt._kernels.protocol import FLIP_KINDS, is_kind, obj_apply, obj_deltas, obj_flip, obj_init

#: ``couplings`` is S = Q + Q^T with a zero diagonal, shape (n, n), C order.
DenseQuadratic = namedtuple("DenseQuadratic", ["couplings", "diag", "linear", "offset"])

#: S = Q + Q^T (no diagonal entries) in CSR form.
SparseQuadratic = namedtuple(
    "SparseQuadratic", ["indptr", "indices", "data", "diag", "linear", "offset"]
)


@njit(cache=True, inline="always")
def _quadratic_deltas(diag, linear, values, offsets, x_idx, fields, i, out):
    start = offsets[i]
    current = values[start + x_idx[i]]
    gradient = linear[i] + fields[i] + 2.0 * diag[i] * current
    curvature = diag[i]
    for k in range(offsets[i + 1] - start):
        step = values[start + k] - current
        out[k] = step * (gradient + curvature * step)


@njit(cache=True, inline="always")
def _quadratic_energy(diag, linear, offset, values, offsets, x_idx, fields):
    energy = offset
    for i in range(x_idx.shape[0]):
        v = values[offsets[i] + x_idx[i]]
        energy += v * (0.5 * fields[i] + diag[i] * v + linear[i])
    return energy


@njit(cache=True)
def dense_couplings(rows, cols, data, n):
    """``S = Q + Q^T`` off the diagonal, shape (n, n), and ``diag(Q)``, from ``Q``'s COO triplets.

    Duplicate triplets are summed, as a sparse matrix's conversion would.
    """
    couplings = np.zeros((n, n))
    diag = np.zeros(n)
    for t in range(rows.shape[0]):
        i, j, v = rows[t], cols[t], data[t]
        if i == j:
            diag[i] += v
        else:
            couplings[i, j] += v
            couplings[j, i] += v
    return couplings, diag


@njit(cache=True)
def coupling_levels(data, cap):
    """``(nonzero, levels)``: the nonzero entries of ``data`` (1-D) and their distinct magnitudes.

    The magnitudes are counted up to ``cap``: ``levels`` is ``cap + 1`` when
    there are more, and the scan stops there (the strategy choice asks only
    whether there are few), so on a many-valued model it costs a few entries.
    ``nonzero`` is then a count of the whole array all the same.
    """
    seen = np.empty(max(cap, 0), dtype=np.float64)
    levels = 0
    for p in range(data.shape[0]):
        a = abs(data[p])
        if a == 0.0:
            continue
        known = False
        for k in range(levels):
            if seen[k] == a:
                known = True
                break
        if not known:
            if levels == cap:
                return np.count_nonzero(data), cap + 1
            seen[levels] = a
            levels += 1
    return np.count_nonzero(data), levels


@overload(obj_init, jit_options={"cache": True})
def _init_quadratic(problem, values, offsets, x_idx, cache):
    if is_kind(problem, DenseQuadratic):

        def impl(problem, values, offsets, x_idx, cache):
            n = x_idx.shape[0]
            cache[:n] = 0.0
            for j in range(n):
                v = values[offsets[j] + x_idx[j]]
                if v != 0.0:
                    row = problem.couplings[j]
                    for t in range(n):
                        cache[t] += v * row[t]
            return _quadratic_energy(
                problem.diag, problem.linear, problem.offset, values, offsets, x_idx, cache
            )

        return impl
    if is_kind(problem, SparseQuadratic):

        def impl(problem, values, offsets, x_idx, cache):
            n = x_idx.shape[0]
            cache[:n] = 0.0
            for j in range(n):
                v = values[offsets[j] + x_idx[j]]
                if v != 0.0:
                    for p in range(problem.indptr[j], problem.indptr[j + 1]):
                        cache[problem.indices[p]] += v * problem.data[p]
            return _quadratic_energy(
                problem.diag, problem.linear, problem.offset, values, offsets, x_idx, cache
            )

        return impl
    return None


@overload(obj_deltas, inline="always", jit_options={"cache": True})
def _deltas_quadratic(problem, values, offsets, x_idx, cache, i, out):
    if is_kind(problem, DenseQuadratic) or is_kind(problem, SparseQuadratic):

        def impl(problem, values, offsets, x_idx, cache, i, out):
            _quadratic_deltas(problem.diag, problem.linear, values, offsets, x_idx, cache, i, out)

        return impl
    return None


@overload(obj_apply, inline="always", jit_options={"cache": True})
def _apply_quadratic(problem, values, offsets, x_idx, cache, i, k):
    if is_kind(problem, DenseQuadratic):

        def impl(problem, values, offsets, x_idx, cache, i, k):
            step = values[offsets[i] + k] - values[offsets[i] + x_idx[i]]
            x_idx[i] = k
            row = problem.couplings[i]
            for t in range(x_idx.shape[0]):
                cache[t] += step * row[t]

        return impl
    if is_kind(problem, SparseQuadratic):

        def impl(problem, values, offsets, x_idx, cache, i, k):
            step = values[offsets[i] + k] - values[offsets[i] + x_idx[i]]
            x_idx[i] = k
            for p in range(problem.indptr[i], problem.indptr[i + 1]):
                cache[problem.indices[p]] += step * problem.data[p]

        return impl
    return None


@overload(obj_flip, inline="always", jit_options={"cache": True})
def _flip_quadratic(problem, values, offsets, x_idx, cache, i, step, gain):
    if is_kind(problem, DenseQuadratic):

        def impl(problem, values, offsets, x_idx, cache, i, step, gain):
            s = step[i]
            x_idx[i] = 1 - x_idx[i]
            row = problem.couplings[i]
            for t in range(x_idx.shape[0]):
                change = s * row[t]
                cache[t] += change
                gain[t] += step[t] * change
            gain[i] = -gain[i]  # S_ii = 0: the loop left it unchanged
            step[i] = -s

        return impl
    if is_kind(problem, SparseQuadratic):

        def impl(problem, values, offsets, x_idx, cache, i, step, gain):
            s = step[i]
            x_idx[i] = 1 - x_idx[i]
            for p in range(problem.indptr[i], problem.indptr[i + 1]):
                t = problem.indices[p]
                change = s * problem.data[p]
                cache[t] += change
                gain[t] += step[t] * change
            gain[i] = -gain[i]
            step[i] = -s

        return impl
    return None


FLIP_KINDS.update((DenseQuadratic, SparseQuadratic))
