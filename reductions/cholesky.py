"""QUBO -> single-layer training set, through a Cholesky factor (the paper's reduction).

For ``E(z) = zᵀ A z + bᵀ z + c`` with ``A = L Lᵀ`` positive definite, the
training set ``X = sqrt(N) Lᵀ``, ``Y = -(sqrt(N) / 2) L⁻¹ b`` satisfies, for
every real ``z``::

    ||X z - Y||² / N = zᵀ A z + bᵀ z + bᵀ A⁻¹ b / 4

so ``offset = c - bᵀ A⁻¹ b / 4`` closes the identity.  ``A`` need not be
positive definite: binary points satisfy ``z_i² = z_i`` and spin points
``s_i² = 1``, so ``A + λ I`` (with ``b - λ 1``, or ``c - λ d`` for spins) has the
same objective on every point of the form.  :func:`choose_shift` picks ``λ``
so that the shifted matrix has a bounded condition number.  The full
derivation is in ``docs/reductions.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from reductions._validation import as_scalar
from reductions.forms import QUBO, as_qubo, training_loss

__all__ = ["TrainingReduction", "choose_shift", "qubo_to_training"]

#: Default bound on the 2-norm condition number of ``A + λ I`` for the automatic shift.
DEFAULT_MAX_CONDITION = 10.0
#: Relative slack on the condition-number bound before a shift is applied.
_BOUND_SLACK = 1e-9


@dataclass(frozen=True, eq=False)
class TrainingReduction:
    """A training set whose loss equals a QUBO's objective on every point of its form.

    ``||X z - Y||² / N + offset == source.energy(z)`` for every ``z`` in
    ``{0, 1}^d`` (binary) or ``{-1, +1}^d`` (spin).

    Attributes
    ----------
    X : ndarray, shape (N, d)
    Y : ndarray, shape (N,)
    offset : float
        The constant that the loss does not carry (the paper's ``c'``).
    shift : float
        The diagonal shift ``λ`` applied before factorising.
    condition_number : float
        2-norm condition number of ``A + λ I`` (``cond(L)`` is its square root).
    source : QUBO
        The symmetrised QUBO that was reduced.
    """

    X: np.ndarray
    Y: np.ndarray
    offset: float
    shift: float
    condition_number: float
    source: QUBO

    @property
    def variables(self) -> str:
        """The point set the identity holds on (``"binary"`` or ``"spin"``)."""
        return self.source.variables

    @property
    def n_samples(self) -> int:
        """Number of training samples ``N``."""
        return self.X.shape[0]

    def loss(self, z) -> float | np.ndarray:
        """Return ``||X z - Y||² / N + offset`` at ``z`` of shape ``(d,)`` or ``(k, d)``."""
        return training_loss(self.X, self.Y, z, self.offset)


def _extreme_eigenvalues(A: np.ndarray) -> tuple[float, float]:
    eig = scipy.linalg.eigvalsh(A)
    return float(eig[0]), float(eig[-1])


def choose_shift(A, linear=None, *, max_condition: float = DEFAULT_MAX_CONDITION) -> float:
    """The automatic diagonal shift ``λ >= 0`` that makes ``A + λ I`` well conditioned.

    Rule (with ``μ_min <= μ_max`` the extreme eigenvalues of the symmetrised
    ``A`` and ``κ = max_condition``): no shift when ``A`` is already positive
    definite with condition number at most ``κ``; otherwise the smallest shift
    that brings the condition number down to ``κ``::

        λ = max(0, -μ_min + δ),   δ = max(μ_max - μ_min, σ) / (κ - 1)

    where ``σ = max(|μ_min|, |μ_max|, max|b|)`` (or 1 if all are zero).  Then
    ``cond(A + λ I) = (μ_max - μ_min + δ) / δ <= κ`` (equal to ``κ`` when the
    spread dominates, as for the bqp instances), and when a shift is applied
    the smallest eigenvalue of ``A + λ I`` is at least ``σ / (κ - 1)``, which
    keeps ``||L⁻¹ b||²`` and hence the offset within ``O(κ d σ)``.  The bare
    shift ``-μ_min`` would make ``A + λ I`` singular.

    Parameters
    ----------
    A : array_like, shape (d, d)
    linear : array_like, shape (d,), optional
    max_condition : float
        ``κ > 1``.

    Returns
    -------
    float

    Examples
    --------
    >>> choose_shift([[0.0, 1.0], [1.0, 0.0]])  # eigenvalues -1, 1
    1.222
    >>> choose_shift([[2.0, 0.0], [0.0, 1.0]])  # already cond 2
    0.0
    """
    q = as_qubo(A, linear)
    kappa = as_scalar(max_condition, "max_condition")
    if kappa <= 1.0:
        raise ValueError(f"max_condition must be greater than 1, got {kappa}")
    mu_min, mu_max = _extreme_eigenvalues(q.A)
    return _shift_from_spectrum(mu_min, mu_max, q.b, kappa)


def _shift_from_spectrum(mu_min: float, mu_max: float, b: np.ndarray, kappa: float) -> float:
    # A relative slack keeps a matrix that is already at the bound (a round trip)
    # from being shifted again by rounding noise.
    if mu_min > 0.0 and mu_max <= kappa * mu_min * (1.0 + _BOUND_SLACK):
        return 0.0
    sigma = max(abs(mu_min), abs(mu_max), float(np.max(np.abs(b), initial=0.0)))
    sigma = sigma if sigma > 0.0 else 1.0
    delta = max(mu_max - mu_min, sigma) / (kappa - 1.0)
    return max(0.0, -mu_min + delta)


def qubo_to_training(
    Q,
    linear=None,
    offset: float = 0.0,
    *,
    variables: str | None = None,
    n_samples: int | None = None,
    shift: float | str = "auto",
    max_condition: float = DEFAULT_MAX_CONDITION,
    seed: int | None = None,
) -> TrainingReduction:
    """Reduce a QUBO to a single-layer, single-output training set (squared error).

    Parameters
    ----------
    Q : array_like, shape (d, d) or QUBO
        Quadratic coefficients (symmetrised; see :func:`reductions.as_qubo`).
    linear : array_like, shape (d,), optional
    offset : float
    variables : {"binary", "spin"}, optional
        Whether the identity must hold on ``{0,1}^d`` (default) or ``{-1,+1}^d``.
    n_samples : int, optional
        ``N >= d`` (default ``d``, the paper's construction).  Extra rows: see
        ``seed``.
    shift : float or "auto"
        Diagonal shift ``λ``; ``"auto"`` uses :func:`choose_shift`.  An explicit
        shift that leaves ``A + λ I`` not positive definite is rejected.
    max_condition : float
        ``κ`` for the automatic shift.
    seed : int, optional
        With ``N > d``: ``None`` appends ``N - d`` zero rows (zero inputs, zero
        targets); an integer instead mixes the ``d`` rows into ``N`` dense rows
        with a random ``N x d`` matrix ``U`` with orthonormal columns (QR of a
        Gaussian matrix from ``numpy.random.default_rng(seed)``): ``X = sqrt(N)
        U Lᵀ``, ``Y = U y``.  Both keep ``XᵀX = N (A + λI)`` and ``XᵀY``.

    Returns
    -------
    TrainingReduction

    Raises
    ------
    ValueError
        NaN/inf, wrong shapes, ``N < d``, or a failed Cholesky (naming the shift).

    Examples
    --------
    >>> import numpy as np
    >>> Q = np.array([[-1.0, 2.0], [0.0, 1.0]])
    >>> red = qubo_to_training(Q, linear=[0.5, -3.0], offset=2.0)
    >>> z = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> np.allclose(red.loss(z), red.source.energy(z))
    True
    """
    q = as_qubo(Q, linear, offset, variables=variables)
    d = q.num_variables
    n = d if n_samples is None else n_samples
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n_samples must be an integer, got {type(n_samples).__name__}")
    if n < d:
        raise ValueError(f"n_samples must be at least the number of variables {d}, got {n}")
    n = int(n)
    kappa = as_scalar(max_condition, "max_condition")
    if kappa <= 1.0:
        raise ValueError(f"max_condition must be greater than 1, got {kappa}")
    mu_min, mu_max = _extreme_eigenvalues(q.A)
    if isinstance(shift, str):
        if shift != "auto":
            raise ValueError(f"shift must be a number or 'auto', got {shift!r}")
        lam = _shift_from_spectrum(mu_min, mu_max, q.b, kappa)
    else:
        lam = as_scalar(shift, "shift")

    shifted = q.A + lam * np.eye(d)
    try:
        L = scipy.linalg.cholesky(shifted, lower=True)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"Cholesky of A + shift*I failed for shift={lam!r}: the smallest eigenvalue of A "
            f"is {mu_min:.6g}, so the shift must exceed {-mu_min:.6g}"
        ) from None
    low = mu_min + lam
    condition = float((mu_max + lam) / low) if low > 0.0 else float("inf")
    if not np.isfinite(condition) or condition > 1e14:
        raise ValueError(
            f"A + shift*I is numerically singular for shift={lam!r} "
            f"(condition number {condition:.3g}); use shift='auto'"
        )

    # The shift's diagonal is exactly cancelled: on binary points by the linear
    # term (λ z_i² - λ z_i = 0), on spin points by the constant (λ s_i² = λ).
    if q.variables == "binary":
        b_eff, c_eff = q.b - lam, q.c
    else:
        b_eff, c_eff = q.b, q.c - lam * d
    u = scipy.linalg.solve_triangular(L, b_eff, lower=True)  # L⁻¹ b
    X = np.sqrt(n) * L.T
    Y = -0.5 * np.sqrt(n) * u
    const = c_eff - 0.25 * float(u @ u)
    if n > d:
        if seed is None:
            X = np.vstack([X, np.zeros((n - d, d))])
            Y = np.concatenate([Y, np.zeros(n - d)])
        else:
            rng = np.random.default_rng(seed)
            U, _ = np.linalg.qr(rng.standard_normal((n, d)))
            X, Y = U @ X, U @ Y
    return TrainingReduction(X, Y, float(const), float(lam), condition, q)
