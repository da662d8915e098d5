"""Tabu search over two-valued domains on sparse couplings, O(degree log n) a move.

The scan kernel (:func:`combopt._kernels.strategies.run_tabu_flips`) reads all
``n`` flip deltas to choose each move; on a sparse problem a move changes only
the deltas of the flipped variable and its neighbours, so this kernel keeps
the deltas (``gain``) in two *tournament trees* and pays ``O(log n)`` per
changed delta instead:

* the ``all`` tree holds every variable's delta;
* the ``free`` tree holds the delta of every variable that is not tabu, and
  ``+inf`` for the tabu ones.

Each internal node stores the minimum of its subtree and how many leaves
attain it, so the best admissible move is read at the root: if the overall
minimum aspirates (beats the best energy), every move attaining it is
admissible and the ``all`` tree is used, otherwise the ``free`` tree. One draw
``k`` uniform below the root's count and a descent by counts picks the
``k``-th tied move in variable order: ties are broken uniformly at random, as
in the scan kernel (whose reservoir draws differ, so the two kernels follow
different trajectories from the same seed). Tenures end through a ring of
buckets indexed by expiry move, which puts the variable back in ``free``.

Deltas are recomputed from the objective's local fields (the cache, kept in
the read state) rather than accumulated, so the trees rebuilt at the start of
a chunk are exactly those the previous chunk ended with: ``k`` iterations
twice equal ``2k`` once, on real data too.

Two searches run on this structure, both moves chosen as above:

* ``adaptive = 0``: the classic tabu search of the scan kernels (restart from
  the best state with a random perturbation after a stagnation);
* ``adaptive = 1``: breakout local search (Benlic & Hao 2013, Max-Cut):
  steepest descent to a local optimum, then a perturbation of ``L`` moves,
  directed (best admissible tabu moves) with probability
  ``max(exp(-omega / T), P0)`` and random flips otherwise, where ``omega``
  counts the local optima since the best improved. ``L`` grows by one when
  the descent returns to the previous local optimum (a Zobrist hash of the
  assignment tells), falls back to ``L0`` when it finds a new one, and jumps
  to ``Lmax`` (a random perturbation) after ``T`` optima without improvement.
  Its per-read control state lives in a ``memory`` array, shape (R, 6).
"""

from collections import namedtuple

import numpy as np
from numba import njit

from combopt._kernels.quadratic import SparseQuadratic
from combopt._kernels.rng import next_below, next_float, next_u64
from combopt._kernels.strategies import (
    _after_move,
    _load_read,
    _save_best,
    _store_read,
    _tolerance,
)

#: The search's parameters (all int64 but ``p_directed``).
TreeTabuParams = namedtuple(
    "TreeTabuParams",
    [
        "tenure_lo",  # tenure drawn uniformly in tenure_lo..tenure_hi at every move
        "tenure_hi",
        "restart_after",  # classic mode: moves without a new best before a restart (0: never)
        "perturb_count",  # classic mode: variables randomised at a restart
        "adaptive",  # 1: breakout local search; 0: classic tabu with restarts
        "jump_lo",  # BLS: L0, the perturbation length after a new local optimum
        "jump_hi",  # BLS: Lmax, the longest perturbation (and the strong one)
        "omega_limit",  # BLS: T, local optima without improvement before a strong perturbation
        "p_directed",  # BLS: P0, the least probability of a directed perturbation
    ],
)

# Columns of the ``memory`` array (breakout local search's control state).
_LEFT = 0  # perturbation moves still to make (0: descending)
_JUMP = 1  # current perturbation length L
_OMEGA = 2  # local optima since the best improved
_PREV_HASH = 3  # Zobrist hash of the previous local optimum
_DIRECTED = 4  # 1: the current perturbation is directed, 0: random
_IMPROVED = 5  # 1: the best improved since the last local optimum
MEMORY_WIDTH = 6

#: Cost of one tree level (a leaf update climbs ``log2 n`` of them), in reads of a scan.
TREE_LEVEL_COST = 1.0

_HASH_SALT = np.uint64(0x5DEECE66D2545F49)
_ONE = np.uint64(1)


@njit(cache=True, inline="always")
def _zobrist(i):
    """A 63-bit random key of variable ``i`` (the hash of the assignment XORs the ones at 1)."""
    _, z = next_u64(np.uint64(i) ^ _HASH_SALT)
    return np.int64(z >> _ONE)


@njit(cache=True, inline="always")
def _pull(key, count, node):
    """Recompute ``node`` from its children; True when it changed."""
    left = 2 * node
    kl = key[left]
    kr = key[left + 1]
    if kl < kr:
        k, c = kl, count[left]
    elif kr < kl:
        k, c = kr, count[left + 1]
    else:
        k, c = kl, count[left] + count[left + 1]
    changed = k != key[node] or c != count[node]
    key[node] = k
    count[node] = c
    return changed


@njit(cache=True, inline="always")
def _set_leaf(key, count, size, i, value):
    """Set leaf ``i`` to ``value``; update its ancestors while they change."""
    node = size + i
    if key[node] == value:
        return
    key[node] = value
    node >>= 1
    while node >= 1 and _pull(key, count, node):
        node >>= 1


@njit(cache=True)
def _build(key, count, size):
    for node in range(size - 1, 0, -1):
        _pull(key, count, node)


@njit(cache=True, inline="always")
def _pick(key, count, size, rng):
    """A leaf attaining the root's minimum, uniformly at random (the k-th in index order)."""
    rng, k = next_below(rng, count[1])
    best = key[1]
    node = 1
    while node < size:
        left = 2 * node
        if key[left] == best:
            if key[left + 1] != best or k < count[left]:
                node = left
                continue
            k -= count[left]
        node = left + 1
    return rng, node - size


@njit(cache=True, inline="always")
def _gain(problem, values, offsets, x, fields, i):
    """Energy change of flipping ``i``, from its field: the arithmetic of ``obj_deltas``."""
    start = offsets[i]
    current = values[start + x[i]]
    step = values[start + 1 - x[i]] - current
    gradient = problem.linear[i] + fields[i] + 2.0 * problem.diag[i] * current
    return step * (gradient + problem.diag[i] * step)


@njit(cache=True, inline="always")
def _unlink(head, nxt, prv, bucket, v):
    if prv[v] >= 0:
        nxt[prv[v]] = nxt[v]
    else:
        head[bucket] = nxt[v]
    if nxt[v] >= 0:
        prv[nxt[v]] = prv[v]


@njit(cache=True, inline="always")
def _link(head, nxt, prv, bucket, v):
    nxt[v] = head[bucket]
    prv[v] = -1
    if head[bucket] >= 0:
        prv[head[bucket]] = v
    head[bucket] = v


@njit(cache=True)
def _rebuild(problem, values, offsets, st, r, gain, trees, head, nxt, prv):
    """Deltas, trees and tenure buckets from the read state; returns the assignment's hash."""
    x = st.x_idx[r]
    fields = st.cache[r]
    tabu_until = st.tabu_until[r]
    clock = st.clock[r]
    akey, acount, fkey, fcount = trees
    size = akey.shape[0] // 2
    ring = head.shape[0]
    head[:] = -1
    akey[size:] = np.inf
    fkey[size:] = np.inf
    acount[size:] = 1
    fcount[size:] = 1
    h = np.int64(0)
    for i in range(x.shape[0]):
        g = _gain(problem, values, offsets, x, fields, i)
        gain[i] = g
        akey[size + i] = g
        if tabu_until[i] > clock:
            _link(head, nxt, prv, tabu_until[i] % ring, i)
        else:
            fkey[size + i] = g
        if x[i] == 1:
            h ^= _zobrist(i)
    _build(akey, acount, size)
    _build(fkey, fcount, size)
    return h


@njit(cache=True, inline="always")
def _flip(problem, values, offsets, x, fields, gain, trees, tabu_until, clock, i):
    """Flip ``i``; refresh the fields, deltas and leaves of ``i`` and its neighbours.

    Returns the number of deltas recomputed (``1 + degree``).
    """
    akey, acount, fkey, fcount = trees
    size = akey.shape[0] // 2
    start = offsets[i]
    s = values[start + 1 - x[i]] - values[start + x[i]]
    x[i] = 1 - x[i]
    lo = problem.indptr[i]
    hi = problem.indptr[i + 1]
    for p in range(lo, hi):
        t = problem.indices[p]
        fields[t] += s * problem.data[p]
        g = _gain(problem, values, offsets, x, fields, t)
        gain[t] = g
        _set_leaf(akey, acount, size, t, g)
        if tabu_until[t] <= clock:
            _set_leaf(fkey, fcount, size, t, g)
    g = _gain(problem, values, offsets, x, fields, i)
    gain[i] = g
    _set_leaf(akey, acount, size, i, g)
    if tabu_until[i] <= clock:
        _set_leaf(fkey, fcount, size, i, g)
    return 1 + hi - lo


@njit(cache=True, inline="always")
def _best_admissible(trees, size, aspiration, rng):
    """The best move that is not tabu or aspirates (ties uniform); -1 when there is none."""
    akey, acount, fkey, fcount = trees
    if akey[1] < aspiration:  # every move attaining the minimum beats the best energy
        return _pick(akey, acount, size, rng)
    if fkey[1] < np.inf:
        return _pick(fkey, fcount, size, rng)
    return rng, -1


@njit(cache=True)
def _local_optimum(mem, h, prm, rng):
    """Breakout local search at a local optimum: set the next perturbation's length and kind."""
    omega = 0 if mem[_IMPROVED] != 0 else mem[_OMEGA] + 1
    mem[_IMPROVED] = 0
    if omega > prm.omega_limit:  # stuck: a strong random perturbation
        jump = prm.jump_hi
        omega = 0
        directed = 0
    else:
        # Back at the previous optimum: the last perturbation was too weak.
        jump = min(mem[_JUMP] + 1, prm.jump_hi) if h == mem[_PREV_HASH] else prm.jump_lo
        rng, u = next_float(rng)
        directed = 1 if u < max(np.exp(-omega / prm.omega_limit), prm.p_directed) else 0
    mem[_PREV_HASH] = h
    mem[_OMEGA] = omega
    mem[_JUMP] = jump
    mem[_LEFT] = jump
    mem[_DIRECTED] = directed
    return rng


@njit(cache=True)
def _tree_read(problem, values, offsets, st, r, n_iters, prm, target, max_stall, trace, mem, work):
    x = st.x_idx[r]
    fields = st.cache[r]
    n = x.shape[0]
    tabu_until = st.tabu_until[r]
    gain, trees, head, nxt, prv = work
    size = trees[0].shape[0] // 2
    ring = head.shape[0]
    energy, best, rng, evaluations, stall = _load_read(st, r)
    h = _rebuild(problem, values, offsets, st, r, gain, trees, head, nxt, prv)
    restart_after = 0 if prm.adaptive else prm.restart_after
    for it in range(n_iters):
        if st.stop[0] != 0 or (max_stall > 0 and stall >= max_stall):
            break
        improved = False
        for _ in range(n):
            if st.stop[0] != 0:
                break
            clock = st.clock[r]
            # Tenures ending now: those variables are admissible again.
            bucket = clock % ring
            v = head[bucket]
            while v >= 0:
                _set_leaf(trees[2], trees[3], size, v, gain[v])
                v = nxt[v]
            head[bucket] = -1
            st.clock[r] = clock + 1
            move = -1
            if prm.adaptive and mem[_LEFT] == 0:
                if trees[0][1] < -_tolerance(energy):  # descending: the best improving move
                    rng, move = _pick(trees[0], trees[1], size, rng)
                else:
                    rng = _local_optimum(mem, h, prm, rng)
            if move < 0 and (prm.adaptive == 0 or mem[_LEFT] > 0):
                if prm.adaptive and mem[_DIRECTED] == 0:
                    rng, move = next_below(rng, n)
                else:
                    aspiration = best - _tolerance(best) - energy
                    rng, move = _best_admissible(trees, size, aspiration, rng)
                if prm.adaptive:
                    mem[_LEFT] -= 1
            if move < 0:
                continue  # every move is tabu and none aspirates: let the tenure expire
            delta = gain[move]
            if delta > 0.0 and st.pending[r] != 0:
                _save_best(st, r)
            tenure = prm.tenure_lo
            if prm.tenure_hi > prm.tenure_lo:
                rng, extra = next_below(rng, prm.tenure_hi - prm.tenure_lo + 1)
                tenure += extra
            if tabu_until[move] > clock:  # an aspirating tabu move: its old tenure ends early
                _unlink(head, nxt, prv, tabu_until[move] % ring, move)
            tabu_until[move] = clock + 1 + tenure
            _link(head, nxt, prv, tabu_until[move] % ring, move)
            _set_leaf(trees[2], trees[3], size, move, np.inf)
            evaluations += _flip(problem, values, offsets, x, fields, gain, trees, tabu_until, clock, move)
            h ^= _zobrist(move)
            energy += delta
            energy, best, rng, new_best, restarted = _after_move(
                problem, values, offsets, st, r, energy, best, restart_after, prm.perturb_count, rng
            )
            if restarted:
                h = _rebuild(problem, values, offsets, st, r, gain, trees, head, nxt, prv)
            if new_best:
                improved = True
                mem[_IMPROVED] = 1
                if best <= target:
                    break
        stall = 0 if improved else stall + 1
        trace[r, it] = energy
        if best <= target:
            st.stop[0] = 1
    _store_read(st, r, energy, best, rng, evaluations, stall)


@njit(cache=True, nogil=True)
def run_tabu_tree(
    problem, values, offsets, st, lo, hi, n_iters, prm, target, max_stall, trace, memory
):
    """Tabu search (classic or breakout) on reads ``lo..hi-1`` of a sparse two-valued problem.

    ``problem`` is a :class:`~combopt._kernels.quadratic.SparseQuadratic`;
    ``prm`` a :data:`TreeTabuParams`; ``memory``, shape (R, 6) int64, the
    breakout search's per-read state (zeros at the start of a run). Every
    iteration is ``n`` moves, each ``O((1 + degree) log n)``.
    """
    n = st.x_idx.shape[1]
    size = 1  # leaves of the trees: the least power of two >= n
    while size < n:
        size *= 2
    for r in range(lo, hi):
        trees = (
            np.full(2 * size, np.inf), np.ones(2 * size, dtype=np.int64),
            np.full(2 * size, np.inf), np.ones(2 * size, dtype=np.int64),
        )
        work = (
            np.empty(n), trees, np.full(prm.tenure_hi + 2, -1, dtype=np.int64),
            np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64),
        )
        _tree_read(problem, values, offsets, st, r, n_iters, prm, target, max_stall, trace,
                   memory[r], work)


def as_sparse(problem):
    """The :class:`~combopt._kernels.quadratic.SparseQuadratic` of a dense quadratic kind."""
    if isinstance(problem, SparseQuadratic):
        return problem
    couplings = problem.couplings
    rows, cols = np.nonzero(couplings)
    indptr = np.zeros(couplings.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=couplings.shape[0]), out=indptr[1:])
    return SparseQuadratic(
        indptr, cols.astype(np.int64), np.ascontiguousarray(couplings[rows, cols]),
        problem.diag, problem.linear, problem.offset,
    )


def tree_is_cheaper(problem) -> bool:
    """True when tree moves cost less than a scan of every delta, on this problem's couplings.

    A scan costs about ``n`` reads a move; the tree about ``(1 + degree)``
    leaf updates of ``log2 n`` levels each, at ``TREE_LEVEL_COST`` scan reads a
    level (measured, see docs/engine.md), ``degree`` the mean degree.
    """
    if isinstance(problem, SparseQuadratic):
        n = problem.indptr.shape[0] - 1
        links = problem.indptr[-1]
    else:
        n = problem.couplings.shape[0]
        links = np.count_nonzero(problem.couplings)
    if n < 2:
        return False
    return TREE_LEVEL_COST * (1.0 + links / n) * np.log2(n) < n
