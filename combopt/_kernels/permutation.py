"""Tour objectives in the permutation encoding, and 2-opt / Or-opt polishing.

Variable ``i`` is the city at tour position ``i``; every variable's domain is
the set of cities ``0..n-1``, so a value index *is* a city. "Set position
``i`` to city ``v``" is carried out as a swap with the position ``j`` that
currently holds ``v``, so the assignment stays a permutation. The cache row
holds the inverse permutation (``cache[v]`` = position of city ``v``, stored
as float64 like every cache), which finds ``j`` in O(1); the change in tour
length of a swap touches at most four edges, so each candidate costs O(1)
and a whole coordinate O(n).

The polishing routines (:func:`two_opt`, :func:`or_opt`, :func:`polish`) are
a separate local search used by :mod:`combopt.tsp` as a documented
post-processing step; they are not part of the solver protocol.
"""

from collections import namedtuple

import numpy as np
from numba import njit
from numba.extending import overload

from combopt._kernels.protocol import is_kind, obj_apply, obj_deltas, obj_init

#: ``distances`` is the (n, n) float64 cost matrix (C order, may be asymmetric).
TourProblem = namedtuple("TourProblem", ["distances"])

# Improvements smaller than this are rounding noise, not progress; stopping
# on them keeps the polishing loops finite.
_EPS = 1e-9


@njit(cache=True, inline="always")
def _city_after_swap(tour, p, i, j):
    """City at position ``p`` once positions ``i`` and ``j`` have exchanged cities."""
    if p == i:
        return tour[j]
    if p == j:
        return tour[i]
    return tour[p]


@njit(cache=True, inline="always")
def _edge_change(d, tour, n, p, i, j):
    """New minus old cost of the tour edge leaving position ``p`` under the swap."""
    q = p + 1 if p + 1 < n else 0
    old = d[tour[p], tour[q]]
    new = d[_city_after_swap(tour, p, i, j), _city_after_swap(tour, q, i, j)]
    return new - old


@njit(cache=True)
def swap_delta(d, tour, i, j):
    """Change in the closed-tour length when positions ``i`` and ``j`` exchange cities.

    Only the edges leaving positions ``i - 1``, ``i``, ``j - 1`` and ``j`` can
    change; each is counted once, which covers adjacent positions and n <= 3.

    Parameters
    ----------
    d : numpy.ndarray, shape (n, n), float64
    tour : numpy.ndarray, shape (n,), int64
    i, j : int
        Positions.

    Returns
    -------
    float
        Exact for any (also asymmetric) ``d``.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([[0., 1, 5, 1], [1, 0, 1, 5], [5, 1, 0, 1], [1, 5, 1, 0]])
    >>> float(swap_delta(d, np.array([0, 2, 1, 3]), 1, 2))
    -8.0
    """
    n = tour.shape[0]
    if i == j:
        return 0.0
    pi = i - 1 if i > 0 else n - 1
    pj = j - 1 if j > 0 else n - 1
    total = _edge_change(d, tour, n, pi, i, j) + _edge_change(d, tour, n, i, i, j)
    if pj != pi and pj != i:
        total += _edge_change(d, tour, n, pj, i, j)
    if j != pi and j != i and j != pj:
        total += _edge_change(d, tour, n, j, i, j)
    return total


@njit(cache=True)
def closed_length(d, tour):
    """Length of the closed tour ``tour`` (int64 cities) under ``d``."""
    n = tour.shape[0]
    total = 0.0
    for p in range(n):
        total += d[tour[p], tour[p + 1 if p + 1 < n else 0]]
    return total


@overload(obj_init, jit_options={"cache": True})
def _init_tour(problem, values, offsets, x_idx, cache):
    if is_kind(problem, TourProblem):

        def impl(problem, values, offsets, x_idx, cache):
            for p in range(x_idx.shape[0]):
                cache[x_idx[p]] = p
            return closed_length(problem.distances, x_idx)

        return impl
    return None


@overload(obj_deltas, inline="always", jit_options={"cache": True})
def _deltas_tour(problem, values, offsets, x_idx, cache, i, out):
    if is_kind(problem, TourProblem):

        def impl(problem, values, offsets, x_idx, cache, i, out):
            for v in range(x_idx.shape[0]):
                out[v] = swap_delta(problem.distances, x_idx, i, np.int64(cache[v]))

        return impl
    return None


@overload(obj_apply, inline="always", jit_options={"cache": True})
def _apply_tour(problem, values, offsets, x_idx, cache, i, k):
    if is_kind(problem, TourProblem):

        def impl(problem, values, offsets, x_idx, cache, i, k):
            j = np.int64(cache[k])
            a = x_idx[i]
            x_idx[i] = k
            x_idx[j] = a
            cache[k] = i
            cache[a] = j

        return impl
    return None


# --------------------------------------------------------------------------- polishing


@njit(cache=True)
def two_opt(d, tour):
    """Improve ``tour`` in place by first-improvement 2-opt until no move helps.

    Reversing ``tour[i+1..j]`` replaces edges (a, b), (c, e) by (a, c), (b, e);
    only valid for symmetric ``d``. Returns the number of moves applied.
    """
    n = tour.shape[0]
    moves = 0
    improved = True
    while improved:
        improved = False
        for i in range(n - 2):
            a, b = tour[i], tour[i + 1]
            # j = n - 1 with i = 0 would reverse the whole tour: no change.
            last = n - 1 if i > 0 else n - 2
            for j in range(i + 2, last + 1):
                c, e = tour[j], tour[j + 1 if j + 1 < n else 0]
                if d[a, c] + d[b, e] - d[a, b] - d[c, e] < -_EPS:
                    tour[i + 1:j + 1] = tour[i + 1:j + 1][::-1].copy()
                    b = tour[i + 1]
                    moves += 1
                    improved = True
    return moves


@njit(cache=True)
def or_opt(d, tour):
    """Improve ``tour`` in place by moving segments of 1-3 cities (either orientation).

    One pass over every segment start and length; the first improving
    reinsertion of a segment is applied. Returns the number of moves applied.
    Valid for symmetric ``d``.
    """
    n = tour.shape[0]
    moves = 0
    for length in range(1, 4):
        if length > n - 3:
            break
        s = 0
        while s < n:
            # Rotate so the segment is last: rest = tour[s+L..] + tour[..s-1].
            order = np.empty(n, dtype=np.int64)
            for p in range(n):
                order[p] = tour[(s + length + p) % n]
            m = n - length
            first, last = order[m], order[n - 1]
            prev, nxt = order[m - 1], order[0]
            gain = d[prev, first] + d[last, nxt] - d[prev, nxt]
            best, best_q, best_rev = -_EPS, -1, False
            for q in range(m - 1):
                c, e = order[q], order[q + 1]
                base = d[c, e] + gain
                fwd = d[c, first] + d[last, e] - base
                rev = d[c, last] + d[first, e] - base
                if fwd < best:
                    best, best_q, best_rev = fwd, q, False
                if rev < best:
                    best, best_q, best_rev = rev, q, True
            if best_q >= 0:
                out = 0
                for p in range(best_q + 1):
                    tour[out] = order[p]
                    out += 1
                for t in range(length):
                    tour[out] = order[n - 1 - t] if best_rev else order[m + t]
                    out += 1
                for p in range(best_q + 1, m):
                    tour[out] = order[p]
                    out += 1
                moves += 1
            s += 1
    return moves


@njit(cache=True)
def polish(d, tour):
    """Alternate :func:`two_opt` and :func:`or_opt` on ``tour`` (in place) until neither helps.

    Returns the number of moves applied. Symmetric ``d`` only.
    """
    moves = 0
    while True:
        step = two_opt(d, tour) + or_opt(d, tour)
        moves += step
        if step == 0:
            return moves
