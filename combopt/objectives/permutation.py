"""Tour length in the permutation encoding: variable i is the city at position i."""

from __future__ import annotations

import numpy as np

from combopt._kernels.permutation import TourProblem, polish
from combopt.domain import Domain
from combopt.objectives.base import Objective, as_finite_array


class TourObjective(Objective):
    """Length of the closed tour visiting city ``x[0]``, then ``x[1]``, ..., back to ``x[0]``.

    Every variable's domain is the set of cities ``{0, ..., n-1}`` and an
    assignment must be a permutation. The solver's coordinate step "try every
    value of variable i" is carried out as a swap: setting position ``i`` to
    city ``v`` exchanges it with the position now holding ``v``, so every
    assignment the search visits is a tour. Each candidate costs O(1) (at most
    four edges change), a whole coordinate O(n).

    Parameters
    ----------
    distances : array_like, shape (n, n)
        Finite travel costs, ``distances[a, b]`` for the step a -> b; asymmetric
        costs are allowed. ``n >= 2``.

    Notes
    -----
    Use the domain :meth:`default_domain` (``Domain(range(n))``), which
    :func:`combopt.solve` picks when none is given; any other domain is
    rejected. Random initial states are uniform random permutations.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([[0, 1, 5, 1], [1, 0, 1, 5], [5, 1, 0, 1], [1, 5, 1, 0]])
    >>> obj = TourObjective(d)
    >>> float(obj.energy(np.array([0, 2, 1, 3])))
    12.0
    >>> from combopt import solve
    >>> res = solve(obj, strategy="tabu", num_reads=2, seed=1, max_iterations=20)
    >>> float(res.energy)
    4.0
    """

    def __init__(self, distances):
        d = as_finite_array("distances", distances, ndim=(2,))
        if d.shape[0] != d.shape[1] or d.shape[0] < 2:
            raise ValueError(
                f"distances must be a square matrix of at least 2 cities, got shape {d.shape}"
            )
        self.distances = np.ascontiguousarray(d)
        self.num_variables = d.shape[0]

    def energy(self, x):
        """Closed-tour length of ``x`` (shape (n,) or (k, n), each row a permutation)."""
        x = np.asarray(x)
        rows = np.atleast_2d(x)
        for row in rows:
            self.validate_assignment(row)
        t = rows.astype(np.int64)
        lengths = self.distances[t, np.roll(t, -1, axis=1)].sum(axis=1)
        return lengths if x.ndim == 2 else lengths[0]

    def default_domain(self) -> Domain:
        """``Domain(range(n))``: every position may hold any city."""
        return Domain(np.arange(self.num_variables))

    def _check_domain(self, domain: Domain) -> None:
        n = self.num_variables
        if not (domain.is_shared and np.array_equal(domain.values, np.arange(n))):
            raise ValueError(
                f"a TourObjective needs the domain of cities 0..{n - 1} (default_domain())"
            )

    def random_initial(self, domain: Domain, rng: np.random.Generator) -> np.ndarray:
        """A uniform random permutation of the cities (as domain values)."""
        self._check_domain(domain)
        return rng.permutation(self.num_variables).astype(np.float64)

    def validate_assignment(self, x: np.ndarray) -> None:
        """Raise ``ValueError`` unless ``x`` is a permutation of ``0..n-1``."""
        n = self.num_variables
        x = np.asarray(x)
        if x.shape != (n,) or not np.array_equal(np.sort(x), np.arange(n)):
            raise ValueError(f"a tour assignment must be a permutation of 0..{n - 1}")

    def refine(self, tour) -> np.ndarray:
        """A copy of ``tour`` improved by 2-opt and Or-opt moves until neither helps.

        This is a post-processing step beyond the coordinate search (its moves
        reverse or relocate whole segments); it needs symmetric distances.

        Parameters
        ----------
        tour : array_like of int, shape (n,)
            A permutation of the cities.

        Returns
        -------
        numpy.ndarray of int64, shape (n,)
            A tour no longer than ``tour``.

        Examples
        --------
        >>> d = [[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]]
        >>> TourObjective(d).refine([0, 2, 1, 3]).tolist()
        [0, 1, 2, 3]
        """
        if not np.array_equal(self.distances, self.distances.T):
            raise ValueError("2-opt refinement needs symmetric distances")
        self.validate_assignment(np.asarray(tour))
        refined = np.array(tour, dtype=np.int64)
        polish(self.distances, refined)
        return refined

    def _lower(self):
        return TourProblem(self.distances), self.num_variables
