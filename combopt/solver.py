"""The public solver: validate, lower to arrays, run a kernel in chunks, wrap the result.

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
thread raises at the deadline, so a limit holds however long one iteration is.
"""

from __future__ import annotations

import functools
import math
import os
import time
import types as pytypes
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import NamedTuple

import numba
import numpy as np

from combopt._kernels import anneal2, interpreted
from combopt._kernels import strategies as jit_kernels
from combopt._kernels import tabu_tree
from combopt._kernels.protocol import FLIP_KINDS
from combopt._kernels.quadratic import DenseQuadratic, SparseQuadratic
from combopt._kernels.strategies import ReadState
from combopt._validation import (
    check_count,
    check_optional_count,
    check_optional_real,
    check_seed,
)
from combopt.domain import Domain, discretize
from combopt.objectives import (
    DenseNetObjective, LeastSquaresObjective, Objective, QuadraticObjective, TourObjective,
)
from combopt.strategies import (
    STRATEGIES, Annealing, Auto, Paper, ProblemFeatures, Tabu, resolve_strategy,
)

__all__ = ["Progress", "SolveResult", "solve"]

_CHUNK_SECONDS = 0.02
_TRACE_LIMIT = 100_000  # per-iteration trace columns kept before switching to one per chunk
_TRACE_ENTRIES = 2**23  # at most this many trace values per part (64 MiB), however many reads
_CHUNK_ENTRIES = 2**20  # a chunk's trace buffer: reads x iterations, bounded
_POLL_SECONDS = 0.1  # the waiting main thread looks at the clock (and lets Ctrl-C in) this often
#: Values of ``ReadState.stop``: nonzero makes every read leave at its next step.
_STOP_TARGET, _STOP_TIME, _STOP_INTERRUPT = 1, 2, 3
_POLISH_SWEEPS = 10_000
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
    trace = 8 * (4 * min(num_reads * columns, _TRACE_ENTRIES) + min(num_reads * columns, _CHUNK_ENTRIES))
    limit = _memory_limit()
    if state + trace > limit:
        raise ValueError(
            f"num_reads={num_reads} reads of n={n} variables need about "
            f"{(state + trace) / 2**30:.1f} GiB (state {state / 2**30:.1f} GiB, trace "
            f"{trace / 2**30:.1f} GiB), more than the {limit / 2**30:.1f} GiB allowed "
            "(half the physical memory): lower num_reads or max_iterations"
        )


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
        if isinstance(strategy, Tabu):
            self._choose_tabu(strategy, problem, flips)

    def _choose_tabu(self, strategy: Tabu, problem, flips: bool) -> None:
        """Tabu's kernel and parameters (two-valued quadratic problems: trees or scans)."""
        reads, n = self.state.x_idx.shape
        if strategy.needs_flips and not flips:
            raise ValueError(
                "Tabu with moves='tree', perturbation='adaptive' or a tenure range needs "
                "two-valued domains and a quadratic objective"
            )
        sparse = flips and tabu_tree.is_sparse(problem)
        tree = flips and (strategy.moves == "tree" or (strategy.moves == "auto" and sparse))
        params = strategy.parameters(n, sparse)
        lo, hi = params["tenure"]
        self.info = {
            **params, "tenure": lo if lo == hi else (lo, hi), "moves": "tree" if tree else "scan"
        }
        if tree or params["adaptive"] or lo != hi:
            self.args = (tabu_tree.as_sparse(problem),) + self.args[1:]
            self.tabu_kernel = tabu_tree.run_tabu_tree
            self.tabu_memory = np.zeros((reads, tabu_tree.MEMORY_WIDTH), dtype=np.int64)
            self.tabu = tabu_tree.TreeTabuParams(
                lo, hi, params["restart_after"], params["perturb_count"], int(params["adaptive"]),
                int(tree), *params.get("jump", (1, 1)), params.get("omega_limit", 1),
                float(params.get("p_directed", 1.0)),
            )
        else:
            self.tabu = (lo, params["restart_after"], params["perturb_count"])

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

    def follow_clock(self, fractions: np.ndarray) -> None:
        """Use, for the next chunk only, the betas at these fractions of the time budget."""
        self.clock_betas = self.strategy.beta_at(fractions, *self.beta_range)

    def each_block(self, kernel, state: ReadState, *tail, deadline: float | None = None) -> None:
        """Call ``kernel(problem, values, offsets, state, lo, hi, *tail)`` on every block of reads.

        The blocks run on the pool while this thread waits; at ``deadline``
        (a ``time.perf_counter()`` value) or on Ctrl-C it raises the state's
        stop flag, which the kernels poll, and waits for them to leave.
        """
        reads = state.x_idx.shape[0]
        if reads == 0:  # the compile-only calls
            kernel(*self.args, state, 0, reads, *tail)
            return
        bounds = np.linspace(0, reads, min(self.workers, reads) + 1).astype(np.int64)
        futures = [
            self.pool.submit(kernel, *self.args, state, lo, hi, *tail)
            for lo, hi in zip(bounds[:-1], bounds[1:])
        ]
        try:
            while wait(futures, timeout=_poll_timeout(deadline)).not_done:
                if deadline is not None and time.perf_counter() >= deadline and not state.stop[0]:
                    state.stop[0] = _STOP_TIME
        except KeyboardInterrupt:
            state.stop[0] = _STOP_INTERRUPT
            wait(futures)
            raise
        for future in futures:
            future.result()

    def run(
        self, start: int, n_iters: int, trace: np.ndarray, state: ReadState | None = None,
        deadline: float | None = None,
    ) -> None:
        """Advance every read by ``n_iters`` iterations (global iterations ``start`` onwards).

        At ``deadline`` the reads stop where they are, mid-iteration if need be.
        """
        st = self.state if state is None else state
        k = self.kernels
        block = functools.partial(self.each_block, deadline=deadline)
        if isinstance(self.strategy, Paper):
            block(k.run_paper, st, n_iters, self.target, self.max_stall, trace)
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
                block(k.run_anneal, st, *tail)
            else:
                block(anneal2.run_anneal_flips, st, *tail, *self.anneal_flips)
        elif self.tabu_kernel is tabu_tree.run_tabu_tree:
            width = tabu_tree.MEMORY_WIDTH
            memory = self.tabu_memory if state is None else np.zeros((0, width), np.int64)
            block(self.tabu_kernel, st, n_iters, self.tabu, self.target, self.max_stall, trace, memory)
        else:
            block(self.tabu_kernel, st, n_iters, *self.tabu, self.target, self.max_stall, trace)


class _Search(NamedTuple):
    traces: list
    trace_iterations: list
    best_trace: list
    iterations: int
    stop_reason: str
    seconds: float


def _poll_timeout(deadline: float | None) -> float:
    """How long the main thread may sleep before it must look at the clock again."""
    if deadline is None:
        return _POLL_SECONDS
    return min(_POLL_SECONDS, max(0.0, deadline - time.perf_counter()))


class _Trace:
    """Each read's energy after every iteration, then after every chunk, in bounded memory.

    The first ``limit`` iterations are kept one column each; later ones one
    column per chunk, and when those exceed ``limit`` every other one is
    dropped, so a trace never holds more than about ``2 * limit * reads`` values.
    """

    def __init__(self, num_reads: int):
        self.limit = max(1, min(_TRACE_LIMIT, _TRACE_ENTRIES // num_reads))
        self.head: list[np.ndarray] = []
        self.head_iterations: list[np.ndarray] = []
        self.tail: list[np.ndarray] = []
        self.tail_iterations: list[int] = []
        self.kept = 0

    def add(self, chunk: np.ndarray, done: int) -> None:
        """Record ``chunk`` (reads x iterations, already forward-filled) ending at ``done``."""
        first = done - chunk.shape[1] + 1
        if first <= self.limit:  # the part of the chunk within the limit, one column each
            head = min(done, self.limit) - first + 1
            self.head.append(chunk[:, :head])
            self.head_iterations.append(np.arange(first, first + head))
            if done <= self.limit:
                return
        self.tail.append(chunk[:, -1:])
        self.tail_iterations.append(done)
        if len(self.tail) > self.limit:
            self.tail, self.tail_iterations = self.tail[1::2], self.tail_iterations[1::2]

    def columns(self) -> tuple[list, list]:
        """The recorded columns and their iterations, for :class:`SolveResult`."""
        return self.head + self.tail, self.head_iterations + [np.array(self.tail_iterations)]


def _search(runner: _Runner, max_iterations, time_limit, max_stall, callback) -> _Search:
    """Run chunks of iterations until a stopping rule fires; collect traces and progress."""
    state = runner.state
    num_reads = state.x_idx.shape[0]
    t_solve = time.perf_counter()
    deadline = None if time_limit is None else t_solve + time_limit
    recorder = _Trace(num_reads)
    last_energy = state.energy.copy()
    best_trace = [(0.0, float(np.min(state.best_energy)))]
    done, chunk, stop_reason = 0, 1, "iterations"
    chunk_cap = max(1, _CHUNK_ENTRIES // num_reads)
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
        runner.run(done, n_iters, trace, deadline=deadline)
        now = time.perf_counter()
        ran = int(np.max(np.nonzero(~np.all(np.isnan(trace), axis=0))[0], initial=-1)) + 1
        trace = _forward_fill(trace[:, :ran], last_energy)
        if ran:
            last_energy = trace[:, -1]
            done += ran
            recorder.add(trace, done)
        best = float(np.min(state.best_energy))
        if best < best_trace[-1][1]:
            best_trace.append((now - t_solve, best))
        if callback is not None and callback(
            Progress(done, now - t_solve, best, int(state.evaluations.sum()))
        ):
            stop_reason = "callback"
            break
        if state.stop[0] == _STOP_TARGET:
            stop_reason = "target"
            break
        if state.stop[0] == _STOP_TIME or (deadline is not None and now >= deadline):
            stop_reason = "time_limit"
            break
        if ran < n_iters or (max_stall is not None and np.all(state.stall >= max_stall)):
            stop_reason = "stall"
            break
        per_iteration = (now - t_chunk) / max(ran, 1)
        if now - t_chunk < _CHUNK_SECONDS:
            chunk = min(2 * chunk, chunk_cap)
        if time_limit is not None and per_iteration > 0:
            chunk = max(1, min(chunk, int((deadline - now) / per_iteration) + 1))
    traces, trace_iters = recorder.columns()
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
    if isinstance(runner.strategy, Annealing):
        runner.kernels.delta_scale(*runner.args, empty)
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


def problem_features(problem, offsets: np.ndarray) -> ProblemFeatures:
    """Measure what :class:`~combopt.strategies.Auto` chooses by, on a lowered problem."""
    sizes = offsets[1:] - offsets[:-1]
    n = sizes.shape[0]
    degree, levels = math.nan, 0
    if isinstance(problem, SparseQuadratic):
        degree = problem.indices.shape[0] / max(n, 1)
        levels = np.unique(np.abs(problem.data[problem.data != 0])).shape[0]
    elif isinstance(problem, DenseQuadratic):
        nonzero = problem.couplings[problem.couplings != 0]
        degree = nonzero.shape[0] / max(n, 1)
        levels = np.unique(np.abs(nonzero)).shape[0]
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

    points = _initial_points(objective, domain, num_reads, seed, initial, pretrained)
    x_idx = domain.index_of(points)
    for row in points:
        objective.validate_assignment(row)
    values, offsets = domain.lower(n)
    problem, cache_length = objective._lower()
    compiled = isinstance(problem, tuple)  # kernel kinds are namedtuples
    auto = None
    if isinstance(strategy, Auto):
        choice, reason = strategy.choose(problem_features(problem, offsets))
        auto = {"choice": choice, "reason": reason}
        strategy = resolve_strategy(choice)
    if max_iterations is None and time_limit is None:
        max_iterations = strategy.default_iterations(n)
    kernels = jit_kernels if compiled else interpreted
    state = _new_state(x_idx, cache_length, seed)
    # Even one read runs on a worker thread: this thread keeps the clock (see each_block).
    workers = min(num_reads, numba.get_num_threads()) if compiled else 1
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        runner = _Runner(
            kernels, strategy, problem, values, offsets, state, target_energy, max_stall, pool, workers
        )
        compile_seconds = _compile(runner, cache_length) if compiled else 0.0
        t_init = time.perf_counter()
        runner.each_block(kernels.initialize, state)
        init_seconds = time.perf_counter() - t_init
        runner.prepare()
        preprocess = time.perf_counter() - t_start - compile_seconds
        search = _search(runner, max_iterations, time_limit, max_stall, callback)
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
        runner.each_block(kernels.finish, state, bool(polish), _POLISH_SWEEPS, deadline=polish_deadline)
        polish_seconds = time.perf_counter() - t_post
    finally:
        pool.shutdown()
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
        info=pytypes.MappingProxyType(runner.info if auto is None else {**runner.info, "auto": auto}),
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
        (DenseNetObjective(tiny, np.array([0, 1])), Domain.binary()),
    ]


def warmup() -> float:
    """Compile (or load from numba's cache) every compiled kernel the solver can run.

    That is every strategy kernel (``paper``, ``anneal``/``metropolis``,
    ``tabu`` and, over two-valued domains, the flip-delta tabu) for each of
    the five compiled objective kinds: dense and sparse quadratic (over a
    two-valued and a three-valued domain, which use different tabu kernels),
    least squares, tour (permutation) and dense network.
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
        for name in STRATEGIES:
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
    # Tabu on tournament trees with breakout perturbations (sparse two-valued problems).
    breakout = Tabu(moves="tree", perturbation="adaptive")
    for domain in (Domain.binary(), Domain.spin()):
        solve(QuadraticObjective(chain), domain, strategy=breakout, max_iterations=1, seed=0)
    return time.perf_counter() - start
