"""Tour length in the successor encoding: variable ``a`` is the city after ``a``."""

from __future__ import annotations

import numpy as np

from combopt._kernels.tour import METRICS, SuccessorProblem, edge_lengths, nearest_rows
from combopt.domain import Domain
from combopt.objectives.base import Objective, as_finite_array

#: Candidate list kinds of :class:`SuccessorTourObjective` (or pass an (n, K) array).
CANDIDATE_KINDS = ("auto", "nearest", "quadrant", "all")
#: ``candidates="auto"`` evaluates every city up to this many cities, K nearest above.
ALL_CANDIDATES_MAX_N = 100


class SuccessorTourObjective(Objective):
    """Length of the closed tour in which city ``x[a]`` follows city ``a``.

    Every variable's domain is the set of cities ``{0, ..., n-1}`` and an
    assignment must be the successor array of a single tour through all of
    them. The coordinate step "try every value of variable ``a``" evaluates,
    for each candidate ``c`` of ``a``, the best move that makes ``(a, c)`` a
    tour edge: a 2-opt (the segment between reversed, the shorter side) or an
    Or-opt (1-3 cities starting or ending at ``a`` moved next to ``c``, either
    orientation). Each candidate costs O(1); values outside the candidate list
    are not moves (delta ``+inf``). See :mod:`combopt._kernels.tour`.

    Parameters
    ----------
    distances : array_like, shape (n, n), optional
        Symmetric finite travel costs, ``n >= 3``.
    coordinates : array_like, shape (n, 2), optional
        Instead of ``distances``: city coordinates, the distances computed on
        the fly under ``metric`` exactly as TSPLIB defines it (no matrix is made).
    metric : str
        ``"EUC_2D"``, ``"CEIL_2D"``, ``"ATT"``, ``"GEO"``, ``"MAN_2D"`` or
        ``"MAX_2D"`` with ``coordinates``; ignored with ``distances``.
    candidates : {"auto", "nearest", "quadrant", "all"} or array_like of int, shape (n, K)
        Which values of each variable are evaluated: the ``k`` nearest cities,
        ``k // 4`` nearest in each quadrant around the city topped up with the
        nearest (needs coordinates; for clustered instances), every city, or
        rows given by the caller (e.g. alpha-nearness). ``"auto"``: every city
        while ``n <= 100``, else the nearest.
    k : int
        Candidates per city for ``"nearest"`` and ``"quadrant"`` (at most n - 1).

    Examples
    --------
    >>> import numpy as np
    >>> pts = np.array([[0, 0], [1, 0], [2, 0], [2, 1], [1, 1], [0, 1]], float)
    >>> obj = SuccessorTourObjective(coordinates=pts * 10, metric="EUC_2D")
    >>> float(obj.energy(obj.successors([0, 2, 1, 3, 4, 5])))
    74.0
    >>> from combopt import solve
    >>> res = solve(obj, strategy="ils", seed=1, max_iterations=5)
    >>> float(res.energy), obj.tour(res.x).tolist()
    (60.0, [0, 1, 2, 3, 4, 5])
    """

    def __init__(self, distances=None, *, coordinates=None, metric: str = "EUC_2D",
                 candidates="auto", k: int = 10):
        if (distances is None) == (coordinates is None):
            raise ValueError("give either distances or coordinates")
        if distances is not None:
            d = as_finite_array("distances", distances, ndim=(2,))
            if d.shape[0] != d.shape[1]:
                raise ValueError(f"distances must be a square matrix, got shape {d.shape}")
            if not np.array_equal(d, d.T):
                raise ValueError("the successor encoding needs symmetric distances")
            self.distances = np.ascontiguousarray(d, dtype=np.float64)
            self.coordinates = np.zeros((0, 2))
            self.metric = "MATRIX"
        else:
            xy = as_finite_array("coordinates", coordinates, ndim=(2,))
            if xy.shape[1:] != (2,):
                raise ValueError(f"coordinates must have shape (n, 2), got {xy.shape}")
            if metric not in METRICS or metric == "MATRIX":
                names = sorted(set(METRICS) - {"MATRIX"})
                raise ValueError(f"metric must be one of {names}, got {metric!r}")
            self.distances = np.zeros((0, 0))
            self.coordinates = np.ascontiguousarray(xy, dtype=np.float64)
            self.metric = metric
        n = max(self.distances.shape[0], self.coordinates.shape[0])
        if n < 3:
            raise ValueError(f"the successor encoding needs at least 3 cities, got {n}")
        self.num_variables = n
        self._problem = SuccessorProblem(self.distances, self.coordinates,
                                         np.int64(METRICS[self.metric]), np.zeros((n, 0), np.int64))
        self.candidates = self._candidate_lists(candidates, k)
        self._problem = self._problem._replace(candidates=self.candidates)

    # ------------------------------------------------------------------ candidates

    def _candidate_lists(self, candidates, k) -> np.ndarray:
        n = self.num_variables
        if not isinstance(candidates, str):
            return _checked_candidates(candidates, n)
        if candidates not in CANDIDATE_KINDS:
            raise ValueError(f"candidates must be one of {CANDIDATE_KINDS} or an (n, K) array, "
                             f"got {candidates!r}")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        k = min(int(k), n - 1)
        if candidates == "all" or (candidates == "auto" and n <= ALL_CANDIDATES_MAX_N):
            return nearest_rows(self._problem, n - 1)
        if candidates == "quadrant":
            if self.metric in ("MATRIX", "GEO"):
                raise ValueError("quadrant candidates need planar coordinates "
                                 "(not GEO or a matrix)")
            return self._quadrant(k)
        return self._nearest(k)

    def _nearest(self, k: int) -> np.ndarray:
        """The ``k`` nearest cities of each city, nearest first (ties by city index)."""
        if self.metric in ("MATRIX", "GEO"):  # no planar index: one row of distances at a time
            return nearest_rows(self._problem, k)
        return self._by_distance(self._pool(k), k)

    def _pool(self, size: int) -> np.ndarray:
        """About ``size`` planar-nearest cities of each city (a k-d tree query), self excluded."""
        # scipy.spatial costs a noticeable import and only coordinate instances use it.
        from scipy.spatial import cKDTree

        n = self.num_variables
        size = min(size + 1, n)
        norm = 1 if self.metric == "MAN_2D" else (np.inf if self.metric == "MAX_2D" else 2)
        _, idx = cKDTree(self.coordinates).query(self.coordinates, k=size, p=norm)
        return np.asarray(idx, dtype=np.int64).reshape(n, size)

    def _by_distance(self, pool: np.ndarray, k: int) -> np.ndarray:
        """Each row of ``pool`` without its own city, sorted by exact distance, first ``k``."""
        n = self.num_variables
        rows = np.arange(n)[:, None]
        lengths = edge_lengths(self._problem, np.repeat(np.arange(n), pool.shape[1]),
                               pool.ravel()).reshape(pool.shape)
        lengths = np.where(pool == rows, np.inf, lengths)
        order = np.lexsort((pool, lengths), axis=1)
        return np.ascontiguousarray(np.take_along_axis(pool, order, axis=1)[:, :k])

    def _quadrant(self, k: int) -> np.ndarray:
        """``k // 4`` nearest per quadrant around each city, then the nearest others."""
        n = self.num_variables
        pool = self._by_distance(self._pool(min(n - 1, 5 * k)), min(n - 1, 5 * k))
        d = self.coordinates[pool] - self.coordinates[:, None, :]
        quadrant = (d[..., 0] >= 0).astype(int) + 2 * (d[..., 1] >= 0).astype(int)
        out = np.empty((n, k), dtype=np.int64)
        for a in range(n):
            chosen = []
            for q in range(4):
                chosen.extend(pool[a][quadrant[a] == q][: k // 4].tolist())
            rest = [c for c in pool[a].tolist() if c not in chosen]
            picked = set(chosen + rest[: k - len(chosen)])
            out[a] = [c for c in pool[a].tolist() if c in picked][:k]
        return out

    # ------------------------------------------------------------------ objective

    def successors(self, tour) -> np.ndarray:
        """The successor array (float64 domain values) of a tour given as a city order."""
        t = np.asarray(tour, dtype=np.int64)
        succ = np.empty(self.num_variables, dtype=np.float64)
        succ[t] = np.roll(t, -1)
        return succ

    def tour(self, x) -> np.ndarray:
        """The city order (starting at city 0, int64) of a successor array ``x``."""
        self.validate_assignment(np.asarray(x))
        succ = np.asarray(x).astype(np.int64)
        order = np.empty(self.num_variables, dtype=np.int64)
        c = 0
        for q in range(self.num_variables):
            order[q] = c
            c = succ[c]
        return order

    def energy(self, x):
        """Tour length of the successor array ``x`` (shape (n,) or (k, n))."""
        x = np.asarray(x)
        rows = np.atleast_2d(x)
        lengths = np.empty(rows.shape[0])
        cities = np.arange(self.num_variables)
        for r, row in enumerate(rows):
            self.validate_assignment(row)
            nxt = row.astype(np.int64)
            if self.metric == "MATRIX":
                lengths[r] = self.distances[cities, nxt].sum()
            else:
                lengths[r] = edge_lengths(self._problem, cities, nxt).sum()
        return lengths if x.ndim == 2 else lengths[0]

    def default_domain(self) -> Domain:
        """``Domain(range(n))``: a city's successor may be any city."""
        return Domain(np.arange(self.num_variables))

    def random_initial(self, domain: Domain, rng: np.random.Generator) -> np.ndarray:
        """The successor array of a uniform random tour."""
        n = self.num_variables
        if not (domain.is_shared and np.array_equal(domain.values, np.arange(n))):
            raise ValueError(
                f"a SuccessorTourObjective needs the domain of cities 0..{n - 1} (default_domain())"
            )
        return self.successors(rng.permutation(n))

    def validate_assignment(self, x: np.ndarray) -> None:
        """Raise ``ValueError`` unless ``x`` is the successor array of one tour."""
        n = self.num_variables
        x = np.asarray(x)
        if x.shape != (n,) or not np.array_equal(np.sort(x), np.arange(n)):
            raise ValueError(f"a successor assignment must be a permutation of 0..{n - 1}")
        succ = x.astype(np.int64)
        c, steps = succ[0], 1
        while c != 0 and steps <= n:
            c, steps = succ[c], steps + 1
        if steps != n:
            raise ValueError("a successor assignment must form a single tour through every city")

    def _lower(self):
        return self._problem, 2 * self.num_variables


def _checked_candidates(candidates, n: int) -> np.ndarray:
    """An (n, K) int64 array of candidate rows, each distinct cities other than its own."""
    c = np.asarray(candidates)
    if c.ndim != 2 or c.shape[0] != n or c.shape[1] < 1 or not np.issubdtype(c.dtype, np.integer):
        raise ValueError(f"candidates must be an integer array of shape ({n}, K), K >= 1, "
                         f"got shape {c.shape}")
    c = np.ascontiguousarray(c, dtype=np.int64)
    if c.min() < 0 or c.max() >= n:
        raise ValueError(f"candidates must be cities 0..{n - 1}")
    if np.any(c == np.arange(n)[:, None]):
        raise ValueError("a city cannot be its own candidate")
    ordered = np.sort(c, axis=1)
    if np.any(ordered[:, 1:] == ordered[:, :-1]):
        raise ValueError("candidate rows must list distinct cities")
    return c
