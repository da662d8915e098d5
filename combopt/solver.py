"""The public solver: validate, lower to arrays, run the kernels, wrap the result.

:func:`solve` minimises any :class:`~combopt.objectives.Objective` over a finite
:class:`~combopt.Domain` with one of the strategies of :mod:`combopt.strategies`.
It runs ``num_reads`` independent reads in parallel; each read's random stream
comes from ``SeedSequence(seed, spawn_key=(read, ...))``, so a run with a fixed
number of iterations gives the same result for any thread count and any chunking.
Target energies, stall limits and the progress callback are checked between
chunks of iterations (chunks grow until each takes ~20 ms), which only decides
*when* a run stops, never what an iteration computes. Time limits and Ctrl-C do
not wait for a chunk to end: the kernels run on worker threads and poll a stop
flag at every coordinate step (every move for tabu), which the waiting main
thread raises at the deadline, so a limit holds however long one iteration is
(the driver is :mod:`combopt._driver`).
"""

from __future__ import annotations

import functools
import math
import os
import time
import types as pytypes
from collections.abc import Callable
from dataclasses import dataclass, field

import numba
import numpy as np

from combopt._driver import (
    _CHUNK_ENTRIES,
    _STOP_INTERRUPT,
    _TRACE_ENTRIES,
    _TRACE_LIMIT,
    Progress,
    _compile,
    _new_state,
    _Runner,
    _search,
    worker_pool,
)
from combopt._kernels import interpreted
from combopt._kernels import strategies as jit_kernels
from combopt._kernels.quadratic import DenseQuadratic, SparseQuadratic, coupling_levels
from combopt._kernels.rng import random_indices
from combopt._validation import (
    check_count,
    check_optional_count,
    check_optional_real,
    check_seed,
)
from combopt.domain import Domain, discretize
from combopt.objectives import (
    CategoricalObjective,
    ConstrainedObjective,
    DenseNetObjective,
    LeastSquaresObjective,
    Objective,
    QuadraticObjective,
    SuccessorTourObjective,
    TourObjective,
)
from combopt.strategies import (
    STRATEGIES,
    Annealing,
    Auto,
    IteratedLocalSearch,
    ProblemFeatures,
    Tabu,
    resolve_strategy,
)

__all__ = ["Progress", "SolveResult", "solve"]

_POLISH_SWEEPS = 10_000
#: Initialisation and polish run on the calling thread up to this many (variables + cache) x reads.
_INLINE_SIZE = 1000
#: Most reads one call runs. Each read costs a few Python-level set-up steps (its
#: own seeded stream and starting point), so 10**6 reads of a 10-variable
#: problem spent over a minute before the first iteration; more reads are
#: better run as several calls with different seeds.
MAX_READS = 100_000
#: 8-byte arrays of n values a run holds per read (starting points and their
#: indices, current and best indices, tabu clocks, returned samples) and once
#: (the lowered domain's values and offsets, the objective's lowered vectors).
_ARRAYS_PER_READ = 6
_ARRAYS_SHARED = 6


@functools.cache
def _memory_limit() -> int:
    """Bytes a run may plan to allocate: half the machine's physical memory (8 GiB if unknown)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, OSError, ValueError):
        return 8 * 2**30


def _check_memory(n: int, num_reads: int, max_iterations: int | None) -> None:
    """Refuse, before allocating, a run whose state and trace would not fit in memory.

    The estimate counts the solver's own arrays of ``n`` values (per read and
    shared) and the trace, which :class:`_Trace` keeps within a few times
    ``_TRACE_ENTRIES`` values; an empty sparse problem of 10^8 variables, which
    took 8.8 GB, is estimated at 9.6 GB.
    """
    columns = _TRACE_LIMIT if max_iterations is None else min(max_iterations, _TRACE_LIMIT)
    state = 8 * n * (_ARRAYS_PER_READ * num_reads + _ARRAYS_SHARED)
    # The trace's two parts and their concatenation stay within a few times its cap.
    entries = num_reads * columns
    trace = 8 * (4 * min(entries, _TRACE_ENTRIES) + min(entries, _CHUNK_ENTRIES))
    limit = _memory_limit()
    if state + trace > limit:
        raise ValueError(
            f"num_reads={num_reads} reads of n={n} variables need about "
            f"{(state + trace) / 2**30:.1f} GiB (state {state / 2**30:.1f} GiB, trace "
            f"{trace / 2**30:.1f} GiB), more than the {limit / 2**30:.1f} GiB allowed "
            "(half the physical memory): lower num_reads or max_iterations"
        )


@dataclass(frozen=True)
class SolveResult:
    """The outcome of :func:`solve`; arrays are read-only.

    Attributes
    ----------
    x : ndarray, shape (n,)
        The best assignment found (domain values).
    energy : float
        Its energy, recomputed from scratch by ``objective.energy``.
    samples : ndarray, shape (num_reads, n)
        Every read's best assignment.
    energies : ndarray, shape (num_reads,)
        Their energies (recomputed).
    trace : ndarray, shape (num_reads, T)
        Each read's current energy after each recorded iteration.
    trace_iterations : ndarray of int, shape (T,)
        The iteration (1-based) of each trace column: every iteration up to
        100,000 (fewer when ``num_reads * 100,000`` would pass 2**23 values),
        then the last iteration of some chunks, thinned so that the trace
        stays within about twice that size however long the run.
    best_trace : tuple of (float, float)
        ``(seconds, best energy so far)`` each time the best over reads improved.
    evaluations : int
        Candidate values tried other than the current one, over all reads.
    iterations : int
        Iterations run by the longest-running read.
    timing : mapping of str to float
        Seconds spent in ``preprocess`` (validation, lowering, initial states),
        ``compile`` (Numba compilation or cache load, paid once per process),
        ``solve`` (the search), ``polish`` (the closing descent, or saving the
        pending bests) and ``postprocess`` (recomputing the energies).
    seed : int
        The seed used (drawn from the OS when none was given).
    strategy : str
    stop_reason : str
        One of ``"iterations"``, ``"time_limit"``, ``"target"``, ``"stall"``, ``"callback"``.
        (Ctrl-C stops every read within a step and re-raises ``KeyboardInterrupt``.)
    info : mapping
        Strategy parameters in effect (e.g. the annealing ``beta_range``).
    """

    x: np.ndarray
    energy: float
    samples: np.ndarray
    energies: np.ndarray
    trace: np.ndarray
    trace_iterations: np.ndarray
    best_trace: tuple
    evaluations: int
    iterations: int
    timing: pytypes.MappingProxyType
    seed: int
    strategy: str
    stop_reason: str
    info: pytypes.MappingProxyType = field(default_factory=lambda: pytypes.MappingProxyType({}))

    @property
    def seconds_excluding_compile(self) -> float:
        """Every phase of the call but Numba's compilation (or cache load)."""
        return sum(seconds for phase, seconds in self.timing.items() if phase != "compile")

    @property
    def evaluations_per_second(self) -> float:
        """Evaluations divided by the search time (compile time excluded)."""
        seconds = self.timing["solve"]
        return self.evaluations / seconds if seconds > 0 else math.inf


def _initial_points(objective, domain, num_reads, seed, initial, pretrained) -> np.ndarray:
    """Domain values of every read's starting point, shape (num_reads, n)."""
    n = objective.num_variables
    if initial is not None and pretrained is not None:
        raise ValueError("give either initial or pretrained, not both")
    if pretrained is not None:
        initial = discretize(pretrained, domain)  # Algorithm 1
    if initial is None:
        rows = []
        for r in range(num_reads):
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(r, 0)))
            rows.append(objective.random_initial(domain, rng))
        return np.asarray(rows, dtype=np.float64).reshape(num_reads, n)
    points = np.asarray(initial, dtype=np.float64)
    if points.ndim == 1:
        points = np.broadcast_to(points, (num_reads, points.shape[0]))
    if points.ndim != 2 or points.shape != (num_reads, n):
        raise ValueError(
            f"initial states must have shape ({n},) or ({num_reads}, {n}), got {np.shape(initial)}"
        )
    if not np.all(np.isfinite(points)):
        raise ValueError("initial states contain NaN or infinite values")
    return points


def _uniform_start(objective) -> bool:
    """The objective starts uniformly over each domain and accepts every point of it."""
    kind = type(objective)
    return (
        kind.random_initial is Objective.random_initial
        and kind.validate_assignment is Objective.validate_assignment
    )


def problem_features(problem, offsets: np.ndarray, max_levels: int) -> ProblemFeatures:
    """Measure what :class:`~combopt.strategies.Auto` chooses by, on a lowered problem.

    Coupling magnitudes are counted up to ``max_levels`` (``max_levels + 1``
    means more), which is all the choice asks and stops the scan early.
    """
    sizes = offsets[1:] - offsets[:-1]
    n = sizes.shape[0]
    degree, levels = math.nan, 0
    if isinstance(problem, (SparseQuadratic, DenseQuadratic)):
        data = problem.data if isinstance(problem, SparseQuadratic) else problem.couplings.ravel()
        nonzero, levels = coupling_levels(data, max_levels)
        degree = nonzero / max(n, 1)
    return ProblemFeatures(
        kind=type(problem).__name__ if isinstance(problem, tuple) else "python",
        num_variables=int(n),
        max_domain=int(sizes.max(initial=0)),
        two_valued=bool(n and np.all(sizes == 2)),
        mean_degree=float(degree),
        weight_levels=int(levels),
    )


def _read_only(*arrays):
    for arr in arrays:
        arr.flags.writeable = False


def solve(
    objective: Objective,
    domain: Domain | None = None,
    *,
    strategy="auto",
    num_reads: int = 1,
    max_iterations: int | None = None,
    time_limit: float | None = None,
    target_energy: float | None = None,
    max_stall: int | None = None,
    initial=None,
    pretrained=None,
    seed: int | None = None,
    polish: bool = True,
    callback: Callable[[Progress], bool | None] | None = None,
) -> SolveResult:
    """Minimise ``objective`` over ``domain`` by finite-domain coordinate search.

    Parameters
    ----------
    objective : Objective
        What to minimise (:class:`~combopt.objectives.QuadraticObjective`,
        :class:`~combopt.objectives.LeastSquaresObjective`,
        :class:`~combopt.objectives.CallableObjective`, ...).
    domain : Domain, optional
        Values each variable may take; defaults to the objective's own domain
        if it has one.
    strategy : str or strategy instance
        A name of :data:`combopt.strategies.STRATEGIES` (``"auto"``, the
        default, chooses from the problem and records its choice in
        ``info["auto"]``), or an instance; see :mod:`combopt.strategies`.
    num_reads : int
        Independent runs, executed in parallel; at most :data:`MAX_READS`.
        A run whose state and trace would take more than half the physical
        memory is refused before anything is allocated.
    max_iterations : int, optional
        Iterations per read (``n`` coordinate steps each). Default: the
        strategy's own, unless ``time_limit`` is given, in which case the run
        goes on until the time limit.
    time_limit : float, optional
        Seconds of search (compile time excluded). It holds at any size: the
        reads stop mid-iteration when it passes, and the closing polish gets
        5% of it more (plus 25 ms) at most, or is left out when that would not
        cover one re-initialisation of the reads.
    target_energy : float, optional
        Stop as soon as any read reaches an energy ``<=`` this.
    max_stall : int, optional
        Stop a read after this many iterations without improving its best; the
        run stops when every read has stopped.
    initial : array_like, shape (n,) or (num_reads, n), optional
        Starting points (domain values). Default: uniformly random.
    pretrained : array_like, shape (n,) or (num_reads, n), optional
        Continuous weights discretised by Algorithm 1 to give the starting
        points (the paper's pipeline). Exclusive with ``initial``.
    seed : int, optional
        Seed of every random choice, an integer in ``[0, 2**53)`` (the range
        every seed of the package shares, exact in any JSON reader). ``None``
        draws one in that range (recorded in the result).
    polish : bool
        Finish every read with a zero-temperature pass (sequential sweeps
        accepting strict improvements only), so each returned sample is a
        1-coordinate local optimum. ``polish=False`` with ``strategy="paper"``
        is Algorithm 2 exactly.
    callback : callable, optional
        Called with a :class:`Progress` after each chunk; returning ``True``
        stops the run.

    Returns
    -------
    SolveResult

    Examples
    --------
    >>> import numpy as np
    >>> from combopt import Domain, solve
    >>> from combopt.objectives import QuadraticObjective
    >>> Q = np.array([[-1.0, 2.0], [0.0, -1.0]])
    >>> result = solve(QuadraticObjective(Q), Domain.binary(), strategy="tabu", seed=1)
    >>> result.energy, sorted(result.x.tolist())
    (-1.0, [0.0, 1.0])
    """
    t_start = time.perf_counter()
    if not isinstance(objective, Objective):
        raise TypeError(f"objective must be a combopt Objective, got {type(objective).__name__}")
    if domain is None:
        domain = objective.default_domain()
        if domain is None:
            raise ValueError("this objective has no default domain: pass domain=")
    if not isinstance(domain, Domain):
        raise TypeError(f"domain must be a combopt Domain, got {type(domain).__name__}")
    n = objective.num_variables
    domain.check_size(n)
    strategy = resolve_strategy(strategy)
    num_reads = check_count("num_reads", num_reads, maximum=MAX_READS)
    max_iterations = check_optional_count("max_iterations", max_iterations)
    max_stall = check_optional_count("max_stall", max_stall) or None
    time_limit = check_optional_real("time_limit", time_limit, minimum=0.0)
    target_energy = check_optional_real("target_energy", target_energy)
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    seed = check_seed(seed)
    _check_memory(n, num_reads, max_iterations)

    # Uniform starting points of an objective without constraints or a draw of its own come
    # from the reads' kernel streams (random_indices), which costs a tenth of numpy's.
    drawn = initial is None and pretrained is None and _uniform_start(objective)
    if not drawn:
        points = _initial_points(objective, domain, num_reads, seed, initial, pretrained)
        x_idx = domain.index_of(points)
        for row in points:
            objective.validate_assignment(row)
    values, offsets = domain.lower(n)
    problem, cache_length = objective._lower()
    compiled = isinstance(problem, tuple)  # kernel kinds are namedtuples
    auto = None
    if isinstance(strategy, Auto):
        features = problem_features(problem, offsets, strategy.plateau_levels)
        choice, reason = strategy.choose(features)
        auto = {"choice": choice, "reason": reason}
        strategy = strategy.strategy(choice)
    if max_iterations is None and time_limit is None:
        max_iterations = strategy.default_iterations(n)
    kernels = jit_kernels if compiled else interpreted
    if drawn:
        state = _new_state(np.zeros((num_reads, n), dtype=np.int64), cache_length, seed)
        random_indices(offsets, state.rng, state.x_idx)
    else:
        state = _new_state(x_idx, cache_length, seed)
    # Reads run on worker threads while this thread keeps the clock (see each_block).
    workers = min(num_reads, numba.get_num_threads()) if compiled else 1
    pool = worker_pool(workers)
    try:
        runner = _Runner(
            kernels, strategy, problem, values, offsets, state, target_energy, max_stall, pool,
            workers,
        )
        compile_seconds = _compile(runner, cache_length) if compiled else 0.0
        t_init = time.perf_counter()
        # A small compiled problem's initialisation (one pass over its couplings) and polish
        # run on this thread. Small counts the kernels' per-read cache (a network's
        # per-sample activations), not the variables alone; a Python objective is never small.
        tiny = compiled and (n + cache_length) * num_reads <= _INLINE_SIZE
        runner.each_block(kernels.initialize, state, expected=0.0 if tiny else None)
        init_seconds = time.perf_counter() - t_init
        runner.prepare()
        preprocess = time.perf_counter() - t_start - compile_seconds
        # ... and so does its first chunk of search (one iteration: n coordinate steps), which
        # otherwise waits for a worker thread as long as a small problem's whole search takes.
        # Not an ILS iteration: n kicks, each a local search, could hold the clock up.
        first = 0.0 if tiny and not isinstance(strategy, IteratedLocalSearch) else None
        search = _search(runner, max_iterations, time_limit, max_stall, callback, first)
        t_post = time.perf_counter()
        # A time-limited run's polish gets a budget of its own (5% of the limit + 25 ms), so
        # search and polish end within 10% + 50 ms of the limit; a cut polish keeps its gains.
        # It starts by re-initialising every read, so it is skipped when the budget would not
        # even cover that (measured by the initialisation above).
        state.stop[0] = 0
        polish_deadline = None
        if time_limit is not None:
            polish_deadline = t_post + 0.05 * time_limit + 0.025
            polish = polish and 2.0 * init_seconds < polish_deadline - t_post
        # A small problem's polish (a descent from a searched point: a few sweeps) too.
        runner.each_block(
            kernels.finish, state, bool(polish), _POLISH_SWEEPS, deadline=polish_deadline,
            expected=0.0 if tiny else None,
        )
        polish_seconds = time.perf_counter() - t_post
    except BaseException:
        state.stop[0] = _STOP_INTERRUPT  # a block still on the shared pool leaves at once
        raise
    samples = values[offsets[:-1] + state.best_idx]
    energies = objective._energies(samples)
    best_read = int(np.argmin(energies))
    trace = np.concatenate(search.traces, axis=1) if search.traces else np.zeros((num_reads, 0))
    iterations = np.concatenate(search.trace_iterations).astype(np.int64)
    x = samples[best_read].copy()
    _read_only(x, samples, energies, trace, iterations)
    timing = {
        "preprocess": preprocess,
        "compile": compile_seconds,
        "solve": search.seconds,
        "polish": polish_seconds,
        "postprocess": time.perf_counter() - t_post - polish_seconds,
    }
    return SolveResult(
        x=x,
        energy=float(energies[best_read]),
        samples=samples,
        energies=energies,
        trace=trace,
        trace_iterations=iterations,
        best_trace=tuple(search.best_trace),
        evaluations=int(state.evaluations.sum()),
        iterations=search.iterations,
        timing=pytypes.MappingProxyType(timing),
        seed=seed,
        strategy=strategy.name,
        stop_reason=search.stop_reason,
        info=pytypes.MappingProxyType(
            runner.info if auto is None else {**runner.info, "auto": auto}
        ),
    )


def _warmup_runs() -> list:
    """``(objective, domain)`` pairs that between them reach every compiled kernel."""
    tiny = np.array([[1.0, -1.0], [0.0, 2.0]])
    return [
        (QuadraticObjective(tiny, representation="dense"), Domain.binary()),
        (QuadraticObjective(tiny, representation="dense"), Domain.ternary()),
        (QuadraticObjective(tiny, representation="sparse"), Domain.binary()),
        (QuadraticObjective(tiny, representation="sparse"), Domain.ternary()),
        (LeastSquaresObjective(tiny, np.ones(2)), Domain.binary()),
        (TourObjective(np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 0.0]])), None),
        (SuccessorTourObjective(np.abs(np.subtract.outer(np.arange(6.0), np.arange(6.0)))), None),
        (DenseNetObjective(tiny, np.array([0, 1])), Domain.binary()),
        # two 3-case variables that prefer different cases (a tiny colouring)
        (CategoricalObjective([3, 3], quadratic=([0, 1, 2], [3, 4, 5], np.ones(3))), None),
        # a group of two and an integer in 0..2, with one penalised row
        (ConstrainedObjective([np.arange(2.0), np.arange(3.0)], [True, False], [0, 0, 1],
                              [0, 1, -1], [(([0, 2], [1.0, -1.0]), None, 0.0),
                                           (([1, 2], [1.0, 1.0]), ([1], [2], [1.0]), 0.0)],
                              ["<="], [2.0]), None),
    ]


def warmup() -> float:
    """Compile (or load from numba's cache) every compiled kernel the solver can run.

    That is every strategy kernel (``paper``, ``anneal``/``metropolis``,
    ``tabu`` and, over two-valued domains, the flip-delta tabu) for each of
    the seven compiled objective kinds: dense and sparse quadratic (over a
    two-valued and a three-valued domain, which use different tabu kernels),
    least squares, tour (permutation), tour (successor, also ``ils``), dense
    network, categorical and constrained; then
    the two-valued annealing kernel's field and coupling types and the
    tournament-tree tabu.
    :class:`~combopt.objectives.CallableObjective` and
    :class:`~combopt.objectives.LeNetConvObjective` run interpreted and need
    no compilation.

    Returns
    -------
    float
        Seconds spent. Later :func:`solve` calls then report ``timing["compile"]`` near 0.
    """
    start = time.perf_counter()
    for objective, domain in _warmup_runs():
        tour = isinstance(objective, SuccessorTourObjective)
        for name in STRATEGIES:
            if name != "ils" or tour:  # iterated local search runs on successor tours only
                solve(objective, domain, strategy=name, max_iterations=1, seed=0)
    # The two-valued annealing kernel's kinds: CSR and dense rows with int16/int8,
    # int32/int8, int32/int32 and float64 fields/couplings (the binary runs above
    # compiled dense int16/int8).
    chain = np.diag(np.ones(11), 1)
    star = np.zeros((300, 300))
    star[0, 1:] = 127.0  # a field bound of 299 * 127 >= 2**15
    full = np.triu(np.full((300, 300), 127.0), 1)
    tiny = np.array([[1.0, -1.0], [0.0, 2.0]])
    for Q in (chain, star, full, 200 * chain, 0.3 * chain, 200 * tiny, 0.3 * tiny):
        solve(QuadraticObjective(Q), Domain.binary(), strategy="anneal", max_iterations=1, seed=0)
    # Sequential Metropolis colours the coupling graph at lowering (CSR and dense rows).
    for Q in (chain, full):
        solve(QuadraticObjective(Q), Domain.binary(), strategy=Annealing(rule="metropolis"),
              max_iterations=1, seed=0)
    # Tabu on tournament trees with breakout perturbations (sparse two-valued problems).
    breakout = Tabu(moves="tree", perturbation="adaptive")
    for domain in (Domain.binary(), Domain.spin()):
        solve(QuadraticObjective(chain), domain, strategy=breakout, max_iterations=1, seed=0)
    return time.perf_counter() - start
