"""Numeric check that a training set reproduces a QUBO's objective.

:func:`check` compares ``zᵀAz + bᵀz + c`` with ``||X z - Y||² / N + offset`` on
every point of ``{0,1}^d`` (or ``{-1,+1}^d``) when ``d <= 20`` (a Numba
Gray-code scan, :mod:`combopt._kernels.graycode`; its two passes over the 2^20
points take 0.5-1.3 s at d = 20 on two shared cores), and on random points
otherwise (plus the all-low and all-high points).

The tolerance is relative to the problem's scale, stated in the report:
``scale = Σ|A_ij| + Σ|b_i| + |c| + |offset|``, a bound on the magnitude of
both forms at any binary or spin point; the check passes when the largest
difference is at most ``rtol * scale`` and, in the exhaustive case, the two
forms have the same set of minimisers (points within the tolerance of each
form's minimum).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from combopt._kernels import graycode as gk
from combopt._validation import check_count
from reductions import TrainingReduction, as_qubo, qubo_energy, qubo_to_training, training_loss
from reductions._validation import VARIABLE_VALUES

__all__ = ["EXHAUSTIVE_LIMIT", "EXHAUSTIVE_MAX", "CheckReport", "check"]

#: Largest ``d`` checked exhaustively by default.
EXHAUSTIVE_MAX = 20
#: Largest ``d`` for which an exhaustive check may be requested (2^30 points, minutes).
EXHAUSTIVE_LIMIT = 30
#: Points per chunk of the parallel scan.
_CHUNK_BITS = 14
#: Random points evaluated per numpy batch (bounds the memory of large checks).
_BATCH = 256


@dataclass(frozen=True)
class CheckReport:
    """The outcome of :func:`check`; ``to_dict()`` gives the JSON record.

    Attributes
    ----------
    n : int
        Number of variables ``d``.
    variables : str
        ``"binary"`` or ``"spin"``.
    n_samples : int
        Rows ``N`` of the training set.
    shift, condition_number : float
        The reduction's diagonal shift ``λ`` and ``cond(A + λI)``.
    method : str
        ``"exhaustive"`` or ``"random"``.
    points_checked : int
    max_abs_error : float
        Largest ``|E_qubo(z) - E_training(z)|`` over the points.
    max_rel_error : float
        ``max_abs_error / scale``.
    scale, rtol, tolerance : float
        ``tolerance = rtol * scale``.
    argmin_equal : bool or None
        Exhaustive only: whether both forms have the same set of minimisers.
    minimum : float or None
        Exhaustive only: the QUBO's minimum value.
    argmin : list of float or None
        Exhaustive only: a minimiser of the QUBO form.
    passed : bool
    seconds : float
        Wall time of the comparison (the reduction excluded).
    """

    n: int
    variables: str
    n_samples: int
    shift: float
    condition_number: float
    method: str
    points_checked: int
    max_abs_error: float
    max_rel_error: float
    scale: float
    rtol: float
    tolerance: float
    argmin_equal: bool | None
    minimum: float | None
    argmin: list | None
    passed: bool
    seconds: float

    def to_dict(self) -> dict:
        """A JSON-serialisable dict of every field."""
        return asdict(self)


def check(
    Q,
    linear=None,
    offset: float = 0.0,
    *,
    variables: str | None = None,
    reduction: TrainingReduction | None = None,
    exhaustive: bool | None = None,
    samples: int = 1000,
    seed: int | None = 0,
    rtol: float = 1e-9,
    **reduce_options,
) -> CheckReport:
    """Check numerically that a QUBO and its training-set form agree.

    Parameters
    ----------
    Q, linear, offset, variables
        The QUBO, as for :func:`reductions.as_qubo`.
    reduction : TrainingReduction, optional
        The training set to check (its ``X``, ``Y``, ``offset``, ``shift`` and
        ``condition_number`` are used).  Default: ``qubo_to_training(Q, ...,
        **reduce_options)``.
    exhaustive : bool, optional
        Enumerate all ``2^d`` points (default when ``d <= 20``; allowed up to
        ``d = 30``) or sample random points.
    samples : int
        Random points for the sampled check (the all-low and all-high points are
        always added).
    seed : int, optional
        Seed of the random points.
    rtol : float
        Tolerance relative to the scale (see the module docstring).
    **reduce_options
        Passed to :func:`reductions.qubo_to_training`: ``n_samples``,
        ``shift``, ``max_condition`` (for mixed extra rows, build the reduction
        with its ``seed`` and pass ``reduction=``).

    Returns
    -------
    CheckReport

    Examples
    --------
    >>> import numpy as np
    >>> Q = np.random.default_rng(0).normal(size=(12, 12))
    >>> report = check(Q)
    >>> report.passed, report.method, report.points_checked, report.argmin_equal
    (True, 'exhaustive', 4096, True)
    """
    q = as_qubo(Q, linear, offset, variables=variables)
    d = q.num_variables
    if reduction is None:
        reduction = qubo_to_training(q, **reduce_options)
    elif reduce_options:
        raise ValueError("give reduction options or a reduction, not both")
    X = np.ascontiguousarray(reduction.X, dtype=np.float64)
    Y = np.ascontiguousarray(reduction.Y, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != d or Y.shape != (X.shape[0],):
        raise ValueError(f"the training set must have X of shape (N, {d}) and Y of shape (N,)")
    if exhaustive is None:
        exhaustive = d <= EXHAUSTIVE_MAX
    if exhaustive and d > EXHAUSTIVE_LIMIT:
        raise ValueError(f"an exhaustive check needs d <= {EXHAUSTIVE_LIMIT}, got d = {d}")
    if not exhaustive:
        samples = check_count("samples", samples)
    if not (np.isfinite(rtol) and rtol > 0):
        raise ValueError(f"rtol must be positive, got {rtol!r}")

    scale = float(np.abs(q.A).sum() + np.abs(q.b).sum() + abs(q.c) + abs(reduction.offset))
    scale = scale if scale > 0.0 else 1.0
    tol = rtol * scale
    lo, hi = VARIABLE_VALUES[q.variables]
    start = time.perf_counter()
    if exhaustive:
        stats = _exhaustive(q, X, Y, reduction.offset, lo, hi, tol)
    else:
        stats = _sampled(q, X, Y, reduction.offset, lo, hi, int(samples), seed)
    seconds = time.perf_counter() - start
    max_abs, points, argmin_equal, minimum, argmin = stats
    passed = bool(max_abs <= tol and argmin_equal is not False)
    return CheckReport(
        n=d,
        variables=q.variables,
        n_samples=int(X.shape[0]),
        shift=float(reduction.shift),
        condition_number=float(reduction.condition_number),
        method="exhaustive" if exhaustive else "random",
        points_checked=int(points),
        max_abs_error=float(max_abs),
        max_rel_error=float(max_abs / scale),
        scale=scale,
        rtol=float(rtol),
        tolerance=float(tol),
        argmin_equal=argmin_equal,
        minimum=minimum,
        argmin=argmin,
        passed=passed,
        seconds=seconds,
    )


def _exhaustive(q, X, Y, offset, lo, hi, tol):
    args = (q.A, q.b, float(q.c), X, Y, float(offset), float(lo), float(hi), _CHUNK_BITS)
    # Pass 1: largest difference and both minima; pass 2: compare the minimiser sets.
    first = gk.gray_scan(*args, -np.inf, -np.inf, 0.0)
    min_q = float(first[:, gk.STAT_MIN_Q].min())
    min_t = float(first[:, gk.STAT_MIN_T].min())
    second = gk.gray_scan(*args, min_q, min_t, tol)
    argmin_equal = bool(second[:, gk.STAT_MISMATCH].sum() == 0)
    row = first[int(np.argmin(first[:, gk.STAT_MIN_Q]))]
    code = int(row[gk.STAT_ARGMIN_Q])
    d = q.num_variables
    argmin = [float(hi if (code >> j) & 1 else lo) for j in range(d)]
    return float(first[:, gk.STAT_MAX_DIFF].max()), 1 << d, argmin_equal, min_q, argmin


def _sampled(q, X, Y, offset, lo, hi, samples, seed):
    d = q.num_variables
    rng = np.random.default_rng(seed)
    max_abs = 0.0
    done = 0
    total = samples + 2
    while done < total:
        k = min(_BATCH, total - done)
        pts = np.where(rng.integers(0, 2, size=(k, d)) == 1, hi, lo).astype(np.float64)
        if done == 0:
            pts[0] = lo
            pts[min(1, k - 1)] = hi
        diff = np.abs(qubo_energy(q.A, q.b, q.c, pts) - training_loss(X, Y, pts, offset))
        max_abs = max(max_abs, float(diff.max()))
        done += k
    return max_abs, total, None, None, None
