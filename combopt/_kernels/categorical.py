"""Categorical quadratic objectives: each variable takes one of its own cases.

Variable ``i`` has ``m_i`` cases; its value (and domain index) is the case
``x_i`` in ``0..m_i-1``. Number the cases of all variables in one flat range,
``c = case_offsets[i] + a`` for case ``a`` of variable ``i``. The energy is

    E(x) = offset + sum_i lin[c_i] + sum_{i < j} Q[c_i, c_j],   c_i = case_offsets[i] + x_i

(a DQM's biases; for graph colouring ``Q[(u, a), (v, a)] = 1`` per edge). The
couplings are stored as ``S = Q + Q^T`` in CSR form over the flat cases, with
no entry between two cases of one variable. Storing case pairs rather than a
dense ``m_i x m_j`` block per coupled pair keeps a colouring's couplings at
O(edges x colours), not O(edges x colours^2).

The cache holds, per read, the field of every case, ``f[c] = sum_j S[c, c_j]``;
the energy is ``offset + sum_i (lin[c_i] + f[c_i] / 2)``. Evaluating every case
of variable ``i`` is O(m_i); moving ``i`` from case ``a`` to ``k`` subtracts row
``(i, a)`` of ``S`` from the fields and adds row ``(i, k)``: O(degree x cases)
for dense blocks, O(degree) for a colouring.
"""

from collections import namedtuple

from numba import njit
from numba.extending import overload

from combopt._kernels.protocol import is_kind, obj_apply, obj_deltas, obj_init

#: ``case_offsets`` (n+1,) int64: variable i's cases are the flat cases
#: ``case_offsets[i]..case_offsets[i+1]-1``; ``linear`` (C,) float64, one bias
#: per flat case; ``indptr`` (C+1,), ``indices`` (nnz,) int64 and ``data``
#: (nnz,) float64: ``S = Q + Q^T`` over flat cases in CSR form; ``offset`` float.
SparseCategorical = namedtuple(
    "SparseCategorical", ["case_offsets", "linear", "indptr", "indices", "data", "offset"]
)


@njit(cache=True, inline="always")
def _add_row(problem, cache, case, sign):
    """Add ``sign * S[case, :]`` to the fields."""
    for p in range(problem.indptr[case], problem.indptr[case + 1]):
        cache[problem.indices[p]] += sign * problem.data[p]


@overload(obj_init, jit_options={"cache": True})
def _init_categorical(problem, values, offsets, x_idx, cache):
    if is_kind(problem, SparseCategorical):

        def impl(problem, values, offsets, x_idx, cache):
            n = x_idx.shape[0]
            co = problem.case_offsets
            cache[: co[n]] = 0.0
            for i in range(n):
                _add_row(problem, cache, co[i] + x_idx[i], 1.0)
            energy = problem.offset
            for i in range(n):
                c = co[i] + x_idx[i]
                energy += problem.linear[c] + 0.5 * cache[c]
            return energy

        return impl
    return None


@overload(obj_deltas, inline="always", jit_options={"cache": True})
def _deltas_categorical(problem, values, offsets, x_idx, cache, i, out):
    if is_kind(problem, SparseCategorical):

        def impl(problem, values, offsets, x_idx, cache, i, out):
            start = problem.case_offsets[i]
            m = problem.case_offsets[i + 1] - start
            here = problem.linear[start + x_idx[i]] + cache[start + x_idx[i]]
            for a in range(m):
                out[a] = problem.linear[start + a] + cache[start + a] - here
            out[x_idx[i]] = 0.0

        return impl
    return None


@overload(obj_apply, inline="always", jit_options={"cache": True})
def _apply_categorical(problem, values, offsets, x_idx, cache, i, k):
    if is_kind(problem, SparseCategorical):

        def impl(problem, values, offsets, x_idx, cache, i, k):
            old = x_idx[i]
            if old != k:
                start = problem.case_offsets[i]
                _add_row(problem, cache, start + old, -1.0)
                _add_row(problem, cache, start + k, 1.0)
                x_idx[i] = k

        return impl
    return None
