"""Alpha-nearness candidate lists and the Held-Karp lower bound (Helsgaun's LKH).

A *1-tree* is a spanning tree on all cities but a special one, plus the two
cheapest edges at the special city; every tour is a 1-tree, so the shortest
1-tree is a lower bound on the optimal tour. Adding node penalties ``pi``
to the costs, ``c(i, j) = d[i, j] + pi[i] + pi[j]``, changes every tour's
length by the same ``2 * sum(pi)`` but not the 1-trees', so
``w(pi) = L(T_pi) - 2 sum(pi)`` is a lower bound for every ``pi``; the
subgradient ascent of :func:`one_tree_ascent` (degree minus 2 as the
subgradient, Helsgaun's step-size schedule) maximises it towards the
Held-Karp bound, typically within 1% of the optimum on TSPLIB instances.

The *alpha-nearness* of an edge is how much longer the minimum 1-tree gets
when it must contain that edge (zero for the tree's own edges). Ranked by
alpha under the ascent's penalties, the 5 best candidates of each city hold
nearly every edge of an optimal tour, where the 5 nearest miss several
percent of them (``docs/tsp.md`` has the figures), so a local search keyed by
these lists loses little while looking at few moves.

The computation needs the distance matrix and O(n^2) time per 1-tree; it
refuses instances above :data:`MAX_CITIES`.

References: K. Helsgaun, "An effective implementation of the Lin-Kernighan
traveling salesman heuristic", EJOR 126 (2000) 106-130; M. Held, R. M. Karp,
Math. Programming 1 (1971) 6-25.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from combopt._kernels.onetree import alpha_matrix, alpha_nearest, min_one_tree
from combopt.tsp.sources import load_instance

__all__ = [
    "MAX_CITIES",
    "OneTreeBound",
    "alpha_candidates",
    "alpha_values",
    "held_karp_bound",
    "min_one_tree_length",
    "one_tree_ascent",
]

#: Above this, the (n, n) distance matrix and the O(n^2) 1-trees cost more
#: than a candidate list is worth (n = 5000 is 200 MB of float64).
MAX_CITIES = 5000

# Default ascent length: about 2e9 penalised-cost evaluations (a few seconds
# at n = 2392, 350 iterations), between 50 and 1000 iterations.
_WORK = 2.0e9


@dataclass(frozen=True)
class OneTreeBound:
    """The outcome of :func:`one_tree_ascent`.

    Attributes
    ----------
    bound : float
        ``w(pi)`` at the best penalties: a lower bound on every tour's length.
    pi : numpy.ndarray, shape (n,), float64
        The penalties that gave ``bound``.
    special : int
        The special node of the 1-trees.
    iterations : int
        1-trees computed.
    seconds : float
        Wall time of the ascent.
    is_tour : bool
        The best 1-tree is a tour (every degree 2), so ``bound`` is the optimum.
    """

    bound: float
    pi: np.ndarray
    special: int
    iterations: int
    seconds: float
    is_tour: bool


def _distances(source) -> np.ndarray:
    d = load_instance(source).distances
    n = d.shape[0]
    if n < 3:
        raise ValueError(f"a 1-tree needs at least 3 cities, got {n}")
    if n > MAX_CITIES:
        raise ValueError(f"alpha-nearness needs the n x n distances: n = {n} > {MAX_CITIES}; "
                         "use nearest-neighbour candidates instead")
    if not np.array_equal(d, d.T):
        raise ValueError("1-trees and alpha-nearness need symmetric distances")
    return d


class _Trees:
    """Work arrays for repeated 1-trees of one matrix."""

    def __init__(self, d: np.ndarray, special: int):
        n = d.shape[0]
        self.d, self.special = d, special
        self.parent = np.empty(n, np.int64)
        self.order = np.empty(n - 1, np.int64)
        self.ends = np.empty(2, np.int64)
        self.degree = np.empty(n, np.int64)

    def build(self, pi: np.ndarray) -> float:
        """Minimum 1-tree under ``pi``; returns ``w(pi)``, the tree stays in the arrays."""
        length = min_one_tree(self.d, pi, self.special, self.parent, self.order, self.ends,
                              self.degree)
        return length - 2.0 * float(pi.sum())


def min_one_tree_length(source, pi=None, *, special: int = 0) -> tuple[float, np.ndarray]:
    """Length of a minimum 1-tree under penalties ``pi``, and its degrees.

    Parameters
    ----------
    source : TSPInstance, array_like, str or path
        Anything :func:`~combopt.tsp.sources.load_instance` accepts (symmetric).
    pi : array_like, shape (n,), optional
        Node penalties (default zero).
    special : int
        The special node.

    Returns
    -------
    length : float
        The penalised length ``L(T_pi)`` (not ``w(pi)``).
    degree : numpy.ndarray, shape (n,), int64

    Examples
    --------
    >>> d = [[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]]
    >>> length, degree = min_one_tree_length(d)
    >>> length, degree.tolist()
    (4.0, [2, 2, 2, 2])
    """
    d = _distances(source)
    pi = np.zeros(d.shape[0]) if pi is None else np.ascontiguousarray(pi, dtype=np.float64)
    trees = _Trees(d, _special(special, d.shape[0]))
    w = trees.build(pi)
    return w + 2.0 * float(pi.sum()), trees.degree.copy()


def _special(special: int, n: int) -> int:
    if not 0 <= special < n:
        raise ValueError(f"special node must be in 0..{n - 1}, got {special}")
    return int(special)


def one_tree_ascent(source, *, iterations: int | None = None, time_limit: float | None = None,
                    seed: int = 0) -> OneTreeBound:
    """Subgradient ascent on the node penalties towards the Held-Karp bound.

    Helsgaun's schedule: ``pi += t * (0.7 v + 0.3 v_prev)`` with ``v`` the
    degrees minus 2; ``t`` doubles while the bound improves in the first
    period, then every period (initially n/2 iterations) halves both the
    step and the period. Deterministic for a given ``seed``.

    Parameters
    ----------
    source : TSPInstance, array_like, str or path
        Symmetric, 3 <= n <= :data:`MAX_CITIES`.
    iterations : int, optional
        Most 1-trees to compute (default: about 2e9 / n^2, within 50..1000).
    time_limit : float, optional
        Stop the ascent after this many seconds (checked between 1-trees).
    seed : int
        Picks the special node (any node gives a valid bound).

    Returns
    -------
    OneTreeBound

    Examples
    --------
    >>> from combopt.tsp.sources import from_matrix
    >>> import numpy as np
    >>> xy = np.random.default_rng(0).random((9, 2))
    >>> d = np.round(100 * np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1)))
    >>> from combopt.tsp import held_karp
    >>> res = one_tree_ascent(d)
    >>> bool(res.bound <= held_karp(d)[1] + 1e-9)
    True
    """
    t_start = time.perf_counter()
    d = _distances(source)
    n = d.shape[0]
    if iterations is None:
        iterations = int(min(1000, max(50, _WORK / n**2)))
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    special = int(np.random.default_rng(seed).integers(n))
    trees = _Trees(d, special)
    pi = np.zeros(n)
    w = trees.build(pi)
    best_w, best_pi = w, pi.copy()
    v = trees.degree - 2
    v_prev = v
    done = 1
    # 1% of an average 1-tree edge: large enough for the doubling phase to
    # find the scale within a few steps whatever the units of the distances.
    step = max(0.01 * (w / n), 1e-12)
    min_step = step * 1e-4
    # Helsgaun's first period is n/2; a quarter of the budget lets the halving
    # periods run their course within it (measured on pr1002: 0.9% below the
    # optimum after 1000 iterations, against 4% with periods of n/2).
    period = initial_period = max(10, min(n // 2, iterations // 4))
    initial = True
    while step > min_step and period > 0 and v.any() and done < iterations:
        p = 1
        while p <= period and v.any() and done < iterations:
            if time_limit is not None and time.perf_counter() - t_start > time_limit:
                done = iterations
                break
            pi += step * (0.7 * v + 0.3 * v_prev)
            v_prev = v
            w = trees.build(pi)
            v = trees.degree - 2
            done += 1
            if w > best_w + 1e-9 * abs(best_w):
                best_w, best_pi = w, pi.copy()
                if initial:
                    step *= 2.0
                if p == period:
                    period = min(2 * period, initial_period)
            elif initial and p > period // 2:
                initial = False
                p = 0
                step *= 0.75
            p += 1
        period //= 2
        step /= 2.0
    is_tour = not v.any() and w >= best_w
    if is_tour:
        best_w, best_pi = w, pi.copy()
    return OneTreeBound(bound=float(best_w), pi=best_pi, special=special, iterations=done,
                        seconds=time.perf_counter() - t_start, is_tour=bool(is_tour))


def held_karp_bound(source, *, iterations: int | None = None, time_limit: float | None = None,
                    seed: int = 0) -> float:
    """The Held-Karp (1-tree) lower bound on the optimal tour length.

    Parameters are those of :func:`one_tree_ascent`. For integral distances
    the tour length is integral, so ``math.ceil(bound - 1e-6)`` is a bound too.

    Examples
    --------
    >>> d = [[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]]
    >>> held_karp_bound(d)
    4.0
    """
    return one_tree_ascent(source, iterations=iterations, time_limit=time_limit,
                           seed=seed).bound


def alpha_values(source, pi=None, *, special: int = 0) -> np.ndarray:
    """The full alpha-nearness matrix under penalties ``pi`` (for inspection and small n).

    Parameters
    ----------
    source : TSPInstance, array_like, str or path
    pi : array_like, shape (n,), optional
        Node penalties (default zero: alpha of the plain minimum 1-tree).
    special : int

    Returns
    -------
    numpy.ndarray, shape (n, n), float64
        ``alpha[i, j] >= 0``, zero on the 1-tree's edges, ``inf`` on the diagonal.

    Examples
    --------
    >>> d = [[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]]
    >>> alpha_values(d).tolist()[0]
    [inf, 0.0, 1.0, 0.0]
    """
    d = _distances(source)
    pi = np.zeros(d.shape[0]) if pi is None else np.ascontiguousarray(pi, dtype=np.float64)
    trees = _Trees(d, _special(special, d.shape[0]))
    trees.build(pi)
    out = np.empty_like(d)
    alpha_matrix(d, pi, trees.parent, trees.order, trees.special, trees.ends, out)
    return out


def alpha_candidates(source, k: int = 8, *, iterations: int | None = None,
                     time_limit: float | None = None, seed: int = 0,
                     ascent: OneTreeBound | None = None) -> np.ndarray:
    """Each city's ``k`` alpha-nearest cities, best first (ties by distance, then index).

    Parameters
    ----------
    source : TSPInstance, array_like, str or path
        Symmetric, 3 <= n <= :data:`MAX_CITIES`.
    k : int
        Candidates per city, ``1 <= k <= n - 1``.
    iterations, time_limit, seed
        Passed to :func:`one_tree_ascent` (unless ``ascent`` is given).
    ascent : OneTreeBound, optional
        A finished ascent of the same instance, to reuse its penalties.

    Returns
    -------
    numpy.ndarray, shape (n, k), int32

    Examples
    --------
    >>> d = [[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]]
    >>> alpha_candidates(d, k=2).tolist()
    [[1, 3], [0, 2], [1, 3], [0, 2]]
    """
    d = _distances(source)
    n = d.shape[0]
    if not 1 <= k <= n - 1:
        raise ValueError(f"k must be in 1..{n - 1}, got {k}")
    if ascent is None:
        ascent = one_tree_ascent(d, iterations=iterations, time_limit=time_limit, seed=seed)
    elif ascent.pi.shape != (n,):
        raise ValueError(f"ascent is for {ascent.pi.shape[0]} cities, the instance has {n}")
    trees = _Trees(d, ascent.special)
    trees.build(ascent.pi)
    out = np.empty((n, k), np.int32)
    alpha_nearest(d, ascent.pi, trees.parent, trees.order, trees.special, trees.ends, out)
    return out
