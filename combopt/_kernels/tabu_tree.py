"""Tabu search over two-valued domains on sparse couplings, O(degree log n) a move.

The scan kernel (:func:`combopt._kernels.strategies.run_tabu_flips`) reads all
``n`` flip deltas to choose each move; on a sparse problem a move changes only
the deltas of the flipped variable and its neighbours, so this kernel keeps
the deltas (``gain``) in two *tournament trees* and pays ``O(log n)`` per
changed delta instead:

* the ``all`` tree holds every variable's delta;
* the ``free`` tree holds the delta of every variable that is not tabu, and
  ``+inf`` for the tabu ones.

Both live in one array of shape ``(2 size, 4)`` (``size`` the least power of
two >= n; node ``k``'s children are ``2k`` and ``2k + 1``, leaf ``i`` is row
``size + i``), columns (minimum, count) of ``all`` then of ``free``: a leaf
update climbs once for both, one cache line per level.

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

With ``prm.tree = 0`` the same kernel finds each move by scanning the deltas
instead (two passes: the minima and counts, then the ``k``-th tied move), which
makes the same choices from the same draws; it serves dense couplings and the
tests.

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
    _load_read,
    _save_best,
    _store_read,
    _tabu_restart,
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
        "tree",  # 1: moves chosen by the trees; 0: by scans of every delta (the same choices)
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

#: Couplings sparser than this (a fraction of all pairs) get trees and breakout local search.
SPARSE_DENSITY = 0.05

# Columns of the tree array: (minimum, count) of every delta, then of the free ones.
# Siblings' rows are adjacent, so a climb reads one cache line per level for both.
_ALL = 0
_FREE = 2

_HASH_SALT = np.uint64(0x5DEECE66D2545F49)
_ONE = np.uint64(1)


@njit(cache=True, inline="always")
def _zobrist(i):
    """A 63-bit random key of variable ``i`` (the hash of the assignment XORs the ones at 1)."""
    _, z = next_u64(np.uint64(i) ^ _HASH_SALT)
    return np.int64(z >> _ONE)


@njit(cache=True, inline="always")
def _merge(tree, node, col):
    """Column pair ``col`` (minimum, count) of ``node`` from its children's."""
    left = 2 * node
    kl = tree[left, col]
    kr = tree[left + 1, col]
    if kl < kr:
        return kl, tree[left, col + 1]
    if kr < kl:
        return kr, tree[left + 1, col + 1]
    return kl, tree[left, col + 1] + tree[left + 1, col + 1]


@njit(cache=True, inline="always")
def _pull(tree, node):
    """Recompute ``node`` of both trees from its children; True when it changed."""
    ka, ca = _merge(tree, node, _ALL)
    kf, cf = _merge(tree, node, _FREE)
    row = tree[node]
    changed = ka != row[0] or ca != row[1] or kf != row[2] or cf != row[3]
    row[0] = ka
    row[1] = ca
    row[2] = kf
    row[3] = cf
    return changed


@njit(cache=True, inline="always")
def _set_leaf(tree, size, i, delta, free_delta):
    """Set leaf ``i`` of both trees; update the ancestors while they change."""
    node = size + i
    if tree[node, 0] == delta and tree[node, 2] == free_delta:
        return
    tree[node, 0] = delta
    tree[node, 2] = free_delta
    node >>= 1
    while node >= 1 and _pull(tree, node):
        node >>= 1


@njit(cache=True)
def _build(tree, size):
    for node in range(size - 1, 0, -1):
        _pull(tree, node)


@njit(cache=True, inline="always")
def _pick(tree, size, col, rng):
    """A leaf attaining the root's minimum in column ``col``, uniformly at random.

    One draw ``k`` below the root's count, then a descent by counts to the
    ``k``-th such leaf in index order.
    """
    rng, k = next_below(rng, np.int64(tree[1, col + 1]))
    best = tree[1, col]
    node = 1
    while node < size:
        left = 2 * node
        if tree[left, col] == best:
            if tree[left + 1, col] != best or k < tree[left, col + 1]:
                node = left
                continue
            k -= np.int64(tree[left, col + 1])
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
def _rebuild(problem, values, offsets, st, r, gain, tree, head, nxt, prv, use_tree):
    """Deltas, trees and tenure buckets from the read state; returns the assignment's hash."""
    x = st.x_idx[r]
    fields = st.cache[r]
    tabu_until = st.tabu_until[r]
    clock = st.clock[r]
    size = tree.shape[0] // 2
    ring = head.shape[0]
    head[:] = -1
    if use_tree:
        tree[size:, 0] = np.inf
        tree[size:, 1] = 1.0
        tree[size:, 2] = np.inf
        tree[size:, 3] = 1.0
    h = np.int64(0)
    for i in range(x.shape[0]):
        g = _gain(problem, values, offsets, x, fields, i)
        gain[i] = g
        free = tabu_until[i] <= clock
        if not free:
            _link(head, nxt, prv, tabu_until[i] % ring, i)
        if use_tree:
            tree[size + i, 0] = g
            tree[size + i, 2] = g if free else np.inf
        if x[i] == 1:
            h ^= _zobrist(i)
    if use_tree:
        _build(tree, size)
    return h


@njit(cache=True, inline="always")
def _flip(problem, values, offsets, x, fields, gain, tree, tabu_until, clock, i, use_tree):
    """Flip ``i``; refresh the fields, deltas and leaves of ``i`` and its neighbours.

    Returns the number of deltas recomputed (``1 + degree``).
    """
    size = tree.shape[0] // 2
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
        if use_tree:
            _set_leaf(tree, size, t, g, g if tabu_until[t] <= clock else np.inf)
    g = _gain(problem, values, offsets, x, fields, i)
    gain[i] = g
    if use_tree:
        _set_leaf(tree, size, i, g, g if tabu_until[i] <= clock else np.inf)
    return 1 + hi - lo


@njit(cache=True, inline="always")
def _roots(tree, gain, tabu_until, clock, use_tree):
    """``(min, count)`` over every delta and over the free ones: the trees' roots, or a scan."""
    if use_tree:
        return tree[1, 0], tree[1, 1], tree[1, 2], tree[1, 3]
    amin = np.inf
    acount = 0.0
    fmin = np.inf
    fcount = 0.0
    for i in range(gain.shape[0]):
        g = gain[i]
        if g < amin:
            amin = g
            acount = 1.0
        elif g == amin:
            acount += 1.0
        if tabu_until[i] <= clock:
            if g < fmin:
                fmin = g
                fcount = 1.0
            elif g == fmin:
                fcount += 1.0
    return amin, acount, fmin, fcount


@njit(cache=True, inline="always")
def _choose(tree, size, gain, tabu_until, clock, col, low, count, use_tree, rng):
    """The ``k``-th (``k`` uniform below ``count``) move of delta ``low`` in index order.

    ``col`` is ``_ALL`` (any move) or ``_FREE`` (non-tabu moves only); the tree
    and the scan make the same choice from the same draw.
    """
    if use_tree:
        return _pick(tree, size, col, rng)
    rng, k = next_below(rng, np.int64(count))
    for i in range(gain.shape[0]):
        if gain[i] == low and (col == _ALL or tabu_until[i] <= clock):
            if k == 0:
                return rng, i
            k -= 1
    return rng, -1


@njit(cache=True, inline="always")
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
    gain, tree, head, nxt, prv = work
    size = tree.shape[0] // 2
    ring = head.shape[0]
    energy, best, rng, evaluations, stall = _load_read(st, r)
    use_tree = prm.tree != 0
    h = _rebuild(problem, values, offsets, st, r, gain, tree, head, nxt, prv, use_tree)
    restart_after = 0 if prm.adaptive else prm.restart_after
    amin = acount = fmin = fcount = np.inf
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
                if use_tree:
                    _set_leaf(tree, size, v, gain[v], gain[v])
                v = nxt[v]
            head[bucket] = -1
            st.clock[r] = clock + 1
            move = -1
            random_step = prm.adaptive and mem[_LEFT] > 0 and mem[_DIRECTED] == 0
            if not random_step:
                amin, acount, fmin, fcount = _roots(tree, gain, tabu_until, clock, use_tree)
            if prm.adaptive and mem[_LEFT] == 0:
                if amin < -_tolerance(energy):  # descending: the best improving move
                    rng, move = _choose(tree, size, gain, tabu_until, clock, _ALL, amin, acount,
                                        use_tree, rng)
                else:
                    rng = _local_optimum(mem, h, prm, rng)
            if move < 0 and (prm.adaptive == 0 or mem[_LEFT] > 0):
                if prm.adaptive and mem[_DIRECTED] == 0:
                    rng, move = next_below(rng, n)
                elif amin < best - _tolerance(best) - energy:
                    # Every move attaining the least delta beats the best energy: admissible.
                    rng, move = _choose(tree, size, gain, tabu_until, clock, _ALL, amin, acount,
                                        use_tree, rng)
                elif fmin < np.inf:
                    rng, move = _choose(tree, size, gain, tabu_until, clock, _FREE, fmin, fcount,
                                        use_tree, rng)
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
            evaluations += _flip(
                problem, values, offsets, x, fields, gain, tree, tabu_until, clock, move, use_tree
            )
            h ^= _zobrist(move)
            energy += delta
            # _after_move written out: a call per move would pay reference counting
            # on every array of the read state.
            if energy < best - _tolerance(best):
                best = energy
                st.pending[r] = 1
                st.moves_since_best[r] = 0
                improved = True
                mem[_IMPROVED] = 1
                if best <= target:
                    break
            else:
                st.moves_since_best[r] += 1
                if restart_after > 0 and st.moves_since_best[r] >= restart_after:
                    rng, energy = _tabu_restart(
                        problem, values, offsets, st, r, prm.perturb_count, rng
                    )
                    h = _rebuild(
                        problem, values, offsets, st, r, gain, tree, head, nxt, prv, use_tree
                    )
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
    size = 1  # leaves of the trees: the least power of two >= n (none for scans)
    while size < n and prm.tree:
        size *= 2
    for r in range(lo, hi):
        work = (
            np.empty(n),
            np.full((2 * size, 4), np.inf),
            np.full(prm.tenure_hi + 2, -1, dtype=np.int64),
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


def is_sparse(problem) -> bool:
    """True when the couplings' density (off-diagonal nonzeros over ``n (n - 1)``) is below 5%.

    There the trees choose moves faster than a scan and breakout local search
    finds better cuts; on denser couplings (OR-Library's 10% bqp, G-set's 6%
    G1-G10 at n = 800) a scan is as fast and the classic restarts reach the
    best known sooner (measurements in docs/engine.md).
    """
    if isinstance(problem, SparseQuadratic):
        n = problem.indptr.shape[0] - 1
        links = problem.indptr[-1]
    else:
        n = problem.couplings.shape[0]
        links = np.count_nonzero(problem.couplings)
    return bool(n > 1 and links < SPARSE_DENSITY * n * (n - 1))
