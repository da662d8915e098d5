"""Tour objectives in the successor encoding: variable ``a`` is the city after ``a``.

Every variable's domain is the set of cities (a value index *is* a city), and
an assignment is the successor array ``succ`` of one closed tour. The per-read
cache row holds, as the bits of int64 values (``cache.view(np.int64)``), the
tour as an array (``tour[p]``, the city at position ``p``) and its inverse
(``pos[c]``), so that the move below is carried out in O(segment).

"Set succ(a) := c" is carried out as the best of the moves that make ``(a, c)``
a tour edge, all O(1) to evaluate (``best_move``):

* the two 2-opt moves (remove ``(a, b)`` and ``(c, d)``, add ``(a, c)`` and
  ``(b, d)``, with ``b, d`` the successors, or the predecessors, of ``a, c``),
  applied by reversing the shorter side of the tour;
* the Or-opt moves: the segment of 1-3 cities that starts or ends at ``a``
  moved next to ``c``, on either side of ``c`` (so in either orientation),
  applied by shifting the shorter stretch of tour between its old and new place.

Distances are symmetric. They come from the (n, n) matrix, or, when that is
empty, from the coordinates under a TSPLIB metric (:func:`dist`, the same
floating-point operations as ``combopt.tsp.tsplib.coordinate_distances``), so
an instance of thousands of cities needs no matrix. Each variable's candidate
values are a row of ``candidates`` (nearest neighbours, say); every other value
gets the delta ``+inf`` (not a move), as does ``pred(a)`` (already a
neighbour: the tour read backwards) and ``a`` itself. Because the shorter side
is reversed, after a 2-opt ``c`` is ``a``'s successor *or* its predecessor: the
same undirected tour, read in one direction or the other.
"""

from collections import namedtuple

import numpy as np
from numba import njit
from numba.extending import overload

from combopt._kernels.protocol import is_kind, obj_apply, obj_deltas, obj_init

#: ``distances``: (n, n) float64, or (0, 0) to compute from ``coordinates`` (n, 2) float64
#: under ``metric`` (one of :data:`METRICS`); ``candidates``: (n, K) int64, row ``a``
#: the cities whose moves are evaluated for variable ``a`` (distinct, none equal to ``a``).
SuccessorProblem = namedtuple(
    "SuccessorProblem", ["distances", "coordinates", "metric", "candidates"]
)

#: Metric codes: 0 reads the matrix; the others are TSPLIB edge weight types.
METRICS = {"MATRIX": 0, "EUC_2D": 1, "CEIL_2D": 2, "ATT": 3, "GEO": 4, "MAN_2D": 5, "MAX_2D": 6}

#: Move codes of :func:`best_move`: 0 none, 1-2 the 2-opt moves, 3-14 the Or-opt ones.
NUM_MOVES = 15


@njit(cache=True, inline="always")
def _nint(x):
    return np.floor(x + 0.5)


@njit(cache=True, inline="always")
def _geo_radians(c):
    deg = np.trunc(c)
    return 3.141592 * (deg + 5.0 * (c - deg) / 3.0) / 180.0


@njit(cache=True, inline="always")
def dist(p, a, b):
    """Distance from city ``a`` to city ``b``: the matrix entry, or TSPLIB's formula."""
    if p.metric == 0:
        return p.distances[a, b]
    if a == b:
        return 0.0
    xy = p.coordinates
    if p.metric == 4:  # GEO: latitude, longitude in DDD.MM
        lat_a, lon_a = _geo_radians(xy[a, 0]), _geo_radians(xy[a, 1])
        lat_b, lon_b = _geo_radians(xy[b, 0]), _geo_radians(xy[b, 1])
        q1 = np.cos(lon_a - lon_b)
        q2 = np.cos(lat_a - lat_b)
        q3 = np.cos(lat_a + lat_b)
        arg = min(1.0, max(-1.0, 0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3)))
        return np.floor(6378.388 * np.arccos(arg) + 1.0)
    dx = xy[a, 0] - xy[b, 0]
    dy = xy[a, 1] - xy[b, 1]
    if p.metric == 1:
        return _nint(np.sqrt(dx * dx + dy * dy))
    if p.metric == 2:
        return np.ceil(np.sqrt(dx * dx + dy * dy))
    if p.metric == 3:
        r = np.sqrt((dx * dx + dy * dy) / 10.0)
        t = _nint(r)
        return t + 1.0 if t < r else t
    if p.metric == 5:
        return _nint(abs(dx) + abs(dy))
    return max(_nint(abs(dx)), _nint(abs(dy)))


@njit(cache=True)
def edge_lengths(p, a, b):
    """``dist(p, a[t], b[t])`` for every t (int64 arrays of equal length)."""
    out = np.empty(a.shape[0], dtype=np.float64)
    for t in range(a.shape[0]):
        out[t] = dist(p, a[t], b[t])
    return out


@njit(cache=True)
def nearest_rows(p, k):
    """The ``k`` nearest other cities of every city, nearest first, ties by index (int64, (n, k)).

    One row of distances at a time, so no (n, n) matrix is held.
    """
    n = max(p.distances.shape[0], p.coordinates.shape[0])
    out = np.empty((n, k), dtype=np.int64)
    row = np.empty(n, dtype=np.float64)
    for a in range(n):
        for b in range(n):
            row[b] = dist(p, a, b)
        row[a] = np.inf
        out[a] = np.argsort(row, kind="mergesort")[:k]
    return out


@njit(cache=True, inline="always")
def succ_of(tour, pos, n, c):
    q = pos[c] + 1
    return tour[q if q < n else 0]


@njit(cache=True, inline="always")
def pred_of(tour, pos, n, c):
    q = pos[c] - 1
    return tour[q if q >= 0 else n - 1]


@njit(cache=True, inline="always")
def _offset(pos, n, start, c):
    """Positions from city ``start`` forward to city ``c`` (0 when equal)."""
    k = pos[c] - pos[start]
    return k if k >= 0 else k + n


@njit(cache=True)
def refresh(tour, pos, succ, n, first, count):
    """Set ``pos`` and ``succ`` of the cities at positions ``first..first+count-1`` (cyclic)."""
    for t in range(count):
        q = (first + t) % n
        c = tour[q]
        pos[c] = q
        succ[c] = tour[q + 1 if q + 1 < n else 0]


@njit(cache=True)
def reverse_path(tour, pos, succ, n, i, j):
    """Reverse the cities at positions ``i..j`` (forward, cyclic), or the other side if shorter.

    Both give the same undirected tour; ``succ`` is brought up to date.
    Returns ``(first, count)``: the positions whose city or successor changed.
    """
    length = (j - i) % n + 1
    if 2 * length > n:
        i, j, length = (j + 1) % n, (i - 1) % n, n - length
    for t in range(length // 2):
        u = (i + t) % n
        v = (j - t) % n
        tour[u], tour[v] = tour[v], tour[u]
    refresh(tour, pos, succ, n, (i - 1) % n, length + 1)
    return (i - 1) % n, length + 1


@njit(cache=True)
def move_segment(tour, pos, succ, n, s, length, x, rev):
    """Move the ``length`` cities from city ``s`` forward to between ``x`` and its successor.

    ``rev`` reverses the segment's order. ``x`` and its successor are outside
    the segment, and ``x`` is not the segment's predecessor. The shorter of
    the two stretches between the old and the new place is shifted.
    """
    i = pos[s]
    s0 = tour[i]
    s1 = tour[(i + 1) % n]
    s2 = tour[(i + 2) % n]
    g1 = (pos[x] - (i + length)) % n + 1  # cities from the segment's successor to x
    g2 = n - length - g1  # cities from x's successor to the segment's predecessor
    if g1 <= g2:
        for t in range(g1):
            tour[(i + t) % n] = tour[(i + length + t) % n]
        start = (i + g1) % n
        refresh_from, count = (i - 1) % n, g1 + length + 1
    else:
        py = (i - g2) % n
        for t in range(g2 - 1, -1, -1):
            tour[(py + length + t) % n] = tour[(py + t) % n]
        start = py
        refresh_from, count = (py - 1) % n, g2 + length + 1
    for t in range(length):
        k = length - 1 - t if rev else t
        tour[(start + t) % n] = s0 if k == 0 else (s1 if k == 1 else s2)
    refresh(tour, pos, succ, n, refresh_from, count)
    return refresh_from, count


@njit(cache=True)
def or_opt_move(p, tour, pos, n, a, c, length, variant):
    """Delta of Or-opt variant ``variant`` (0-3) of a segment of ``length`` at ``a``, next to c.

    Variants: 0/1 the segment starts at ``a`` (``a`` first, forward), 2/3 it
    ends at ``a``; 0/2 put it between ``c`` and its successor, 1/3 between
    ``c``'s predecessor and ``c``, in the orientation that makes ``a`` and
    ``c`` adjacent. Returns ``(delta, s, x, rev)`` for :func:`move_segment`,
    delta ``+inf`` when the variant is not a move.
    """
    ahead = variant < 2
    if ahead:
        s = a
        e = tour[(pos[a] + length - 1) % n]
    else:
        e = tour[(pos[a] - length + 1) % n]
        s = e
    if _offset(pos, n, s, c) < length:  # c inside the segment
        return np.inf, s, a, False
    first = s  # forward: first .. last
    last = e if ahead else a
    pv = pred_of(tour, pos, n, first)
    nx = succ_of(tour, pos, n, last)
    after = variant % 2 == 0
    if after:
        x, y = c, succ_of(tour, pos, n, c)
        # a adjacent to c: forward order when a is first, reversed when a is last
        rev = not ahead
    else:
        x, y = pred_of(tour, pos, n, c), c
        rev = ahead
    if x == pv or y == first or _offset(pos, n, s, x) < length or _offset(pos, n, s, y) < length:
        return np.inf, s, x, rev
    removed = dist(p, pv, first) + dist(p, last, nx) + dist(p, x, y)
    if rev:
        added = dist(p, pv, nx) + dist(p, x, last) + dist(p, first, y)
    else:
        added = dist(p, pv, nx) + dist(p, x, first) + dist(p, last, y)
    return added - removed, s, x, rev


@njit(cache=True)
def move_delta(p, tour, pos, n, a, c, code):
    """Delta of move ``code`` (1..14) that makes ``(a, c)`` an edge; ``+inf`` if not a move."""
    if code <= 2:
        if code == 1:
            b, d = succ_of(tour, pos, n, a), succ_of(tour, pos, n, c)
        else:
            b, d = pred_of(tour, pos, n, a), pred_of(tour, pos, n, c)
        if c in (a, b) or d == a:
            return np.inf
        return dist(p, a, c) + dist(p, b, d) - dist(p, a, b) - dist(p, c, d)
    length = (code - 3) // 4 + 1
    variant = (code - 3) % 4
    if length > n - 4 or (length == 1 and variant >= 2):
        return np.inf  # too few cities; a single city both starts and ends at a
    delta, _, _, _ = or_opt_move(p, tour, pos, n, a, c, length, variant)
    return delta


@njit(cache=True)
def best_move(p, tour, pos, n, a, c):
    """``(delta, code)`` of the best move making ``(a, c)`` an edge (code 0: none, delta inf).

    Ties keep the lowest code, so 2-opt before Or-opt.
    """
    best = np.inf
    code = 0
    for k in range(1, NUM_MOVES):
        d = move_delta(p, tour, pos, n, a, c, k)
        if d < best:
            best = d
            code = k
    return best, code


@njit(cache=True)
def apply_move(p, tour, pos, succ, n, a, c, code):
    """Carry out move ``code`` (from :func:`best_move`) for ``(a, c)``; code 0 does nothing.

    Returns ``(first, count)``: the positions whose city or successor changed.
    """
    if code == 0:
        return 0, 0
    if code == 1:  # a -> b ... c -> d: reverse b..c
        return reverse_path(tour, pos, succ, n, (pos[a] + 1) % n, pos[c])
    if code == 2:  # b -> a ... d -> c: reverse a..d
        return reverse_path(tour, pos, succ, n, pos[a], (pos[c] - 1) % n)
    length = (code - 3) // 4 + 1
    _, s, x, rev = or_opt_move(p, tour, pos, n, a, c, length, (code - 3) % 4)
    return move_segment(tour, pos, succ, n, s, length, x, rev)


@njit(cache=True)
def tour_from_successors(succ, tour, pos):
    """Fill ``tour`` (starting at city 0) and ``pos`` from the successor array."""
    c = 0
    for q in range(succ.shape[0]):
        tour[q] = c
        pos[c] = q
        c = succ[c]


@njit(cache=True)
def successor_length(p, succ):
    """Length of the tour whose successor array is ``succ``."""
    total = 0.0
    for a in range(succ.shape[0]):
        total += dist(p, a, succ[a])
    return total


@njit(cache=True, inline="always")
def tour_views(cache, n):
    """The ``tour`` and ``pos`` arrays stored in a cache row's bits."""
    ints = cache.view(np.int64)
    return ints[:n], ints[n:2 * n]


@overload(obj_init, jit_options={"cache": True})
def _init_successor(problem, values, offsets, x_idx, cache):
    if is_kind(problem, SuccessorProblem):

        def impl(problem, values, offsets, x_idx, cache):
            tour, pos = tour_views(cache, x_idx.shape[0])
            tour_from_successors(x_idx, tour, pos)
            return successor_length(problem, x_idx)

        return impl
    return None


@overload(obj_deltas, inline="always", jit_options={"cache": True})
def _deltas_successor(problem, values, offsets, x_idx, cache, i, out):
    if is_kind(problem, SuccessorProblem):

        def impl(problem, values, offsets, x_idx, cache, i, out):
            n = x_idx.shape[0]
            tour, pos = tour_views(cache, n)
            out[:n] = np.inf
            cand = problem.candidates[i]
            for t in range(cand.shape[0]):
                c = cand[t]
                delta, _ = best_move(problem, tour, pos, n, i, c)
                out[c] = delta
            out[pred_of(tour, pos, n, i)] = np.inf
            out[x_idx[i]] = 0.0

        return impl
    return None


@overload(obj_apply, inline="always", jit_options={"cache": True})
def _apply_successor(problem, values, offsets, x_idx, cache, i, k):
    if is_kind(problem, SuccessorProblem):

        def impl(problem, values, offsets, x_idx, cache, i, k):
            n = x_idx.shape[0]
            tour, pos = tour_views(cache, n)
            if k == x_idx[i] or k == pred_of(tour, pos, n, i):
                return
            _, code = best_move(problem, tour, pos, n, i, k)
            apply_move(problem, tour, pos, x_idx, n, i, k, code)

        return impl
    return None
