"""The driver of the strategy kernels: chunks of iterations on worker threads, a watched clock.

:func:`_search` runs a :class:`_Runner`'s kernels in chunks of iterations
that grow until one takes ~20 ms; between chunks it records the trace,
reports progress and applies the stall rule, which only decides *when* a run
stops, never what an iteration computes. The reads always run on worker
threads while the calling thread waits on them: at the time limit, or on
Ctrl-C, it raises the read state's stop flag, which every kernel polls at
every coordinate step (every move for tabu), so a limit holds however long one
iteration is. :func:`combopt.solver.solve` validates, lowers and wraps around it.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from typing import NamedTuple

import numpy as np

from combopt._kernels import anneal2, tabu_tree, tour_ils
from combopt._kernels.protocol import FLIP_KINDS
from combopt._kernels.quadratic import DenseQuadratic, SparseQuadratic
from combopt._kernels.strategies import ReadState
from combopt._kernels.tour import SuccessorProblem
from combopt.strategies import Annealing, IteratedLocalSearch, Paper, Tabu

_CHUNK_SECONDS = 0.02
_TRACE_LIMIT = 100_000  # per-iteration trace columns kept before switching to one per chunk
_TRACE_ENTRIES = 2**23  # at most this many trace values per part (64 MiB), however many reads
_CHUNK_ENTRIES = 2**20  # a chunk's trace buffer: reads x iterations, bounded
_INLINE_SECONDS = 0.002  # a single block predicted this short runs on the calling thread
_POLL_SECONDS = 0.1  # the waiting main thread looks at the clock (and lets Ctrl-C in) this often
#: Values of ``ReadState.stop``: nonzero makes every read leave at its next step.
_STOP_TARGET, _STOP_TIME, _STOP_INTERRUPT = 1, 2, 3


_POOL: dict = {}  # the shared worker threads: "pool", its "size" and the "pid" that made it
_POOL_LOCK = threading.Lock()


def worker_pool(workers: int) -> ThreadPoolExecutor:
    """The process's worker threads, at least ``workers`` of them, kept across calls.

    Starting threads costs about a millisecond, which is what a small problem's
    whole search takes; the pool is therefore made once and grown when a call
    needs more threads. A replaced pool finishes the work it has been given. A
    forked child (multiprocessing, Dask workers) gets a pool of its own: the
    parent's threads do not exist in it.
    """
    with _POOL_LOCK:
        pid = os.getpid()
        if _POOL.get("pid") != pid or _POOL["size"] < workers:
            if _POOL.get("pid") == pid:
                _POOL["pool"].shutdown(wait=False)
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="combopt")
            _POOL.update(pool=pool, size=workers, pid=pid)
        return _POOL["pool"]


class Progress(NamedTuple):
    """What the progress callback receives after every chunk of iterations."""

    iteration: int
    seconds: float
    best_energy: float
    evaluations: int

def _new_state(x_idx: np.ndarray, cache_length: int, seed: int) -> ReadState:
    reads, n = x_idx.shape
    rng = np.array(
        [
            np.random.SeedSequence(seed, spawn_key=(r, 1)).generate_state(1, np.uint64)[0]
            for r in range(reads)
        ],
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

    def __init__(
        self, kernels, strategy, problem, values, offsets, state, target, max_stall, pool, workers
    ):
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
            # Sequential Metropolis sweeps visit the variables class by class of a colouring.
            colour = strategy.order == "sequential" and strategy.rule == "metropolis"
            model = anneal2.lower_flips(problem, values, offsets, colour)
            reads, n = state.x_idx.shape
            fields = np.zeros((reads, n), dtype=model.dtype)
            ready = np.zeros(reads, dtype=np.int64)
            self.anneal_flips = (
                model.couplings, model.linear, model.integral, model.bound, model.order,
                model.starts, fields, ready,
            )
        self.flip_state: tuple = ()
        if isinstance(strategy, Tabu):
            self._choose_tabu(strategy, problem, flips)
            if self.tabu_kernel is not tabu_tree.run_tabu_tree and flips:
                # run_tabu_flips' per-read deltas, kept across chunks as anneal2 keeps its fields.
                self.flip_state = _empty_flip_state(state)
        if isinstance(strategy, IteratedLocalSearch):
            if not isinstance(problem, SuccessorProblem):
                raise ValueError("the 'ils' strategy needs a SuccessorTourObjective")
            self.info = {"window": strategy.window, "candidates": problem.candidates.shape[1]}

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
            self.args = (tabu_tree.as_sparse(problem), *self.args[1:])
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
                frozen = math.isfinite(smallest) and smallest > 0
                cold = math.log(100.0 * n) / smallest if frozen else hot
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
        """Use, for the next chunk only, the betas at these fractions of a cycle."""
        self.clock_betas = self.strategy.beta_at(fractions, *self.beta_range)

    def each_block(
        self, kernel, state: ReadState, *tail, deadline: float | None = None,
        expected: float | None = None,
    ) -> None:
        """Call ``kernel(problem, values, offsets, state, lo, hi, *tail)`` on every block of reads.

        The blocks run on the pool while this thread waits; at ``deadline``
        (a ``time.perf_counter()`` value) or on Ctrl-C it raises the state's
        stop flag, which the kernels poll, and waits for them to leave.

        A single block whose ``expected`` seconds are known to be short runs
        in this thread instead: handing it to a worker and waking up again
        costs 0.05-0.3 ms (more on a busy machine), which is what a small
        problem's whole search takes. Short means at most ``_INLINE_SECONDS``
        and a tenth of the time left before ``deadline``, so neither the time
        limit nor Ctrl-C can be held up by more than that.
        """
        reads = state.x_idx.shape[0]
        short = self.workers == 1 and expected is not None and expected <= _INLINE_SECONDS and (
            deadline is None or 10.0 * expected <= deadline - time.perf_counter()
        )
        if reads == 0 or short:  # the compile-only calls (no reads), or a short single block
            kernel(*self.args, state, 0, reads, *tail)
            return
        bounds = np.linspace(0, reads, min(self.workers, reads) + 1).astype(np.int64)
        futures = [
            self.pool.submit(kernel, *self.args, state, lo, hi, *tail)
            for lo, hi in itertools.pairwise(bounds)
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
        deadline: float | None = None, expected: float | None = None,
    ) -> None:
        """Advance every read by ``n_iters`` iterations (global iterations ``start`` onwards).

        At ``deadline`` the reads stop where they are, mid-iteration if need be.
        ``expected`` is the predicted seconds of the chunk (see :meth:`each_block`).
        """
        st = self.state if state is None else state
        k = self.kernels
        block = functools.partial(self.each_block, deadline=deadline, expected=expected)
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
        elif isinstance(self.strategy, IteratedLocalSearch):
            window = self.strategy.window
            block(tour_ils.run_ils, st, n_iters, window, self.target, self.max_stall, trace)
        elif self.tabu_kernel is tabu_tree.run_tabu_tree:
            width = tabu_tree.MEMORY_WIDTH
            memory = self.tabu_memory if state is None else np.zeros((0, width), np.int64)
            block(
                self.tabu_kernel, st, n_iters, self.tabu, self.target, self.max_stall, trace, memory
            )
        elif self.flip_state:
            flip_state = self.flip_state if state is None else _empty_flip_state(st)
            block(
                self.tabu_kernel, st, n_iters, *self.tabu, self.target, self.max_stall, trace,
                *flip_state,
            )
        else:
            block(self.tabu_kernel, st, n_iters, *self.tabu, self.target, self.max_stall, trace)


def _empty_flip_state(st: ReadState) -> tuple:
    """run_tabu_flips' kept deltas for a state of its own (the compile-only calls)."""
    reads, n = st.x_idx.shape
    return np.zeros((reads, n)), np.zeros((reads, n)), np.zeros(reads, dtype=np.int64)


class _CycleClock:
    """Where each iteration of a time-limited anneal is in its cycle (0 = hot, 1 = cold).

    Every cycle follows the clock: its fraction is the time spent in it over
    its span, so each decade of beta gets the same time whatever a sweep
    costs there (hot sweeps flip more and cost more: a span set in sweeps
    from a speed measured hot or cold is off by up to 10x on dense graphs).
    With ``restart_sweeps`` the first cycle spans 1/16 of the budget, and
    each next one the time in which the last one made ``restart_sweeps``
    sweeps; when the time left is less than twice that, the cycle is the
    last and spans what is left. Without ``restart_sweeps`` one cycle spans
    the budget.
    """

    def __init__(self, time_limit: float, restart_sweeps: int | None):
        self.time_limit = time_limit
        self.sweeps = restart_sweeps
        self.cycles = 1
        self.final = True
        self.start_time, self.start_iteration, self.span = 0.0, 0, time_limit
        if restart_sweeps is not None:
            self._begin(0.0, 0, time_limit / 16)

    def _begin(self, end: float, iteration: int, span: float) -> None:
        """Start a cycle at time ``end`` after ``iteration`` iterations, aiming at ``span`` s."""
        left = self.time_limit - end
        self.final = left < 2.0 * span
        self.start_time, self.start_iteration = end, iteration
        self.span = max(left, 1e-9) if self.final else span

    def fractions(self, done: int, times: np.ndarray) -> np.ndarray:
        """Fractions of the iterations ``done + 1, ...``, expected to end at ``times`` (s)."""
        out = np.empty(times.shape[0])
        j = 0
        while j < times.shape[0]:
            f = (times[j:] - self.start_time) / self.span
            ended = [] if self.final else np.nonzero(f >= 1.0)[0]
            stop = times.shape[0] if len(ended) == 0 else j + int(ended[0]) + 1
            out[j:stop] = np.minimum(f[: stop - j], 1.0)
            if len(ended):  # the cycle ends with iteration `stop`: aim the next at the sweeps
                end = float(times[stop - 1])
                sweeps = max(done + stop - self.start_iteration, 1)
                self._begin(end, done + stop, (end - self.start_time) * self.sweeps / sweeps)
                self.cycles += 1
            j = stop
        return out


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
        return self.head + self.tail, [*self.head_iterations, np.array(self.tail_iterations)]


def _search(
    runner: _Runner, max_iterations, time_limit, max_stall, callback, first_expected=None
) -> _Search:
    """Run chunks of iterations until a stopping rule fires; collect traces and progress.

    ``first_expected`` is the predicted seconds of the first chunk (one
    iteration), when the caller knows it is short (see :meth:`_Runner.each_block`);
    later chunks are predicted from the last one.
    """
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
        cycle_clock = _CycleClock(time_limit, runner.strategy.restart_sweeps)
    per_iteration = 0.0
    while True:
        if max_iterations is not None and done >= max_iterations:
            break
        n_iters = chunk if max_iterations is None else min(chunk, max_iterations - done)
        trace = np.full((num_reads, n_iters), np.nan)
        t_chunk = time.perf_counter()
        if follow_clock:
            ahead = per_iteration * np.arange(1, n_iters + 1)
            runner.follow_clock(
                cycle_clock.fractions(done, t_chunk - t_solve + ahead)
            )
        # A chunk's time is predicted from the last one's.
        expected = per_iteration * n_iters if per_iteration > 0 else first_expected
        runner.run(done, n_iters, trace, deadline=deadline, expected=expected)
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
        if follow_clock and per_iteration > 0:
            # Beta follows predicted times: a chunk spans at most 2% of a cycle, so that a
            # speed change (hot sweeps cost more than cold ones) cannot skip part of it.
            chunk = max(1, min(chunk, int(0.02 * cycle_clock.span / per_iteration)))
    if follow_clock and runner.strategy.restart_sweeps is not None:
        runner.info["cycles"] = cycle_clock.cycles
    traces, trace_iters = recorder.columns()
    seconds = time.perf_counter() - t_solve
    return _Search(traces, trace_iters, best_trace, done, stop_reason, seconds)


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
