"""Search strategies built on one primitive: "try every value of one coordinate".

Every kernel here runs a block of reads ``lo..hi-1`` for a chunk of iterations
and keeps all of its state in a :data:`ReadState`, so
calling it twice with ``k`` iterations is exactly calling it once with ``2k``:
the Python driver chunks runs to check time limits and report progress without
changing what a fixed-iteration run computes. An *iteration* is ``n``
coordinate steps (``n`` = number of variables) for every strategy: ``n``
random picks for ``paper`` and ``anneal``, ``n`` moves for ``tabu``.

The kernels are serial and release the GIL (``nogil=True``): the Python
driver runs blocks of reads on a thread pool. Reads are independent, so the
result does not depend on the number of threads, and a single-read run pays no
thread start-up at all (a numba ``prange`` region costs milliseconds to launch
on a loaded machine, at every chunk).

Best-so-far states are saved without an O(n) copy per improvement: tabu sets
``pending`` at a new best and copies the assignment only before an uphill move
leaves it (or when the run ends); annealing saves the state at the end of a
sweep when it beats the saved best; the paper's rule never goes uphill, so its
current state is its best.
"""

from collections import namedtuple

import numpy as np
from numba import njit

from combopt._kernels.protocol import obj_apply, obj_deltas, obj_flip, obj_init
from combopt._kernels.rng import next_below, next_float

#: Per-read state, every field indexed by read first (``stop`` is shared).
ReadState = namedtuple(
    "ReadState",
    [
        "x_idx",  # (R, n) int64: current value index of every variable
        "cache",  # (R, L) float64: the objective's cached quantities
        "energy",  # (R,) float64: current energy (incrementally updated)
        "best_idx",  # (R, n) int64: best assignment saved so far
        "best_energy",  # (R,) float64
        "pending",  # (R,) int64: 1 when the current state is a best not yet saved
        "rng",  # (R,) uint64: splitmix64 state
        "evaluations",  # (R,) int64: candidate values tried other than the current one
        "stall",  # (R,) int64: iterations since the best energy last improved
        "moves_since_best",  # (R,) int64: tabu moves since the best improved
        "clock",  # (R,) int64: tabu move counter (the tenure's time axis)
        "tabu_until",  # (R, n) int64: move number until which a variable is tabu
        "stop",  # (1,) int64: nonzero stops every read (1 target, 2 time limit, 3 interrupt)
    ],
)

_EXP_CUT = 40.0  # exp(-40) < 5e-18: beyond it a heat-bath probability is 0 or 1 in float64
_REL_TOL = 1e-12


@njit(cache=True, inline="always")
def _tolerance(energy):
    """Smallest energy change treated as real (relative to the energy's size)."""
    return _REL_TOL * max(1.0, abs(energy))


@njit(cache=True, inline="always")
def _domain_size(offsets, i):
    return offsets[i + 1] - offsets[i]


@njit(cache=True, inline="always")
def _paper_choice(out, m, current):
    """Algorithm 2's rule: scan the values in order, keep any ``<=`` the best so far.

    The current value (delta 0) is the starting best, so among ties the last in
    domain order wins, exactly as ``if e <= e_opt`` in the paper.
    """
    if m == 2:  # binary fast path, same rule: the other value wins if better, or tied and later
        other = 1 - current
        return other if out[other] < 0.0 or (out[other] == 0.0 and other == 1) else current
    choice = current
    best = 0.0
    for k in range(m):
        if out[k] <= best:
            best = out[k]
            choice = k
    return choice


@njit(cache=True, inline="always")
def _heat_bath_choice(out, m, current, beta, rng):
    """Draw a value with probability proportional to ``exp(-beta * delta)``."""
    if beta == np.inf:
        return rng, _paper_choice(out, m, current)
    if m == 2:  # binary fast path: one candidate besides the current value
        other = 1 - current
        z = beta * out[other]
        if z >= _EXP_CUT:
            return rng, current
        if z <= -_EXP_CUT:
            return rng, other
        rng, u = next_float(rng)
        return rng, other if u * (1.0 + np.exp(z)) < 1.0 else current
    lowest = out[0]
    for k in range(1, m):
        lowest = min(lowest, out[k])
    total = 0.0
    for k in range(m):
        total += np.exp(-beta * (out[k] - lowest))
    rng, u = next_float(rng)
    threshold = u * total
    acc = 0.0
    for k in range(m):
        acc += np.exp(-beta * (out[k] - lowest))
        if threshold < acc:
            return rng, k
    return rng, m - 1


@njit(cache=True, inline="always")
def _metropolis_choice(out, m, current, beta, rng):
    """Propose one other value uniformly; accept it with probability min(1, exp(-beta delta))."""
    if beta == np.inf:
        return rng, _paper_choice(out, m, current)
    if m == 1:
        return rng, current
    if m == 2:
        proposal = 1 - current
    else:
        rng, j = next_below(rng, m - 1)
        proposal = j if j < current else j + 1
    z = beta * out[proposal]
    if z <= 0.0:  # downhill or level: always accepted, no random draw needed
        return rng, proposal
    if z >= _EXP_CUT:
        return rng, current
    rng, u = next_float(rng)
    return rng, proposal if u < np.exp(-z) else current


@njit(cache=True, inline="always")
def _save_best(st, r):
    st.best_idx[r, :] = st.x_idx[r, :]
    st.pending[r] = 0


@njit(cache=True)
def _load_read(st, r):
    """A read's running values at a chunk's start: ``(energy, best, rng, evaluations, stall)``."""
    return st.energy[r], st.best_energy[r], st.rng[r], st.evaluations[r], st.stall[r]


@njit(cache=True)
def _store_read(st, r, energy, best, rng, evaluations, stall):
    """Write a read's running values back to the read state at the end of a chunk."""
    st.energy[r] = energy
    st.best_energy[r] = best
    st.rng[r] = rng
    st.evaluations[r] = evaluations
    st.stall[r] = stall


@njit(cache=True)
def _paper_read(problem, values, offsets, st, r, n_iters, target, max_stall, trace, out):
    x = st.x_idx[r]
    cache = st.cache[r]
    n = x.shape[0]
    energy = st.energy[r]
    rng = st.rng[r]
    evaluations = st.evaluations[r]
    stall = st.stall[r]
    for it in range(n_iters):
        if st.stop[0] != 0 or (max_stall > 0 and stall >= max_stall):
            break
        start_energy = energy
        for _ in range(n):
            if st.stop[0] != 0:  # time limit, interrupt or target: leave mid-iteration
                break
            rng, i = next_below(rng, n)
            obj_deltas(problem, values, offsets, x, cache, i, out)
            m = _domain_size(offsets, i)
            evaluations += m - 1
            choice = _paper_choice(out, m, x[i])
            if choice != x[i]:
                delta = out[choice]
                obj_apply(problem, values, offsets, x, cache, i, choice)
                energy += delta
        # Algorithm 2 never goes uphill, so the current state is always the best.
        stall = stall + 1 if energy >= start_energy - _tolerance(energy) else 0
        trace[r, it] = energy
        if energy <= target:
            st.stop[0] = 1
    st.energy[r] = energy
    st.best_energy[r] = energy
    st.pending[r] = 1
    st.rng[r] = rng
    st.evaluations[r] = evaluations
    st.stall[r] = stall


@njit(cache=True)
def _anneal_read(
    problem, values, offsets, st, r, betas, sequential, metropolis, target, max_stall, trace, out
):
    x = st.x_idx[r]
    cache = st.cache[r]
    n = x.shape[0]
    energy, best, rng, evaluations, stall = _load_read(st, r)
    for it in range(betas.shape[0]):
        if st.stop[0] != 0 or (max_stall > 0 and stall >= max_stall):
            break
        beta = betas[it]
        for step in range(n):
            if st.stop[0] != 0:  # time limit, interrupt or target: leave mid-sweep
                break
            if sequential:
                i = step
            else:
                rng, i = next_below(rng, n)
            obj_deltas(problem, values, offsets, x, cache, i, out)
            m = _domain_size(offsets, i)
            evaluations += m - 1
            if metropolis:
                rng, choice = _metropolis_choice(out, m, x[i], beta, rng)
            else:
                rng, choice = _heat_bath_choice(out, m, x[i], beta, rng)
            if choice != x[i]:
                energy += out[choice]
                obj_apply(problem, values, offsets, x, cache, i, choice)
                if energy <= target:
                    break
        # Save at the end of a sweep (or on reaching the target), not at every new
        # low: annealing passes through many transient lows, and copying the
        # assignment at each would cost O(n) per step on a large problem.
        if energy < best - _tolerance(best) or (energy <= target and energy < best):
            best = energy
            _save_best(st, r)
            stall = 0
        else:
            stall += 1
        trace[r, it] = energy
        if best <= target:
            st.stop[0] = 1
    _store_read(st, r, energy, best, rng, evaluations, stall)


@njit(cache=True, inline="always")
def _consider(d, i, k, move_delta, move_i, move_k, ties, rng):
    """Keep move (i, k) if it beats the best so far; uniform choice among equal ones."""
    if d < move_delta:
        return rng, d, i, k, 1
    ties += 1  # d == move_delta: reservoir sampling over the tied moves
    rng, pick = next_below(rng, ties)
    if pick == 0:
        return rng, d, i, k, ties
    return rng, move_delta, move_i, move_k, ties


@njit(cache=True)
def _tabu_restart(problem, values, offsets, st, r, perturb_count, rng):
    """Restart a stagnated tabu read from its best state, with random perturbations.

    The perturbations are protocol moves (``obj_apply``), so an objective that
    keeps its assignment feasible (a permutation's swap) stays feasible.
    """
    if st.pending[r] != 0:
        _save_best(st, r)
    x = st.x_idx[r]
    cache = st.cache[r]
    x[:] = st.best_idx[r]
    obj_init(problem, values, offsets, x, cache)
    n = x.shape[0]
    for _ in range(perturb_count):
        rng, i = next_below(rng, n)
        rng, k = next_below(rng, _domain_size(offsets, i))
        if k != x[i]:
            obj_apply(problem, values, offsets, x, cache, i, k)
    st.tabu_until[r, :] = 0
    st.moves_since_best[r] = 0
    # A fresh evaluation also clears any rounding drift of the incremental energy.
    return rng, obj_init(problem, values, offsets, x, cache)


@njit(cache=True)
def _after_move(problem, values, offsets, st, r, energy, best, restart_after, perturb_count, rng):
    """A tabu move's bookkeeping: a new best, or one move closer to a restart.

    Returns ``(energy, best, rng, new_best, restarted)``.
    """
    if energy < best - _tolerance(best):
        st.pending[r] = 1
        st.moves_since_best[r] = 0
        return energy, energy, rng, True, False
    st.moves_since_best[r] += 1
    if restart_after > 0 and st.moves_since_best[r] >= restart_after:
        rng, energy = _tabu_restart(problem, values, offsets, st, r, perturb_count, rng)
        return energy, best, rng, False, True
    return energy, best, rng, False, False


@njit(cache=True)
def _tabu_read(
    problem, values, offsets, st, r, n_iters, tenure, restart_after, perturb_count,
    target, max_stall, trace, out,
):
    x = st.x_idx[r]
    cache = st.cache[r]
    n = x.shape[0]
    energy, best, rng, evaluations, stall = _load_read(st, r)
    tabu_until = st.tabu_until[r]
    for it in range(n_iters):
        if st.stop[0] != 0 or (max_stall > 0 and stall >= max_stall):
            break
        improved = False
        for _ in range(n):
            if st.stop[0] != 0:  # time limit, interrupt or target: leave mid-iteration
                break
            clock = st.clock[r]
            aspiration = best - _tolerance(best) - energy
            move_delta = np.inf
            move_i = -1
            move_k = -1
            ties = 0
            for i in range(n):
                obj_deltas(problem, values, offsets, x, cache, i, out)
                m = _domain_size(offsets, i)
                evaluations += m - 1
                is_tabu = tabu_until[i] > clock
                if m == 2:  # binary fast path: the one candidate is the other value
                    k = 1 - x[i]
                    if out[k] <= move_delta and (not is_tabu or out[k] < aspiration):
                        rng, move_delta, move_i, move_k, ties = _consider(
                            out[k], i, k, move_delta, move_i, move_k, ties, rng
                        )
                    continue
                for k in range(m):
                    if k != x[i] and out[k] <= move_delta and (not is_tabu or out[k] < aspiration):
                        rng, move_delta, move_i, move_k, ties = _consider(
                            out[k], i, k, move_delta, move_i, move_k, ties, rng
                        )
            st.clock[r] = clock + 1
            # Every move tabu and none aspirating (or, a kind with +inf deltas, none a move):
            # let the tenure expire.
            if move_i < 0 or move_delta == np.inf:
                continue
            if move_delta > 0.0 and st.pending[r] != 0:
                _save_best(st, r)
            obj_apply(problem, values, offsets, x, cache, move_i, move_k)
            energy += move_delta
            tabu_until[move_i] = clock + 1 + tenure
            energy, best, rng, new_best, _ = _after_move(
                problem, values, offsets, st, r, energy, best, restart_after, perturb_count, rng
            )
            if new_best:
                improved = True
                if best <= target:
                    break
        stall = 0 if improved else stall + 1
        trace[r, it] = energy
        if best <= target:
            st.stop[0] = 1
    _store_read(st, r, energy, best, rng, evaluations, stall)


@njit(cache=True, inline="always")
def _flip_deltas(problem, values, offsets, x, cache, step, gain, out):
    """Every variable's flip delta and value change, from ``obj_deltas`` (two-valued domains)."""
    for i in range(x.shape[0]):
        obj_deltas(problem, values, offsets, x, cache, i, out)
        k = 1 - x[i]
        gain[i] = out[k]
        step[i] = values[offsets[i] + k] - values[offsets[i] + x[i]]


@njit(cache=True)
def _tabu_flips_read(
    problem, values, offsets, st, r, n_iters, tenure, restart_after, perturb_count,
    target, max_stall, trace, out, step, gain, ready,
):
    """:func:`_tabu_read` over two-valued domains, reading the moves' deltas from ``gain``.

    ``obj_flip`` keeps ``gain`` (every flip's delta) up to date after each
    move, so choosing the best admissible move is one pass over ``n`` numbers.
    The choices, ties and random draws are those of :func:`_tabu_read`: on
    exact (integer) data both follow the same trajectory. ``gain`` and
    ``step`` persist across calls (computed here when ``ready[r]`` is 0): a
    chunked run accumulates them exactly as one long run does, on real data too.
    """
    x = st.x_idx[r]
    cache = st.cache[r]
    n = x.shape[0]
    energy, best, rng, evaluations, stall = _load_read(st, r)
    tabu_until = st.tabu_until[r]
    if ready[r] == 0:
        _flip_deltas(problem, values, offsets, x, cache, step, gain, out)
        ready[r] = 1
    for it in range(n_iters):
        if st.stop[0] != 0 or (max_stall > 0 and stall >= max_stall):
            break
        improved = False
        for _ in range(n):
            if st.stop[0] != 0:  # time limit, interrupt or target: leave mid-iteration
                break
            clock = st.clock[r]
            aspiration = best - _tolerance(best) - energy
            move_delta = np.inf
            move_i = -1
            ties = 0
            for i in range(n):
                d = gain[i]
                if d <= move_delta and (tabu_until[i] <= clock or d < aspiration):
                    rng, move_delta, move_i, _, ties = _consider(
                        d, i, 0, move_delta, move_i, 0, ties, rng
                    )
            evaluations += n
            st.clock[r] = clock + 1
            if move_i < 0:
                continue  # every move is tabu and none aspirates: let the tenure expire
            if move_delta > 0.0 and st.pending[r] != 0:
                _save_best(st, r)
            obj_flip(problem, values, offsets, x, cache, move_i, step, gain)
            energy += move_delta
            tabu_until[move_i] = clock + 1 + tenure
            energy, best, rng, new_best, restarted = _after_move(
                problem, values, offsets, st, r, energy, best, restart_after, perturb_count, rng
            )
            if restarted:
                _flip_deltas(problem, values, offsets, x, cache, step, gain, out)
            if new_best:
                improved = True
                if best <= target:
                    break
        stall = 0 if improved else stall + 1
        trace[r, it] = energy
        if best <= target:
            st.stop[0] = 1
    _store_read(st, r, energy, best, rng, evaluations, stall)


@njit(cache=True, nogil=True)
def run_paper(problem, values, offsets, st, lo, hi, n_iters, target, max_stall, trace):
    """Algorithm 2 for ``n_iters`` iterations on reads ``lo..hi-1``."""
    width = np.max(offsets[1:] - offsets[:-1])
    for r in range(lo, hi):
        out = np.empty(width, dtype=np.float64)
        _paper_read(problem, values, offsets, st, r, n_iters, target, max_stall, trace, out)


@njit(cache=True, nogil=True)
def run_anneal(
    problem, values, offsets, st, lo, hi, betas, sequential, metropolis, target, max_stall, trace
):
    """Annealing on reads ``lo..hi-1``, one iteration per entry of ``betas``.

    ``sequential`` visits the coordinates in order in every sweep; otherwise
    each step picks a coordinate uniformly at random. ``metropolis`` uses the
    Metropolis rule instead of the heat bath.
    """
    width = np.max(offsets[1:] - offsets[:-1])
    for r in range(lo, hi):
        out = np.empty(width, dtype=np.float64)
        _anneal_read(
            problem, values, offsets, st, r, betas, sequential, metropolis, target, max_stall,
            trace, out,
        )


@njit(cache=True, nogil=True)
def run_tabu(
    problem, values, offsets, st, lo, hi, n_iters, tenure, restart_after, perturb_count,
    target, max_stall, trace,
):
    """Tabu search on reads ``lo..hi-1``: ``n_iters * n`` best-admissible moves each."""
    width = np.max(offsets[1:] - offsets[:-1])
    for r in range(lo, hi):
        out = np.empty(width, dtype=np.float64)
        _tabu_read(
            problem, values, offsets, st, r, n_iters, tenure, restart_after, perturb_count,
            target, max_stall, trace, out,
        )


@njit(cache=True, nogil=True)
def run_tabu_flips(
    problem, values, offsets, st, lo, hi, n_iters, tenure, restart_after, perturb_count,
    target, max_stall, trace, steps, gains, ready,
):
    """:func:`run_tabu` for a kind with ``obj_flip`` over two-valued domains (faster).

    ``steps`` and ``gains`` (R, n) hold each read's flip value changes and
    deltas across calls, valid where ``ready[r]`` is 1 (filled on a read's
    first call), so that chunking never changes what is accumulated.
    """
    for r in range(lo, hi):
        out = np.empty(2, dtype=np.float64)
        _tabu_flips_read(
            problem, values, offsets, st, r, n_iters, tenure, restart_after, perturb_count,
            target, max_stall, trace, out, steps[r], gains[r], ready,
        )


@njit(cache=True)
def _polish_read(problem, values, offsets, st, r, max_sweeps, out):
    x = st.x_idx[r]
    cache = st.cache[r]
    n = x.shape[0]
    if st.pending[r] != 0:
        _save_best(st, r)
    x[:] = st.best_idx[r]
    energy = obj_init(problem, values, offsets, x, cache)
    evaluations = st.evaluations[r]
    for _ in range(max_sweeps):
        changed = False
        for i in range(n):
            if st.stop[0] != 0:  # the polish's own time budget ran out: keep what it has
                break
            obj_deltas(problem, values, offsets, x, cache, i, out)
            m = _domain_size(offsets, i)
            evaluations += m - 1
            choice = x[i]
            best_delta = -_tolerance(energy)
            for k in range(m):
                if out[k] < best_delta:
                    best_delta = out[k]
                    choice = k
            if choice != x[i]:
                obj_apply(problem, values, offsets, x, cache, i, choice)
                energy += best_delta
                changed = True
        if not changed:
            break
    st.best_idx[r, :] = x
    st.best_energy[r] = energy
    st.energy[r] = energy
    st.evaluations[r] = evaluations


@njit(cache=True)
def _finish_read(problem, values, offsets, st, r, polish, max_sweeps, out):
    if polish:
        _polish_read(problem, values, offsets, st, r, max_sweeps, out)
    elif st.pending[r] != 0:
        _save_best(st, r)


@njit(cache=True, nogil=True)
def finish(problem, values, offsets, st, lo, hi, polish, max_sweeps):
    """End a run: save pending bests and, if ``polish``, descend to a 1-coordinate optimum.

    The polish is a zero-temperature pass: sequential sweeps that move a
    coordinate only to a strictly better value, until a sweep changes nothing.
    """
    width = np.max(offsets[1:] - offsets[:-1])
    for r in range(lo, hi):
        _finish_read(problem, values, offsets, st, r, polish, max_sweeps, np.empty(width))


@njit(cache=True)
def _initialize_read(problem, values, offsets, st, r):
    energy = obj_init(problem, values, offsets, st.x_idx[r], st.cache[r])
    st.energy[r] = energy
    st.best_energy[r] = energy
    st.best_idx[r, :] = st.x_idx[r]
    st.pending[r] = 0


@njit(cache=True, nogil=True)
def initialize(problem, values, offsets, st, lo, hi):
    """Fill the caches of reads ``lo..hi-1`` from their ``x_idx``; set energies and bests."""
    for r in range(lo, hi):
        _initialize_read(problem, values, offsets, st, r)


@njit(cache=True)
def delta_scale(problem, values, offsets, st):
    """Largest and smallest nonzero ``|delta|`` over every coordinate of read 0.

    Used to choose a default annealing temperature range from the problem's
    own energy scale, the way dimod samplers do from the fields.
    """
    largest = 0.0
    smallest = np.inf
    if st.x_idx.shape[0] == 0:  # the compile-only call
        return largest, smallest
    x = st.x_idx[0]
    cache = st.cache[0]
    out = np.empty(np.max(offsets[1:] - offsets[:-1]), dtype=np.float64)
    for i in range(x.shape[0]):
        obj_deltas(problem, values, offsets, x, cache, i, out)
        for k in range(_domain_size(offsets, i)):
            d = abs(out[k])
            if d == np.inf:  # not a move (the successor tour kind's non-candidates)
                continue
            largest = max(largest, d)
            if d > 0.0:
                smallest = min(smallest, d)
    return largest, smallest
