"""Solve a QUBO by training a single-layer network with binary weights.

The route the paper's pipeline implies (Date et al., 2020):

1. **reduce**: ``min zᵀAz + bᵀz + c`` -> a training set ``(X, Y, offset)``
   with ``||X z - Y||² / N + offset`` equal to the objective on every binary
   point (:func:`reductions.qubo_to_training`);
2. **relax** ("pretraining"): the box-constrained least squares
   ``min ||X w - Y||²`` over ``w`` in ``[0, 1]^d`` (``[-1, 1]^d`` for spins),
   solved by :func:`scipy.optimize.lsq_linear`;
3. **discretise**: Algorithm 1 (:func:`combopt.discretize`) rounds ``w`` to the
   nearest binary value;
4. **train**: CoNNTrA (:func:`combopt.solve`) on the least-squares objective
   from that start; the trained weights are the QUBO's variables ``z``.

The shifted matrix is positive definite, so step 2 is a convex problem whose
minimiser is the convexified relaxation's; the shift rule of
:func:`reductions.choose_shift` keeps it well conditioned.

:func:`solve_qubo_via_training` is the entry point; the dimod sampler and the
CLI (``combopt reduce solve``) call it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import lsq_linear

from combopt.domain import Domain, discretize
from combopt.objectives import LeastSquaresObjective
from combopt.solver import solve
from reductions import QUBO, as_qubo, qubo_energy, qubo_to_training
from reductions._validation import VARIABLE_VALUES

__all__ = ["TrainingRouteResult", "qubo_from_bqm", "solve_qubo_via_training"]


@dataclass(frozen=True)
class TrainingRouteResult:
    """What :func:`solve_qubo_via_training` returns.

    Attributes
    ----------
    z : ndarray, shape (d,)
        Best point found (0/1, or -1/+1 in spin form).
    energy : float
        QUBO objective at ``z``, evaluated in the QUBO form ``zᵀAz + bᵀz + c``.
    training_energy : float
        The same point evaluated in the training form, ``||X z - Y||²/N + offset``.
    samples : ndarray, shape (num_reads, d)
        Every read's best point.
    energies : ndarray, shape (num_reads,)
        Their QUBO energies.
    relaxed : ndarray, shape (d,)
        The pretrained continuous weights (box-constrained least squares).
    initial : ndarray, shape (d,)
        Their discretisation by Algorithm 1 (the start of every read).
    initial_energy : float
        QUBO energy of ``initial``.
    evaluations : int
        Candidate values tried by the solver, over all reads.
    timing : dict
        Seconds for ``reduce``, ``relax``, ``discretize``, ``solve`` (the
        solver's search, compile excluded), ``compile`` and ``total``.
    seed : int
        The solver's seed.
    shift, condition_number : float
        Of the reduction (see :class:`reductions.TrainingReduction`).
    stop_reason : str
        The solver's.
    """

    z: np.ndarray
    energy: float
    training_energy: float
    samples: np.ndarray
    energies: np.ndarray
    relaxed: np.ndarray
    initial: np.ndarray
    initial_energy: float
    evaluations: int
    timing: dict = field(default_factory=dict)
    seed: int = 0
    shift: float = 0.0
    condition_number: float = 1.0
    stop_reason: str = ""


def qubo_from_bqm(bqm) -> tuple[QUBO, list]:
    """Dense :class:`reductions.QUBO` of a dimod BQM (same energy at every point).

    Returns the QUBO (binary or spin form, from ``bqm.vartype``) and the
    labels: column ``k`` is ``labels[k]``, in ``bqm.variables`` order.

    Examples
    --------
    >>> import dimod
    >>> bqm = dimod.BQM({"a": 1.0}, {("a", "b"): -2.0}, 0.5, "BINARY")
    >>> q, labels = qubo_from_bqm(bqm)
    >>> labels, float(q.energy([1, 1])) == float(bqm.energy({"a": 1, "b": 1}))
    (['a', 'b'], True)
    """
    import dimod  # slow to import; only this BQM route needs it, the array routes do not

    labels = list(bqm.variables)
    n = len(labels)
    if n == 0:
        raise ValueError("the BQM has no variables")
    linear, (rows, cols, quad), offset = bqm.to_numpy_vectors(labels)
    Q = np.zeros((n, n))
    np.add.at(Q, (rows, cols), quad)
    variables = "binary" if bqm.vartype is dimod.BINARY else "spin"
    return as_qubo(Q, linear, float(offset), variables=variables), labels


def solve_qubo_via_training(
    Q,
    linear=None,
    offset: float = 0.0,
    *,
    variables: str | None = None,
    strategy="paper",
    num_reads: int = 1,
    seed: int | None = None,
    time_limit: float | None = None,
    max_iterations: int | None = None,
    target_energy: float | None = None,
    max_condition: float = 10.0,
) -> TrainingRouteResult:
    """Minimise a QUBO through network training (reduce, relax, discretise, train).

    Parameters
    ----------
    Q : array_like, shape (d, d) or reductions.QUBO
        Quadratic coefficients of ``zᵀ Q z`` (any square matrix; symmetrised).
    linear : array_like, shape (d,), optional
    offset : float
    variables : {"binary", "spin"}, optional
        Default binary (or the form of a given QUBO).
    strategy : str or strategy instance
        The CoNNTrA strategy for step 4 (``"paper"`` is Algorithm 2).
    num_reads : int
        Independent reads, all started from the discretised relaxation (they
        differ by the solver's random choices).
    seed, time_limit, max_iterations
        Passed to :func:`combopt.solve`.
    target_energy : float, optional
        Stop once the QUBO energy reaches this value (it is translated to the
        training form by subtracting the reduction's offset).
    max_condition : float
        ``κ`` of the reduction's shift rule.

    Returns
    -------
    TrainingRouteResult

    Examples
    --------
    >>> import numpy as np
    >>> Q = np.array([[-1.0, 2.0], [0.0, -1.0]])
    >>> res = solve_qubo_via_training(Q, strategy="tabu", seed=1)
    >>> res.energy, abs(res.training_energy - res.energy) < 1e-9, res.z.tolist() in ([0, 1], [1, 0])
    (-1.0, True, True)
    """
    t0 = time.perf_counter()
    q = as_qubo(Q, linear, offset, variables=variables)
    red = qubo_to_training(q, max_condition=max_condition)
    t1 = time.perf_counter()
    lo, hi = VARIABLE_VALUES[q.variables]
    relaxed = lsq_linear(red.X, red.Y, bounds=(lo, hi), method="trf", lsq_solver="exact").x
    relaxed = np.clip(relaxed, lo, hi)
    t2 = time.perf_counter()
    domain = Domain.binary() if q.variables == "binary" else Domain.spin()
    initial = discretize(relaxed, domain)
    t3 = time.perf_counter()
    target = None if target_energy is None else float(target_energy) - red.offset
    result = solve(
        LeastSquaresObjective(red.X, red.Y),
        domain,
        strategy=strategy,
        num_reads=num_reads,
        seed=seed,
        time_limit=time_limit,
        max_iterations=max_iterations,
        target_energy=target,
        initial=initial,
    )
    samples = np.array(result.samples, dtype=np.float64)
    energies = qubo_energy(q.A, q.b, q.c, samples)
    best = int(np.argmin(energies))
    z = samples[best]
    t4 = time.perf_counter()
    timing = {
        "reduce": t1 - t0,
        "relax": t2 - t1,
        "discretize": t3 - t2,
        "solve": float(result.timing["solve"]),
        "compile": float(result.timing.get("compile", 0.0)),
        "total": t4 - t0,
    }
    return TrainingRouteResult(
        z=z,
        energy=float(energies[best]),
        training_energy=float(red.loss(z)),
        samples=samples,
        energies=energies,
        relaxed=relaxed,
        initial=initial,
        initial_energy=float(q.energy(initial)),
        evaluations=int(result.evaluations),
        timing=timing,
        seed=int(result.seed),
        shift=red.shift,
        condition_number=red.condition_number,
        stop_reason=str(result.stop_reason),
    )
