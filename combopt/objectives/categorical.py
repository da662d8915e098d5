"""Categorical quadratic objectives: every variable takes one of its own cases.

This is the native form of dimod's discrete quadratic models and of graph
colouring: the domain of variable ``i`` is its case index ``0..m_i-1``, never a
one-hot group of binaries.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from combopt._kernels.categorical import SparseCategorical
from combopt._validation import as_triplets
from combopt.domain import Domain
from combopt.objectives.base import Objective, as_finite_array


def _case_counts(num_cases) -> np.ndarray:
    counts = np.asarray(num_cases)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError("num_cases must be a non-empty sequence of case counts")
    if not np.issubdtype(counts.dtype, np.integer):
        raise TypeError(f"num_cases must hold integers, got dtype {counts.dtype}")
    empty = np.flatnonzero(counts < 1)
    if empty.size:
        raise ValueError(f"variable {int(empty[0])} has {int(counts[empty[0]])} cases (needs >= 1)")
    return counts.astype(np.int64)


class CategoricalObjective(Objective):
    """``offset + sum_i lin[i, x_i] + sum_{i<j} Q[(i, x_i), (j, x_j)]`` over cases ``x_i``.

    Parameters
    ----------
    num_cases : sequence of int, shape (n,)
        ``m_i >= 1``, the number of cases of variable ``i``. Case ``a`` of
        variable ``i`` has the flat index ``case_offsets[i] + a``, where
        ``case_offsets = [0, m_0, m_0 + m_1, ...]`` (dimod's ``case_starts``).
    linear : array_like, shape (sum(m),), optional
        One bias per flat case (zeros by default).
    quadratic : (rows, cols, data), optional
        Couplings between cases of different variables as COO triplets over
        flat case indices, each entry counted once in the energy (duplicates
        add up, either orientation). An entry between two cases of one
        variable is refused: a variable is in exactly one case.
    offset : float, optional

    Notes
    -----
    The domain is :meth:`default_domain`, ``Domain.per_variable([range(m_i)])``:
    a variable's value is its case index. Evaluating every case of a variable
    costs O(m_i), moving it O(degree x cases) (see ``combopt._kernels.categorical``).

    Examples
    --------
    Colour a triangle with 3 colours (a conflict costs 1):

    >>> import numpy as np
    >>> rows = [0, 1, 2, 0, 1, 2, 3, 4, 5]     # (u, colour) = 3 u + colour
    >>> cols = [3, 4, 5, 6, 7, 8, 6, 7, 8]
    >>> obj = CategoricalObjective([3, 3, 3], quadratic=(rows, cols, np.ones(9)))
    >>> float(obj.energy([0, 0, 1])), float(obj.energy([0, 1, 2]))
    (1.0, 0.0)
    >>> from combopt import solve
    >>> float(solve(obj, strategy="tabu", seed=0, max_iterations=5).energy)
    0.0
    """

    def __init__(self, num_cases, linear=None, quadratic=None, offset: float = 0.0):
        counts = _case_counts(num_cases)
        n = counts.shape[0]
        case_offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=case_offsets[1:])
        total = int(case_offsets[-1])
        if linear is None:
            linear = np.zeros(total)
        linear = as_finite_array("linear", linear, ndim=(1,))
        if linear.shape != (total,):
            raise ValueError(
                f"linear must have one bias per case, shape ({total},), got {linear.shape}"
            )
        rows, cols, data = self._check_quadratic(quadratic, case_offsets)
        offset = float(offset)
        if not np.isfinite(offset):
            raise ValueError("offset must be finite")
        self.num_cases = counts
        self.case_offsets = case_offsets
        self.linear = np.ascontiguousarray(linear)
        self.rows, self.cols, self.data = rows, cols, data
        self.offset = offset
        self.num_variables = n
        self._variable_of = np.repeat(np.arange(n, dtype=np.int64), counts)

    @staticmethod
    def _check_quadratic(quadratic, case_offsets):
        if quadratic is None:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy(), np.zeros(0)
        try:
            rows, cols, data = quadratic
        except (TypeError, ValueError):
            raise TypeError("quadratic must be a (rows, cols, data) triple") from None
        rows, cols, data = as_triplets("quadratic", rows, cols, data, case_offsets[-1])
        rows, cols = rows.astype(np.int64), cols.astype(np.int64)
        variable_of_row = np.searchsorted(case_offsets, rows, "right")
        same = variable_of_row == np.searchsorted(case_offsets, cols, "right")
        if np.any(same):
            t = int(np.flatnonzero(same)[0])
            raise ValueError(
                f"quadratic entry {t} couples cases {rows[t]} and {cols[t]} of one variable"
            )
        return rows, cols, data

    def default_domain(self) -> Domain:
        """``Domain.per_variable([range(m_i)])``: each variable's value is its case."""
        return Domain.per_variable([np.arange(m) for m in self.num_cases])

    def random_initial(self, domain: Domain, rng: np.random.Generator) -> np.ndarray:
        """Each variable in a uniform random case (as domain values)."""
        m = self.num_cases
        shared = (domain.is_shared and np.all(m == m[0])
                  and np.array_equal(domain.values, np.arange(m[0])))
        if not shared and domain != self.default_domain():
            raise ValueError("a CategoricalObjective needs its default_domain() (case indices)")
        return np.floor(rng.random(self.num_variables) * self.num_cases)

    def validate_assignment(self, x: np.ndarray) -> None:
        """Raise ``ValueError`` unless every ``x_i`` is a case index in ``0..m_i-1``."""
        self._case_indices(x)

    def _case_indices(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1:] != (self.num_variables,):
            raise ValueError(f"x must have {self.num_variables} variables, got shape {x.shape}")
        bad = (x != np.floor(x)) | (x < 0) | (x >= self.num_cases)
        if np.any(bad):
            where = tuple(int(w) for w in np.argwhere(bad)[0])
            raise ValueError(
                f"x{list(where)} = {float(x[where])} is not a case of variable {where[-1]} "
                f"(0..{self.num_cases[where[-1]] - 1})"
            )
        return x.astype(np.int64)

    def energy(self, x):
        """The energy of case assignments ``x``, shape (n,) or (k, n)."""
        cases = self._case_indices(x) + self.case_offsets[:-1]
        energy = self.linear[cases].sum(axis=-1) + self.offset
        if self.data.size:
            i, j = self._variable_of[self.rows], self._variable_of[self.cols]
            hit = (cases[..., i] == self.rows) & (cases[..., j] == self.cols)
            energy = energy + hit @ self.data
        return energy

    def _lower(self):
        total = int(self.case_offsets[-1])
        r, c, v = self.rows, self.cols, self.data
        # S = Q + Q^T over flat cases; the CSR conversion sums duplicates.
        S = sp.csr_array(
            sp.coo_array((np.concatenate([v, v]), (np.concatenate([r, c]), np.concatenate([c, r]))),
                         shape=(total, total))
        )
        S.sort_indices()
        problem = SparseCategorical(
            self.case_offsets, self.linear, S.indptr.astype(np.int64),
            S.indices.astype(np.int64), np.ascontiguousarray(S.data, dtype=np.float64), self.offset,
        )
        return problem, total
