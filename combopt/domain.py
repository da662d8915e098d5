"""Finite domains and Algorithm 1 of CoNNTrA (discretisation to the nearest value).

A :class:`Domain` is the finite set of real values each variable may take:
one set shared by every variable (``Domain([-1, 0, 1])``) or one set per
variable (``Domain.per_variable(...)``). Values are kept sorted and unique, so
"the k-th value of variable i" is well defined; the kernels work with these
indices and never with the values themselves.

:func:`discretize` is Algorithm 1 of Date et al. (ICRC 2020): every weight goes
to the nearest domain value, and a weight exactly at the midpoint of two
neighbours goes to the lower one (the paper's test
``W_pre[i] <= (omega[j] + omega[j+1]) / 2``).
:func:`discretize_scaled` is the form used for network weights, ``alpha * omega``,
with ``alpha`` chosen to minimise the squared quantisation error.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["Domain", "discretize", "discretize_scaled"]


def _clean_values(values, what: str) -> np.ndarray:
    """Return ``values`` as a sorted, unique, finite 1-D float64 array or raise."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be a sequence of real numbers ({exc})") from None
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{what} is empty: a domain needs at least one value")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} contains NaN or infinite values")
    return np.unique(arr)


@functools.cache
def _constant(cls: type, values: tuple[float, ...]) -> Domain:
    """One instance of each named domain.

    A domain is immutable (read-only values, fixed slots), and building one
    (checks, sorting) costs as much as lowering a small problem.
    """
    return cls(values)


class Domain:
    """A finite set of real values for every variable.

    Parameters
    ----------
    values : sequence of float
        The values shared by every variable. They are sorted and duplicates
        are dropped, so ``Domain([1, -1, 1]).values`` is ``[-1., 1.]``.

    Notes
    -----
    Use :meth:`per_variable` for one set per variable. A shared domain fits a
    problem of any size; a per-variable domain fits exactly ``size`` variables.

    Examples
    --------
    >>> Domain([1, 0, -1]).values
    array([-1.,  0.,  1.])
    >>> d = Domain.per_variable([[0, 1], [-2, 0, 2]])
    >>> d.size, d.values_of(1)
    (2, array([-2.,  0.,  2.]))
    >>> values, offsets = Domain.binary().lower(3)
    >>> values, offsets
    (array([0., 1., 0., 1., 0., 1.]), array([0, 2, 4, 6]))
    """

    __slots__ = ("_per_variable", "_shared")

    def __init__(self, values: Sequence[float] | np.ndarray):
        self._shared = _clean_values(values, "domain values")
        self._shared.flags.writeable = False
        self._per_variable: tuple[np.ndarray, ...] | None = None

    # -- constructors -------------------------------------------------------
    @classmethod
    def per_variable(cls, domains: Iterable[Sequence[float]]) -> Domain:
        """One finite set per variable; ``domains[i]`` is variable i's set.

        Raises
        ------
        ValueError
            If there are no variables, or any set is empty or has NaN/inf.
        """
        cleaned = []
        for i, values in enumerate(domains):
            arr = _clean_values(values, f"domain of variable {i}")
            arr.flags.writeable = False
            cleaned.append(arr)
        if not cleaned:
            raise ValueError("a per-variable domain needs at least one variable")
        domain = cls.__new__(cls)
        domain._shared = None
        domain._per_variable = tuple(cleaned)
        return domain

    @classmethod
    def binary(cls) -> Domain:
        """The QUBO domain {0, 1} (one instance: a domain is immutable)."""
        return _constant(cls, (0.0, 1.0))

    @classmethod
    def spin(cls) -> Domain:
        """The Ising domain {-1, +1} (one instance)."""
        return _constant(cls, (-1.0, 1.0))

    @classmethod
    def ternary(cls) -> Domain:
        """The paper's default weight set {-1, 0, +1} (one instance)."""
        return _constant(cls, (-1.0, 0.0, 1.0))

    # -- properties ---------------------------------------------------------
    @property
    def is_shared(self) -> bool:
        """True when one set serves every variable."""
        return self._shared is not None

    @property
    def size(self) -> int | None:
        """Number of variables of a per-variable domain; ``None`` when shared."""
        return None if self._per_variable is None else len(self._per_variable)

    @property
    def values(self) -> np.ndarray:
        """The shared set of values (raises for a per-variable domain)."""
        if self._shared is None:
            raise ValueError("a per-variable domain has no single set of values; use values_of(i)")
        return self._shared

    def values_of(self, i: int) -> np.ndarray:
        """The sorted values variable ``i`` may take."""
        if self._shared is not None:
            return self._shared
        return self._per_variable[i]

    def check_size(self, n: int) -> None:
        """Raise ``ValueError`` if this domain cannot describe ``n`` variables."""
        if self._per_variable is not None and len(self._per_variable) != n:
            raise ValueError(
                f"domain defines {len(self._per_variable)} variables but the problem has {n}"
            )

    def lower(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Flatten to kernel arrays for ``n`` variables.

        Returns
        -------
        values : ndarray of float64, shape (sum of domain sizes,)
            Variable i's sorted values are ``values[offsets[i]:offsets[i + 1]]``.
        offsets : ndarray of int64, shape (n + 1,)
        """
        self.check_size(n)
        if self._shared is not None:
            m = self._shared.size
            values = np.empty((n, m))
            values[:] = self._shared  # np.tile's checks cost more than the copy on small n
            return values.reshape(-1), np.arange(0, (n + 1) * m, m, dtype=np.int64)
        sizes = np.fromiter((d.size for d in self._per_variable), dtype=np.int64, count=n)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        return np.concatenate(self._per_variable), offsets

    def index_of(self, x: np.ndarray) -> np.ndarray:
        """Indices of the values ``x`` (shape ``(..., n)``) within each variable's set.

        Raises
        ------
        ValueError
            If any entry is not exactly one of its variable's values.
        """
        x = np.asarray(x, dtype=np.float64)
        n = x.shape[-1]
        self.check_size(n)
        if self._shared is not None:
            idx = np.searchsorted(self._shared, x)
            idx_clipped = np.minimum(idx, self._shared.size - 1)
            bad = self._shared[idx_clipped] != x
        else:
            idx = np.empty(x.shape, dtype=np.int64)
            bad = np.zeros(x.shape, dtype=bool)
            for i, dom in enumerate(self._per_variable):
                col = np.searchsorted(dom, x[..., i])
                col_clipped = np.minimum(col, dom.size - 1)
                idx[..., i] = col_clipped
                bad[..., i] = dom[col_clipped] != x[..., i]
            idx_clipped = idx
        if np.any(bad):
            where = np.argwhere(bad)[0]
            raise ValueError(
                f"value {x[tuple(where)]!r} at position {tuple(int(w) for w in where)} "
                "is not in its variable's domain"
            )
        return idx_clipped.astype(np.int64)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Domain):
            return NotImplemented
        if self.is_shared != other.is_shared:
            return False
        if self.is_shared:
            return np.array_equal(self._shared, other._shared)
        return len(self._per_variable) == len(other._per_variable) and all(
            np.array_equal(a, b) for a, b in zip(self._per_variable, other._per_variable)
        )

    __hash__ = None  # mutable-looking container semantics: not hashable

    def __repr__(self) -> str:
        if self._shared is not None:
            return f"Domain({self._shared.tolist()})"
        return f"Domain.per_variable(<{len(self._per_variable)} variables>)"


def _nearest_index(w: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index of the nearest value of sorted ``values``; midpoints go to the lower one."""
    midpoints = (values[:-1] + values[1:]) / 2.0
    # side="left": w == midpoint[j] gives j, i.e. the lower neighbour (Algorithm 1's "<=").
    return np.searchsorted(midpoints, w, side="left")


def discretize(w, domain: Domain | Sequence[float]) -> np.ndarray:
    """Algorithm 1: map every weight to the nearest value of its domain.

    Parameters
    ----------
    w : array_like of float, shape (n,) or (k, n)
        Pretrained (continuous) weights; the last axis indexes variables.
    domain : Domain or sequence of float
        The finite set(s). A per-variable domain must have ``n`` variables.

    Returns
    -------
    ndarray of float64, same shape as ``w``
        Every entry is a value of its variable's domain. A weight exactly
        half-way between two neighbouring values takes the lower one.

    Examples
    --------
    >>> discretize([-0.7, -0.5, 0.2, 0.5, 3.0], [-1, 0, 1])
    array([-1., -1.,  0.,  0.,  1.])
    """
    if not isinstance(domain, Domain):
        domain = Domain(domain)
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 0:
        raise ValueError("w must have at least one dimension (the variables)")
    if not np.all(np.isfinite(w)):
        raise ValueError("w contains NaN or infinite values")
    if domain.is_shared:
        return domain.values[_nearest_index(w, domain.values)]
    domain.check_size(w.shape[-1])
    out = np.empty_like(w)
    for i in range(w.shape[-1]):
        values = domain.values_of(i)
        out[..., i] = values[_nearest_index(w[..., i], values)]
    return out


def discretize_scaled(w, omega: Sequence[float], *, rule: str = "l2") -> tuple[float, np.ndarray]:
    """Discretise weights to ``alpha * omega`` with a fitted scale ``alpha > 0``.

    Parameters
    ----------
    w : array_like of float
        Pretrained weights of one layer (any shape).
    omega : sequence of float
        The finite set, e.g. ``[-1, 0, 1]``; it must contain a nonzero value.
    rule : {"l2", "max"}
        How ``alpha`` is chosen:

        * ``"l2"`` (default): the scale minimising the squared quantisation
          error ``||w - alpha * Q(w / alpha)||^2``. The error is piecewise
          smooth in ``alpha``, so we evaluate it on 64 log-spaced candidates in
          ``[max|w| / max|omega| / 64, max|w| / max|omega|]`` and refine the best
          by Lloyd iterations (``alpha <- <w, q> / <q, q>`` with ``q`` the
          current codes, then re-discretise) until the codes stop changing.
        * ``"max"``: ``alpha = max|w| / max|omega|``, so the largest weight maps
          onto the largest value.

    Returns
    -------
    alpha : float
        The scale (1.0 when every weight is zero).
    values : ndarray of float64, same shape as ``w``
        ``alpha * omega_k`` for each weight's code ``omega_k`` (Algorithm 1 on
        ``w / alpha``).

    Examples
    --------
    >>> alpha, q = discretize_scaled([0.9, -1.1, 0.05, 1.0], [-1, 0, 1])
    >>> round(alpha, 3), (q / alpha).tolist()
    (1.0, [1.0, -1.0, 0.0, 1.0])
    """
    omega_arr = _clean_values(omega, "omega")
    w = np.asarray(w, dtype=np.float64)
    if not np.all(np.isfinite(w)):
        raise ValueError("w contains NaN or infinite values")
    top = float(np.max(np.abs(omega_arr)))
    if top == 0.0:
        raise ValueError("omega must contain a nonzero value to be scaled")
    wmax = float(np.max(np.abs(w))) if w.size else 0.0
    if wmax == 0.0:
        return 1.0, omega_arr[_nearest_index(w, omega_arr)]
    alpha_max = wmax / top
    if rule == "max":
        alpha = alpha_max
    elif rule == "l2":
        flat = w.ravel()

        def error(a: float) -> float:
            q = a * omega_arr[_nearest_index(flat / a, omega_arr)]
            return float(np.sum((flat - q) ** 2))

        candidates = alpha_max * np.geomspace(1.0 / 64.0, 1.0, 64)
        alpha = float(min(candidates, key=error))
        codes = omega_arr[_nearest_index(flat / alpha, omega_arr)]
        for _ in range(100):  # Lloyd refinement; converges in a handful of steps
            norm = float(codes @ codes)
            if norm == 0.0:
                break
            refined = float(flat @ codes) / norm
            if refined <= 0.0:
                break
            new_codes = omega_arr[_nearest_index(flat / refined, omega_arr)]
            if error(refined) > error(alpha):
                break
            alpha = refined
            if np.array_equal(new_codes, codes):
                break
            codes = new_codes
    else:
        raise ValueError(f"rule must be 'l2' or 'max', got {rule!r}")
    return alpha, alpha * omega_arr[_nearest_index(w / alpha, omega_arr)]
