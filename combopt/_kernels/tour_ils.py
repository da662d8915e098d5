"""Iterated local search over tours in the successor encoding (the ``ils`` strategy).

The local search tries, for one city ``a`` at a time, every move of
:func:`~combopt._kernels.tour.best_move` that makes ``(a, c)`` an edge for each
candidate ``c`` of ``a`` (2-opt both ways, Or-opt of 1-3 cities in either
orientation) and applies the best improving one. Cities wait in a queue (the
"don't-look bits": a city leaves it when no move around it improves, and comes
back when one of its tour edges changes), so a local optimum is reached after
a few passes and re-reached after a local change in time proportional to the
change.

Between local optima a *kick* swaps two adjacent short segments (lengths
``1..window``) at a random position: a double bridge kept local, so the local
search that follows starts from its six endpoints only. The result is kept when
it is not longer than the tour before the kick (so plateaus are crossed), and
undone otherwise. Undoing and keeping cost the number of positions the kick
and its local search touched, not ``n``: every move reports the stretch of
positions it rewrote (a journal), and only those are copied back.

An iteration is ``n`` kicks. ``ReadState.clock`` marks a read whose first
descent (from its starting tour, every city queued) is done.
"""

import numpy as np
from numba import njit

from combopt._kernels.rng import next_below
from combopt._kernels.tour import (
    NUM_MOVES,
    apply_move,
    dist,
    move_delta,
    or_opt_move,
    pred_of,
    refresh,
    succ_of,
    successor_length,
    tour_from_successors,
)

_REL_TOL = 1e-12
_JOURNAL = 1024  # stretches remembered per kick before falling back to a full copy


@njit(cache=True, inline="always")
def _push(queue, inq, tail, count, n, c):
    if inq[c] == 0:
        inq[c] = 1
        queue[tail] = c
        tail = tail + 1 if tail + 1 < n else 0
        count += 1
    return tail, count


@njit(cache=True, inline="always")
def _log(journal, used, first, count):
    """Remember that positions ``first..first+count-1`` changed; ``used`` -1 means overflow."""
    if used < 0 or count == 0:
        return used
    if used >= journal.shape[0]:
        return -1
    journal[used, 0] = first
    journal[used, 1] = count
    return used + 1


@njit(cache=True)
def _endpoints(p, tour, pos, n, a, c, code, ends):
    """The cities whose tour edges move ``code`` for ``(a, c)`` changes (6 slots, repeats ok)."""
    if code <= 2:
        if code == 1:
            b, d = succ_of(tour, pos, n, a), succ_of(tour, pos, n, c)
        else:
            b, d = pred_of(tour, pos, n, a), pred_of(tour, pos, n, c)
        ends[0], ends[1], ends[2], ends[3], ends[4], ends[5] = a, b, c, d, a, c
        return
    length = (code - 3) // 4 + 1
    _, s, x, _ = or_opt_move(p, tour, pos, n, a, c, length, (code - 3) % 4)
    last = tour[(pos[s] + length - 1) % n]
    ends[0], ends[1] = pred_of(tour, pos, n, s), s
    ends[2], ends[3] = last, succ_of(tour, pos, n, last)
    ends[4], ends[5] = x, succ_of(tour, pos, n, x)


@njit(cache=True)
def local_search(p, tour, pos, succ, queue, inq, head, count, journal, used, stop):
    """Apply improving moves from the queued cities until the queue is empty (or ``stop``).

    Returns ``(delta, head, count, used, evaluations)``.
    """
    n = tour.shape[0]
    cand = p.candidates
    ends = np.empty(6, dtype=np.int64)
    total = 0.0
    evaluations = 0
    tail = (head + count) % n
    while count > 0:
        if stop[0] != 0:
            break
        a = queue[head]
        head = head + 1 if head + 1 < n else 0
        count -= 1
        inq[a] = 0
        best = -_REL_TOL * max(1.0, abs(total))
        best_c = -1
        best_code = 0
        # The gain criterion: a move from a is tried only if the edge (a, c) it adds is
        # shorter than the edge at a it removes (to a's successor for 2-opt code 1 and
        # for segments ending at a, to its predecessor otherwise). An improving move
        # that fails it at a passes it at another of its endpoints.
        to_succ = dist(p, a, succ[a])
        to_pred = dist(p, a, pred_of(tour, pos, n, a))
        for t in range(cand.shape[1]):
            c = cand[a, t]
            added = dist(p, a, c)
            if added >= to_succ and added >= to_pred:
                continue
            for code in range(1, NUM_MOVES):
                ahead = code == 2 or (code >= 3 and (code - 3) % 4 < 2)
                if added >= (to_pred if ahead else to_succ):
                    continue
                d = move_delta(p, tour, pos, n, a, c, code)
                evaluations += 1
                if d < best:
                    best, best_c, best_code = d, c, code
        if best_code == 0:
            continue
        _endpoints(p, tour, pos, n, a, best_c, best_code, ends)
        first, changed = apply_move(p, tour, pos, succ, n, a, best_c, best_code)
        used = _log(journal, used, first, changed)
        total += best
        for k in range(6):
            tail, count = _push(queue, inq, tail, count, n, ends[k])
    return total, head, count, used, evaluations


@njit(cache=True)
def segment_swap(p, tour, pos, succ, i, l1, l2, buffer):
    """Swap the ``l1`` cities after position ``i`` with the ``l2`` that follow them.

    ``A B C D`` becomes ``A C B D`` (a double bridge over two adjacent segments).
    Returns the change in length; needs ``l1 + l2 <= n - 2``.
    """
    n = tour.shape[0]
    a0 = tour[i]
    b1 = tour[(i + 1) % n]
    b2 = tour[(i + l1) % n]
    c1 = tour[(i + l1 + 1) % n]
    c2 = tour[(i + l1 + l2) % n]
    d1 = tour[(i + l1 + l2 + 1) % n]
    delta = (dist(p, a0, c1) + dist(p, c2, b1) + dist(p, b2, d1)
             - dist(p, a0, b1) - dist(p, b2, c1) - dist(p, c2, d1))
    for t in range(l1):
        buffer[t] = tour[(i + 1 + t) % n]
    for t in range(l2):
        tour[(i + 1 + t) % n] = tour[(i + 1 + l1 + t) % n]
    for t in range(l1):
        tour[(i + 1 + l2 + t) % n] = buffer[t]
    refresh(tour, pos, succ, n, i, l1 + l2 + 1)
    return delta


@njit(cache=True)
def _settle(tour, pos, succ, saved, journal, used, keep):
    """End a kick: keep its changes (copy them into ``saved``) or undo them from ``saved``."""
    n = tour.shape[0]
    if used < 0:  # the journal overflowed: copy everything
        if keep:
            saved[:] = tour
        else:
            tour[:] = saved
            refresh(tour, pos, succ, n, 0, n)
        return
    for e in range(used):
        first, count = journal[e, 0], journal[e, 1]
        for t in range(count):
            q = (first + t) % n
            if keep:
                saved[q] = tour[q]
            else:
                tour[q] = saved[q]
    if not keep:
        for e in range(used):
            refresh(tour, pos, succ, n, journal[e, 0], journal[e, 1])


@njit(cache=True)
def _ils_read(p, st, r, n_iters, window, target, max_stall, trace):
    succ = st.x_idx[r]
    n = succ.shape[0]
    ints = st.cache[r].view(np.int64)
    tour, pos = ints[:n], ints[n:2 * n]
    energy, best, rng = st.energy[r], st.best_energy[r], st.rng[r]
    evaluations, stall = st.evaluations[r], st.stall[r]
    queue = np.empty(n, dtype=np.int64)
    inq = np.zeros(n, dtype=np.int8)
    journal = np.empty((_JOURNAL, 2), dtype=np.int64)
    buffer = np.empty(max(window, 1), dtype=np.int64)
    tour_from_successors(succ, tour, pos)
    if st.clock[r] == 0:  # the first descent, from the starting tour
        for q in range(n):
            queue[q] = tour[q]
            inq[tour[q]] = 1
        delta, _, _, _, ev = local_search(p, tour, pos, succ, queue, inq, 0, n, journal, -1,
                                          st.stop)
        energy += delta
        evaluations += ev
        st.clock[r] = 1
        inq[:] = 0
        if energy < best:
            best = energy
            st.best_idx[r, :] = succ
    saved = tour.copy()
    # A kick swaps two segments of at most `window` cities each, within n - 2 positions.
    width = min(window, (n - 2) // 2)
    for it in range(n_iters):
        if st.stop[0] != 0 or (max_stall > 0 and stall >= max_stall) or width < 1:
            break
        improved = False
        for _ in range(n):
            if st.stop[0] != 0:
                break
            rng, i = next_below(rng, n)
            rng, l1 = next_below(rng, width)
            rng, l2 = next_below(rng, width)
            l1 += 1
            l2 += 1
            journal[0, 0], journal[0, 1] = i, l1 + l2 + 1
            delta = segment_swap(p, tour, pos, succ, i, l1, l2, buffer)
            # The six endpoints: A's last, C's first and last, B's first and last, D's first.
            head, count = 0, 0
            for t in (0, 1, l2, l2 + 1, l1 + l2, l1 + l2 + 1):
                c = tour[(i + t) % n]
                if inq[c] == 0:
                    inq[c] = 1
                    queue[count] = c
                    count += 1
            gain, head, count, used, ev = local_search(
                p, tour, pos, succ, queue, inq, head, count, journal, 1, st.stop
            )
            evaluations += ev
            for k in range(count):  # left by a stop: clear the bits for the next kick
                inq[queue[(head + k) % n]] = 0
            delta += gain
            keep = delta <= _REL_TOL * max(1.0, abs(energy))
            _settle(tour, pos, succ, saved, journal, used, keep)
            if keep:
                energy += delta
                if energy < best - _REL_TOL * max(1.0, abs(best)):
                    best = energy
                    st.best_idx[r, :] = succ
                    improved = True
                    if best <= target:
                        st.stop[0] = 1
                        break
        stall = 0 if improved else stall + 1
        trace[r, it] = energy
    # Integral distances keep the running length exact; others may drift by rounding.
    energy = successor_length(p, succ)
    if energy < best:
        best = energy
        st.best_idx[r, :] = succ
    st.energy[r], st.best_energy[r], st.rng[r] = energy, best, rng
    st.evaluations[r], st.stall[r] = evaluations, stall
    st.pending[r] = 0


@njit(cache=True, nogil=True)
def run_ils(problem, values, offsets, st, lo, hi, n_iters, window, target, max_stall, trace):
    """Iterated local search on reads ``lo..hi-1`` for ``n_iters`` iterations of ``n`` kicks."""
    for r in range(lo, hi):
        _ils_read(problem, st, r, n_iters, window, target, max_stall, trace)
