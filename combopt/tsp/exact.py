"""Exact TSP solvers for small instances: Held-Karp (n <= 15) and brute force (n <= 9).

They are oracles for tests and for reporting gaps on tiny instances, not
solvers for real sizes: Held-Karp takes O(2^n n^2) time and O(2^n n) memory.
"""

from __future__ import annotations

import itertools

import numpy as np

from combopt.tsp.sources import load_instance

__all__ = ["BRUTE_FORCE_MAX_N", "HELD_KARP_MAX_N", "brute_force", "held_karp"]

HELD_KARP_MAX_N = 15
BRUTE_FORCE_MAX_N = 9


def held_karp(source) -> tuple[np.ndarray, float]:
    """Optimal tour by the Held-Karp dynamic programme.

    ``cost[S, j]`` is the cheapest path that starts at city 0, visits the set
    ``S`` of other cities (a bit mask over cities ``1..n-1``) and ends at
    ``j in S``. Masks are processed by increasing size, vectorised over all
    masks of one size, so the Python loop runs only O(n^2) times.

    Parameters
    ----------
    source : TSPInstance, array_like of shape (n, n), ...
        Anything :func:`~combopt.tsp.sources.load_instance` accepts; ``n <= 15``.
        Asymmetric costs are fine.

    Returns
    -------
    tour : numpy.ndarray, shape (n,), int64
        Starts at city 0.
    length : float

    Examples
    --------
    >>> tour, length = held_karp([[0, 1, 9, 1], [1, 0, 1, 9], [9, 1, 0, 1], [1, 9, 1, 0]])
    >>> length
    4.0
    """
    d = load_instance(source).distances
    n = d.shape[0]
    if n > HELD_KARP_MAX_N:
        raise ValueError(f"Held-Karp is limited to n <= {HELD_KARP_MAX_N}, got {n}")
    m = n - 1
    full = (1 << m) - 1
    cost = np.full((1 << m, m), np.inf)
    parent = np.full((1 << m, m), -1, dtype=np.int64)
    bits = 1 << np.arange(m)
    for j in range(m):
        cost[bits[j], j] = d[0, j + 1]
    masks = np.arange(1 << m)
    popcount = np.array([s.bit_count() for s in range(1 << m)])
    inner = d[1:, 1:]
    for size in range(2, m + 1):
        layer = masks[popcount == size]
        for j in range(m):
            with_j = layer[(layer & bits[j]) != 0]
            prev = with_j ^ bits[j]
            # cost[prev, k] is inf for k outside prev, so the min skips them.
            cand = cost[prev] + inner[:, j][None, :]
            best = np.argmin(cand, axis=1)
            cost[with_j, j] = cand[np.arange(best.size), best]
            parent[with_j, j] = best
    closing = cost[full] + d[1:, 0]
    last = int(np.argmin(closing))
    length = float(closing[last])
    tour = [last]
    mask = full
    while parent[mask, tour[-1]] >= 0:
        j = tour[-1]
        tour.append(int(parent[mask, j]))
        mask ^= 1 << j
    tour = np.array([0] + [j + 1 for j in reversed(tour)], dtype=np.int64)
    return tour, length


def brute_force(source) -> tuple[np.ndarray, float]:
    """Optimal tour by trying all ``(n-1)!`` tours that start at city 0 (n <= 9).

    The obviously correct reference that :func:`held_karp` is tested against.

    Examples
    --------
    >>> brute_force([[0, 2, 9], [2, 0, 4], [9, 4, 0]])[1]
    15.0
    """
    d = load_instance(source).distances
    n = d.shape[0]
    if n > BRUTE_FORCE_MAX_N:
        raise ValueError(f"brute force is limited to n <= {BRUTE_FORCE_MAX_N}, got {n}")
    best_tour, best = None, np.inf
    for rest in itertools.permutations(range(1, n)):
        tour = (0, *rest)
        length = sum(d[tour[p], tour[(p + 1) % n]] for p in range(n))
        if length < best:
            best_tour, best = tour, length
    return np.array(best_tour, dtype=np.int64), float(best)
