"""Least squares: the single-layer linear network ``f(W) = ||X W - Y||_F^2 / N``.

``X`` is (N, d), ``W`` is (d, k) and ``Y`` is (N, k). Variable ``v = j * k + o``
is the weight ``W[j, o]`` (row-major). The cache is the residual
``R = X W - Y`` stored output-major (``cache[o * N + r] = R[r, o]``), so a
weight touches one contiguous residual column. Moving ``W[j, o]`` by ``d``
changes the loss by ``d * (2 X_j . R_o) / N + d^2 ||X_j||^2 / N``: one
O(nnz of column j) dot product per coordinate, then O(1) per candidate value;
applying the move is another O(nnz of column j).
"""

from collections import namedtuple

from numba import njit
from numba.extending import overload

from combopt._kernels.protocol import is_kind, obj_apply, obj_deltas, obj_init

#: X in CSC form (``indptr`` of length d + 1), ``targets`` is Y output-major
#: (length k * N), ``col_sqnorm[j] = ||X_j||^2``.
LeastSquares = namedtuple(
    "LeastSquares",
    ["indptr", "indices", "data", "col_sqnorm", "targets", "num_rows", "num_outputs"],
)


@njit(cache=True, inline="always")
def _column_dot(problem, cache, j, base):
    total = 0.0
    for p in range(problem.indptr[j], problem.indptr[j + 1]):
        total += problem.data[p] * cache[base + problem.indices[p]]
    return total


@overload(obj_init, jit_options={"cache": True})
def _init_lstsq(problem, values, offsets, x_idx, cache):
    if not is_kind(problem, LeastSquares):
        return None

    def impl(problem, values, offsets, x_idx, cache):
        size = problem.num_rows * problem.num_outputs
        for t in range(size):
            cache[t] = -problem.targets[t]
        k = problem.num_outputs
        for v in range(x_idx.shape[0]):
            w = values[offsets[v] + x_idx[v]]
            if w != 0.0:
                j = v // k
                base = (v % k) * problem.num_rows
                for p in range(problem.indptr[j], problem.indptr[j + 1]):
                    cache[base + problem.indices[p]] += w * problem.data[p]
        total = 0.0
        for t in range(size):
            total += cache[t] * cache[t]
        return total / problem.num_rows

    return impl


@overload(obj_deltas, inline="always", jit_options={"cache": True})
def _deltas_lstsq(problem, values, offsets, x_idx, cache, i, out):
    if not is_kind(problem, LeastSquares):
        return None

    def impl(problem, values, offsets, x_idx, cache, i, out):
        k = problem.num_outputs
        j = i // k
        inv_rows = 1.0 / problem.num_rows
        gradient = 2.0 * _column_dot(problem, cache, j, (i % k) * problem.num_rows) * inv_rows
        curvature = problem.col_sqnorm[j] * inv_rows
        start = offsets[i]
        current = values[start + x_idx[i]]
        for t in range(offsets[i + 1] - start):
            step = values[start + t] - current
            out[t] = step * (gradient + curvature * step)

    return impl


@overload(obj_apply, inline="always", jit_options={"cache": True})
def _apply_lstsq(problem, values, offsets, x_idx, cache, i, k):
    if not is_kind(problem, LeastSquares):
        return None

    def impl(problem, values, offsets, x_idx, cache, i, k):
        step = values[offsets[i] + k] - values[offsets[i] + x_idx[i]]
        x_idx[i] = k
        j = i // problem.num_outputs
        base = (i % problem.num_outputs) * problem.num_rows
        for p in range(problem.indptr[j], problem.indptr[j + 1]):
            cache[base + problem.indices[p]] += step * problem.data[p]

    return impl
