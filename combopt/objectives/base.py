"""The objective interface shared by every problem the solver can minimise."""

from __future__ import annotations

import abc

import numpy as np

from combopt._validation import as_finite_array
from combopt.domain import Domain

__all__ = ["Objective", "as_finite_array"]


class Objective(abc.ABC):
    """A function of ``num_variables`` real variables to minimise over a finite domain.

    Subclasses implement :meth:`energy` (the plain numpy reference) and
    :meth:`_lower`, which returns the kernel problem (a namedtuple registered
    in ``combopt._kernels``) and the length of the per-read cache row.
    """

    #: Number of variables.
    num_variables: int

    @abc.abstractmethod
    def energy(self, x) -> np.ndarray | float:
        """Objective value of ``x`` (shape ``(n,)``, or ``(k, n)`` for k points)."""

    @abc.abstractmethod
    def _lower(self):
        """Return ``(kernel_problem, cache_length)`` for the solver."""

    def default_domain(self) -> Domain | None:
        """The domain used when :func:`combopt.solve` is given none (``None``: required)."""
        return None

    def random_initial(self, domain: Domain, rng: np.random.Generator) -> np.ndarray:
        """A random feasible assignment: each variable uniform over its own values."""
        if domain.is_shared:
            # The draws of rng.choice(values, size=n), without its 10 us of argument checks.
            values = domain.values
            return values[rng.integers(0, values.shape[0], size=self.num_variables)]
        return np.array([rng.choice(domain.values_of(i)) for i in range(self.num_variables)])

    def validate_assignment(self, x: np.ndarray) -> None:
        """Raise ``ValueError`` if ``x`` (domain values, shape (n,)) is infeasible.

        Unconstrained objectives accept every point of the domain.
        """
        return

    def _energies(self, x) -> np.ndarray:
        """``energy`` of a batch as a 1-D float64 array."""
        return np.atleast_1d(np.asarray(self.energy(np.atleast_2d(x)), dtype=np.float64))
