"""The public solver: validate, lower to arrays, run a kernel in chunks, wrap the result.

:func:`solve` minimises any :class:`~combopt.objectives.Objective` over a finite
:class:`~combopt.Domain` with one of the strategies of :mod:`combopt.strategies`.
It runs ``num_reads`` independent reads in parallel; each read's random stream
comes from ``SeedSequence(seed, spawn_key=(read, ...))``, so a run with a fixed
number of iterations gives the same result for any thread count and any chunking.
Time limits, target energies, stall limits and the progress callback are checked
between chunks of iterations (chunks grow until each takes ~20 ms), which only
decides *when* a run stops, never what an iteration computes.
"""

from __future__ import annotations

import math
import time
import types as pytypes
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import numba
import numpy as np

from combopt._kernels import anneal2, interpreted
from combopt._kernels import strategies as jit_kernels
from combopt._kernels.protocol import FLIP_KINDS
from combopt._kernels.quadratic import DenseQuadratic, SparseQuadratic
from combopt._kernels.strategies import ReadState
from combopt.domain import Domain, discretize
from combopt.objectives.base import Objective
from combopt.strategies import Annealing, Paper, Tabu, resolve_strategy

__all__ = ["Progress", "SolveResult", "solve"]

_CHUNK_SECONDS = 0.02
_TRACE_LIMIT = 100_000  # per-iteration trace columns kept before switching to one per chunk
_POLISH_SWEEPS = 10_000
_SEED_LIMIT = 2**128


class Progress(NamedTuple):
    """What the progress callback receives after every chunk of iterations."""

    iteration: int
    seconds: float
    best_energy: float
    evaluations: int


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
        100,000, then the last iteration of each chunk.
    best_trace : tuple of (float, float)
        ``(seconds, best energy so far)`` each time the best over reads improved.
    evaluations : int
        Candidate values tried other than the current one, over all reads.
    iterations : int
        Iterations run by the longest-running read.
    timing : mapping of str to float
        Seconds spent in ``preprocess`` (validation, lowering, initial states),
        ``compile`` (Numba compilation or cache load, paid once per process),
        ``solve`` (the search) and ``postprocess`` (polish, recomputation).
    seed : int
        The seed used (drawn from the OS when none was given).
    strategy : str
    stop_reason : str
        One of ``"iterations"``, ``"time_limit"``, ``"target"``, ``"stall"``, ``"callback"``.
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
    def evaluations_per_second(self) -> float:
        """Evaluations divided by the search time (compile time excluded)."""
        seconds = self.timing["solve"]
        return self.evaluations / seconds if seconds > 0 else math.inf


def _check_seed(seed) -> int:
    if seed is None:
        return int(np.random.SeedSequence().entropy % 2**63)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative integer or None, got {type(seed).__name__}")
    if not 0 <= seed < _SEED_LIMIT:
        raise ValueError(f"seed must be in [0, 2**128), got {seed}")
    return int(seed)


def _check_optional_count(name: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer or None, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be non-negative, got {value}")
    return int(value)


def _check_optional_real(name: str, value, *, minimum: float | None = None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number or None, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


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


def _new_state(x_idx: np.ndarray, cache_length: int, seed: int) -> ReadState:
    reads, n = x_idx.shape
    rng = np.array(
        [np.random.SeedSequence(seed, spawn_key=(r, 1)).generate_state(1, np.uint64)[0] for r in range(reads)],
        dtype=np.uint64,
    )
    zeros = np.zeros(reads, dtype=np.int64)
    return ReadState(
        x_idx=np.ascontiguousarray(x_idx, dtype=np.int64),
        cache=np.zeros((reads, cache_length), dtype=np.float64),
        energy=np.zeros(reads, dtype=np.float64),
        best_idx=np.zeros((reads, n), dtype=np.int64),
        best_energy=np.zeros(reads, dtype=np.float64),
        pending=zeros.copy(),
        rng=rng,
        evaluations=zeros.copy(),
        stall=zeros.copy(),
        moves_since_best=zeros.copy(),
        clock=zeros.copy(),
        tabu_until=np.zeros((reads, n), dtype=np.int64),
        stop=np.zeros(1, dtype=np.int64),
    )


class _Runner:
    """Runs one strategy's kernels over every read, block by block on a thread pool.

    Reads ``0..R-1`` are cut into at most ``threads`` contiguous blocks; each
    block is one kernel call (the kernels release the GIL). A block's result
    depends only on its reads, so the thread count never changes the result.
    """

    def __init__(self, kernels, strategy, problem, values, offsets, state, target, max_stall, pool, workers):
        self.kernels = kernels
        self.strategy = strategy
        self.args = (problem, values, offsets)
        self.state = state
        self.target = -np.inf if target is None else target
        self.max_stall = 0 if max_stall is None else max_stall
        self.pool = pool
        self.workers = workers
        self.info: dict = {}
        self.clock_betas: np.ndarray | None = None
        # Two-valued domains and a kind that updates every flip's delta: the same
        # tabu search, reading the deltas instead of calling obj_deltas n times a move.
        two_valued = bool(np.all(offsets[1:] - offsets[:-1] == 2))
        flips = type(problem) in FLIP_KINDS and two_valued
        self.tabu_kernel = kernels.run_tabu_flips if flips else kernels.run_tabu
        # QUBO and Ising annealing: anneal2's kernel, one cached field per variable;
        # its per-read fields live here, next to the read state.
        self.anneal_flips: tuple | None = None
        quadratic = type(problem) in (DenseQuadratic, SparseQuadratic)
        if isinstance(strategy, Annealing) and two_valued and quadratic:
            model = anneal2.lower_flips(problem, values, offsets)
            reads, n = state.x_idx.shape
            fields = np.zeros((reads, n), dtype=model.dtype)
            ready = np.zeros(reads, dtype=np.int64)
            self.anneal_flips = (
                model.couplings, model.linear, model.integral, model.bound, fields, ready
            )

    def prepare(self) -> None:
        """Strategy set-up that needs the initialised reads (the default annealing range)."""
        problem, values, offsets = self.args
        strategy, state = self.strategy, self.state
        n = state.x_idx.shape[1]
        if isinstance(strategy, Annealing):
            if strategy.beta_range is None:
                largest, smallest = self.kernels.delta_scale(problem, values, offsets, state)
                hot = math.log(2.0) / largest if largest > 0 else 1.0
                # At the cold end the smallest uphill move is accepted about once
                # per 100 sweeps (probability 1 / (100 n)): the search is frozen.
                cold = math.log(100.0 * n) / smallest if math.isfinite(smallest) and smallest > 0 else hot
                beta_range = (hot, max(hot, cold))
            else:
                beta_range = tuple(float(b) for b in strategy.beta_range)
            self.beta_range = beta_range
            self.betas = strategy.betas(*beta_range)
            self.info = {
                "beta_range": beta_range,
                "schedule": strategy.schedule,
                "num_sweeps": strategy.num_sweeps,
                "order": strategy.order,
                "rule": strategy.rule,
            }
        elif isinstance(strategy, Tabu):
            self.tabu = strategy.parameters(n)
            self.info = dict(zip(("tenure", "restart_after", "perturb_count"), self.tabu))

    def follow_clock(self, fractions: np.ndarray) -> None:
        """Use, for the next chunk only, the betas at these fractions of the time budget."""
        self.clock_betas = self.strategy.beta_at(fractions, *self.beta_range)

    def each_block(self, kernel, state: ReadState, *tail) -> None:
        """Call ``kernel(problem, values, offsets, state, lo, hi, *tail)`` on every block of reads."""
        reads = state.x_idx.shape[0]
        if self.pool is None or reads <= 1:
            kernel(*self.args, state, 0, reads, *tail)
            return
        bounds = np.linspace(0, reads, min(self.workers, reads) + 1).astype(np.int64)
        futures = [
            self.pool.submit(kernel, *self.args, state, lo, hi, *tail)
            for lo, hi in zip(bounds[:-1], bounds[1:])
        ]
        for future in futures:
            future.result()

    def run(self, start: int, n_iters: int, trace: np.ndarray, state: ReadState | None = None) -> None:
        """Advance every read by ``n_iters`` iterations (global iterations ``start`` onwards)."""
        st = self.state if state is None else state
        k = self.kernels
        if isinstance(self.strategy, Paper):
            self.each_block(k.run_paper, st, n_iters, self.target, self.max_stall, trace)
        elif isinstance(self.strategy, Annealing):
            if not n_iters:  # the compile-only call, made before prepare() sets the schedule
                betas = np.empty(0)
            elif self.clock_betas is not None:
                betas, self.clock_betas = self.clock_betas, None
            else:
                betas = self.betas[np.arange(start, start + n_iters) % self.betas.shape[0]]
            sequential = self.strategy.order == "sequential"
            metropolis = self.strategy.rule == "metropolis"
            tail = (betas, sequential, metropolis, self.target, self.max_stall, trace)
            if self.anneal_flips is None:
                self.each_block(k.run_anneal, st, *tail)
            else:
                self.each_block(anneal2.run_anneal_flips, st, *tail, *self.anneal_flips)
        else:
            tenure, restart, perturb = self.tabu if n_iters else (0, 0, 0)
            self.each_block(
                self.tabu_kernel, st, n_iters, tenure, restart, perturb, self.target, self.max_stall, trace
            )


class _Search(NamedTuple):
    traces: list
    trace_iterations: list
    best_trace: list
    iterations: int
    stop_reason: str
    seconds: float


def _search(runner: _Runner, max_iterations, time_limit, max_stall, callback) -> _Search:
    """Run chunks of iterations until a stopping rule fires; collect traces and progress."""
    state = runner.state
    num_reads = state.x_idx.shape[0]
    t_solve = time.perf_counter()
    traces, trace_iters = [], []
    last_energy = state.energy.copy()
    best_trace = [(0.0, float(np.min(state.best_energy)))]
    done, chunk, stop_reason = 0, 1, "iterations"
    # Time-limited annealing is one cycle over the budget, scheduled by the clock.
    follow_clock = isinstance(runner.strategy, Annealing) and time_limit and max_iterations is None
    if follow_clock:
        runner.info["num_sweeps"] = "time_limit"
    per_iteration = 0.0
    while True:
        if max_iterations is not None and done >= max_iterations:
            break
        n_iters = chunk if max_iterations is None else min(chunk, max_iterations - done)
        trace = np.full((num_reads, n_iters), np.nan)
        t_chunk = time.perf_counter()
        if follow_clock:
            runner.follow_clock((t_chunk - t_solve + per_iteration * np.arange(1, n_iters + 1)) / time_limit)
        runner.run(done, n_iters, trace)
        now = time.perf_counter()
        ran = int(np.max(np.nonzero(~np.all(np.isnan(trace), axis=0))[0], initial=-1)) + 1
        trace = _forward_fill(trace[:, :ran], last_energy)
        if ran:
            last_energy = trace[:, -1]
            if done + ran <= _TRACE_LIMIT:
                traces.append(trace)
                trace_iters.append(np.arange(done + 1, done + ran + 1))
            else:
                traces.append(trace[:, -1:])
                trace_iters.append(np.array([done + ran]))
        done += ran
        best = float(np.min(state.best_energy))
        if best < best_trace[-1][1]:
            best_trace.append((now - t_solve, best))
        if callback is not None and callback(
            Progress(done, now - t_solve, best, int(state.evaluations.sum()))
        ):
            stop_reason = "callback"
            break
        if state.stop[0]:
            stop_reason = "target"
            break
        if ran < n_iters or (max_stall is not None and np.all(state.stall >= max_stall)):
            stop_reason = "stall"
            break
        elapsed = now - t_solve
        if time_limit is not None and elapsed >= time_limit:
            stop_reason = "time_limit"
            break
        per_iteration = (now - t_chunk) / max(ran, 1)
        if now - t_chunk < _CHUNK_SECONDS:
            chunk *= 2
        if time_limit is not None and per_iteration > 0:
            chunk = max(1, min(chunk, int((time_limit - elapsed) / per_iteration) + 1))
    return _Search(traces, trace_iters, best_trace, done, stop_reason, time.perf_counter() - t_solve)


def _compile(runner: _Runner, cache_length: int) -> float:
    """Compile (or load from cache) every kernel this run needs; return the seconds spent.

    The kernels are called on a state with zero reads: the types are those of
    the real run, so nothing is compiled again, and no work is done.
    """
    n = runner.state.x_idx.shape[1]
    empty = _new_state(np.zeros((0, n), dtype=np.int64), cache_length, 0)
    start = time.perf_counter()
    runner.each_block(runner.kernels.initialize, empty)
    runner.run(0, 0, np.zeros((0, 0)), empty)
    runner.each_block(runner.kernels.finish, empty, True, 0)
    return time.perf_counter() - start


def _forward_fill(chunk: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Replace the NaN columns a stopped read left in ``chunk`` by its last energy."""
    filled = chunk.copy()
    last = previous.copy()
    for t in range(filled.shape[1]):
        column = filled[:, t]
        missing = np.isnan(column)
        column[missing] = last[missing]
        last = column
    return filled


def _read_only(*arrays):
    for arr in arrays:
        arr.flags.writeable = False


def solve(
    objective: Objective,
    domain: Domain | None = None,
    *,
    strategy="paper",
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
    strategy : {"paper", "anneal", "tabu"} or strategy instance
        See :mod:`combopt.strategies`.
    num_reads : int
        Independent runs, executed in parallel.
    max_iterations : int, optional
        Iterations per read (``n`` coordinate steps each). Default: the
        strategy's own, unless ``time_limit`` is given, in which case the run
        goes on until the time limit.
    time_limit : float, optional
        Seconds of search (compile time excluded).
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
        Seed of every random choice. ``None`` draws one (recorded in the result).
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
    if isinstance(num_reads, bool) or not isinstance(num_reads, (int, np.integer)):
        raise TypeError(f"num_reads must be an integer, got {type(num_reads).__name__}")
    if num_reads <= 0:
        raise ValueError(f"num_reads must be positive, got {num_reads}")
    num_reads = int(num_reads)
    max_iterations = _check_optional_count("max_iterations", max_iterations)
    max_stall = _check_optional_count("max_stall", max_stall) or None
    time_limit = _check_optional_real("time_limit", time_limit, minimum=0.0)
    target_energy = _check_optional_real("target_energy", target_energy)
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    seed = _check_seed(seed)
    if max_iterations is None and time_limit is None:
        max_iterations = strategy.default_iterations(n)

    points = _initial_points(objective, domain, num_reads, seed, initial, pretrained)
    x_idx = domain.index_of(points)
    for row in points:
        objective.validate_assignment(row)
    values, offsets = domain.lower(n)
    problem, cache_length = objective._lower()
    compiled = isinstance(problem, tuple)  # kernel kinds are namedtuples
    kernels = jit_kernels if compiled else interpreted
    state = _new_state(x_idx, cache_length, seed)
    workers = min(num_reads, numba.get_num_threads()) if compiled else 1
    pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
    try:
        runner = _Runner(
            kernels, strategy, problem, values, offsets, state, target_energy, max_stall, pool, workers
        )
        compile_seconds = _compile(runner, cache_length) if compiled else 0.0
        runner.each_block(kernels.initialize, state)
        runner.prepare()
        preprocess = time.perf_counter() - t_start - compile_seconds
        search = _search(runner, max_iterations, time_limit, max_stall, callback)
        t_post = time.perf_counter()
        runner.each_block(kernels.finish, state, bool(polish), _POLISH_SWEEPS)
    finally:
        if pool is not None:
            pool.shutdown()
    samples = values[offsets[:-1] + state.best_idx]
    energies = objective._energies(samples)
    best_read = int(np.argmin(energies))
    trace = np.concatenate(search.traces, axis=1) if search.traces else np.zeros((num_reads, 0))
    iterations = np.concatenate(search.trace_iterations) if search.traces else np.zeros(0, dtype=np.int64)
    x = samples[best_read].copy()
    _read_only(x, samples, energies, trace, iterations)
    timing = {
        "preprocess": preprocess,
        "compile": compile_seconds,
        "solve": search.seconds,
        "postprocess": time.perf_counter() - t_post,
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
        info=pytypes.MappingProxyType(runner.info),
    )


def warmup() -> float:
    """Compile (or load from numba's cache) every kernel for the built-in objectives.

    Returns
    -------
    float
        Seconds spent. Later :func:`solve` calls then report ``timing["compile"]`` near 0.
    """
    from combopt.objectives import LeastSquaresObjective, QuadraticObjective

    start = time.perf_counter()
    tiny = np.array([[1.0, -1.0], [0.0, 2.0]])
    objectives = [
        QuadraticObjective(tiny, representation="dense"),
        QuadraticObjective(tiny, representation="sparse"),
        LeastSquaresObjective(tiny, np.ones(2)),
    ]
    for obj in objectives:
        for name in ("paper", "anneal", "tabu"):
            solve(obj, Domain.binary(), strategy=name, max_iterations=1, seed=0)
    # The two-valued annealing kernel's kinds: CSR and dense rows with int16/int8,
    # int32/int8, int32/int32 and float64 fields/couplings (the binary runs above
    # compiled dense int16/int8).
    chain = np.diag(np.ones(11), 1)
    star = np.zeros((300, 300))
    star[0, 1:] = 127.0  # a field bound of 299 * 127 >= 2**15
    full = np.triu(np.full((300, 300), 127.0), 1)
    for Q in (chain, star, full, 200 * chain, 0.3 * chain, 200 * tiny, 0.3 * tiny):
        solve(QuadraticObjective(Q), Domain.binary(), strategy="anneal", max_iterations=1, seed=0)
    return time.perf_counter() - start

