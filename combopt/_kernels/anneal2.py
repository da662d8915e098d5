"""Annealing over two-valued domains (QUBO, Ising): one cached field per variable.

With two values per variable, ``x_i = a_i + w_i t_i`` with ``t_i`` in {0, 1}
(``a_i`` the lower value, ``w_i > 0`` the gap), and a quadratic objective is

    E(t) = const + sum_i L_i t_i + sum_{i<j} K_ij t_i t_j,
    K_ij = S_ij w_i w_j,   L_i = w_i (c_i + sum_j S_ij a_j + Q_ii (2 a_i + w_i))

(``S = Q + Q^T`` off the diagonal). The kernel keeps ``F_i = L_i + sum_j K_ij
t_j`` per variable, so the flip delta of ``i`` is ``(1 - 2 t_i) F_i`` -- one
load and a sign -- and a flip of ``i`` adds ``+-K_ij`` to the ``F_j`` of its
neighbours only: one pass over a CSR row (int32 indices) or a dense row.

**Integers when exact.** When every ``K_ij`` and ``L_i`` is an integer and
``bound = max_i (|L_i| + sum_j |K_ij|)`` is below ``2**15`` (``2**31``), the
fields are int16 (int32) and the couplings int8 when ``|K_ij| <= 127`` (as for
+-1 Ising models and OR-Library QUBOs), else int32. This is exact: every value
``F_i`` ever holds -- ``L_i`` plus some of the ``K_ij`` -- and every partial
sum on the way is an integer of magnitude at most ``bound``, so no addition
overflows or rounds. (float32 would be exact for the same reason below
``2**24``; small integers make a dense row one byte per coupling and a field two,
and a row update twice as fast as with float32, measured.) Otherwise fields
and couplings are float64.

**Acceptance.** The heat bath is that of
:func:`combopt._kernels.strategies._heat_bath_choice` for two values (accept
with probability ``1 / (1 + exp(beta delta))``) with the same random draws, so
on integer data, where both kernels' deltas are exact, it makes the same moves
as the generic kernel. The Metropolis rule accepts with probability ``min(1,
exp(-beta delta))`` like the generic one, but draws one random number for
*every* attempt, downhill ones included (the generic kernel draws none for
downhill and level moves or past the ``exp(-40)`` cut-off): with a draw
always at hand, the decision is one comparison without a data-dependent
branch before it, and on this hardware mispredicted branches, not arithmetic,
are what an attempt costs. ``tests/naive.py`` has the slow reference of this
rule (``metropolis_two_valued``, given the visiting order). For integer
deltas a sweep whose deltas fit a short table (at most ``max(n / 4, 64)``
integers below the bound or inside ``beta d < 40``) precomputes ``ceil(exp(-beta
d) 2**53)`` for each and compares the draw's top 53 bits with it: ``u = k /
2**53 < p`` holds exactly when ``k < ceil(p 2**53)``, so the table decides bit
for bit as ``u < exp(-beta d)`` would. The heat
bath has the same kind of table (``_fill_heat_table``), exact against the
generic kernel's ``u * (1 + exp(z)) < 1``, with the generic kernel's draws.

**Visiting order.** A sequential Metropolis sweep visits the variables class
by class of a fixed greedy colouring of the coupling graph
(:func:`~combopt._kernels.flip_classes.colour_classes`, computed once at
lowering; ``lower_flips(..., colour=True)`` relabels ``K`` and ``L`` so that
each class is contiguous), each class in increasing variable order: still one
attempt per variable per sweep, as SA, in a fixed permuted order. As no two
variables of a class are coupled, :func:`_class_sweep` decides a block of
one class at once from the fields at its start -- delta, table index and
draw per attempt (splitmix64 is counter-based, so the ``j``-th draw is
computed directly), with no data-dependent branch under a table -- gathers
the accepted labels, and then flips them in order: exactly the sequential
sweep in that order, with the same draws, energies and target stop, at a
measured 1.3-1.5x the speed of one attempt at a time on sparse graphs
(mispredicted accept branches were the cost). Integer dense rows are then
added four at a time. Where the classes are short on average (below
:data:`MIN_CLASS_SIZE`, near-dense couplings) the sweep keeps the order but
takes one attempt at a time (:func:`_table_sweep`, :func:`_sweep`). Beyond
:data:`MAX_CLASS_N` variables, where memory traffic rather than branches is
the cost, sequential sweeps visit the variables in their own order, one
attempt at a time, as do random order and the heat bath.

The per-read fields live in an array the solver keeps next to the
:data:`~combopt._kernels.strategies.ReadState` (filled from ``x_idx`` on a
read's first call), so chunked runs compute exactly what one long run does;
the objective's own cache (the fields ``h``) is rewritten from them at the end
of every call.
"""

from collections import namedtuple

import numpy as np
import scipy.sparse as sp
from numba import njit, types
from numba.extending import overload

from combopt._kernels.flip_classes import colour_classes
from combopt._kernels.protocol import is_kind
from combopt._kernels.quadratic import DenseQuadratic
from combopt._kernels.rng import mix64, next_below, next_u64, skip
from combopt._kernels.strategies import _EXP_CUT, _load_read, _save_best, _store_read, _tolerance

#: ``K`` in CSR form: indptr int64, indices int32, data int8, int32 or float64.
FlipSparse = namedtuple("FlipSparse", ["indptr", "indices", "data"])
#: ``K`` as an (n, n) C-order matrix with a zero diagonal.
FlipDense = namedtuple("FlipDense", ["couplings"])
#: What the solver keeps for a two-valued quadratic run (Python side only).
FlipModel = namedtuple(
    "FlipModel", ["couplings", "linear", "integral", "bound", "dtype", "order", "starts"]
)

#: Dense rows from this fraction of nonzero couplings up. A dense row update is
#: a contiguous SIMD loop over all n entries; a CSR row update touches only the
#: neighbours but scatters. Measured with experiments/throughput.py (docs/engine.md).
DENSE_FLIP_DENSITY = 0.08
#: ... while ``4 n**2`` stays below this many bytes (the lowering's float64 temporary is twice it).
DENSE_FLIP_MAX_BYTES = 2**27
#: Sweeps decide a class at a time from this mean class size up; below it (near-dense
#: couplings) the per-block overhead outweighs the branch-free decisions. Measured
#: (sweep kernel alone, same order): 1.11x at a mean of 33 (bqp 10%, n = 1000), 1.0x
#: at 14 (30%), 0.8x at 2 (fully dense); 1.3-1.5x on the sparse graphs (means >= 800).
MIN_CLASS_SIZE = 16
#: ... and up to this many variables; beyond, the variables keep their own order and
#: labels (measured, sweep by classes against one attempt at a time in the variables'
#: order: 1.15-1.3x at n = 3 * 10**5, 0.85-0.9x at 10**6 on the torus and 3-regular
#: graphs, where memory traffic rather than branches is the cost).
MAX_CLASS_N = 2**19
_EXACT_INT16 = 2.0**15
_EXACT_INT32 = 2.0**31
_EXACT_FLOAT64 = 2.0**53
_TWO_53 = 9007199254740992.0
_S11 = np.uint64(11)
_INV_2_53 = 1.0 / _TWO_53
_POLL_BLOCK = 1024  # steps between two polls of st.stop


def lower_flips(problem, values, offsets, colour=False) -> FlipModel:
    """``K``, ``L``, exactness and the field bound of a two-valued quadratic problem.

    Parameters
    ----------
    problem : DenseQuadratic or SparseQuadratic
    values, offsets : ndarray
        The lowered domain; every variable has exactly two values.
    colour : bool
        Relabel the variables class by class of
        :func:`~combopt._kernels.flip_classes.colour_classes` (the visiting
        order of sequential Metropolis sweeps) when ``n <= MAX_CLASS_N``;
        otherwise the labels stay.

    Returns
    -------
    FlipModel
        ``couplings`` (a :data:`FlipSparse` or :data:`FlipDense`), ``linear``
        (``L``, float64, shape (n,)), ``integral`` (``K`` and ``L`` are
        integers, so every delta is), ``bound`` (``max_i |L_i| + sum_j
        |K_ij|``, the largest magnitude a field or flip delta can take) and
        ``dtype`` (of the fields: int16 or int32 when exact, else float64);
        ``couplings`` and ``linear`` are in the labels of ``order`` (int64,
        (n,): label ``q`` is variable ``order[q]``), whose classes start at
        ``starts`` (int64, (C + 1,); empty when not coloured -- ``order`` is then
        the identity, as beyond :data:`MAX_CLASS_N` variables -- or when the
        classes are shorter than :data:`MIN_CLASS_SIZE` on average).

    Examples
    --------
    >>> import numpy as np
    >>> from combopt._kernels.quadratic import DenseQuadratic
    >>> S = np.array([[0.0, 2.0], [2.0, 0.0]])
    >>> p = DenseQuadratic(S, np.zeros(2), np.array([-1.0, 0.0]), 0.0)
    >>> m = lower_flips(p, np.array([-1.0, 1.0, -1.0, 1.0]), np.array([0, 2, 4]))
    >>> m.linear.tolist(), m.integral, m.bound, m.dtype.__name__
    ([-6.0, -4.0], True, 14.0, 'int16')
    >>> m = lower_flips(p, np.array([-1.0, 1.0, -1.0, 1.0]), np.array([0, 2, 4]), colour=True)
    >>> m.order.tolist(), m.starts.tolist()  # two classes of one: too short to sweep by
    ([0, 1], [])
    """
    low = values[offsets[:-1]]
    width = values[offsets[:-1] + 1] - low
    n = low.shape[0]
    if isinstance(problem, DenseQuadratic):
        S = problem.couplings
        nonzero = np.count_nonzero(S)
        field_at_low = S @ low
        scale = np.abs(S).sum(axis=1) * np.abs(width)
    else:
        S = sp.csr_array((problem.data, problem.indices, problem.indptr), shape=(n, n))
        nonzero = problem.data.shape[0]
        field_at_low = S @ low
        scale = np.asarray(abs(S).sum(axis=1)).ravel() * np.abs(width)
    linear = width * (problem.linear + field_at_low + problem.diag * (2.0 * low + width))
    # K_ij = S_ij w_i w_j: integral and bounded when every entry is.
    bound = float(np.max(np.abs(linear) + scale * np.max(np.abs(width)), initial=0.0))
    dense = nonzero >= DENSE_FLIP_DENSITY * n * n and 4 * n * n <= DENSE_FLIP_MAX_BYTES
    if isinstance(problem, DenseQuadratic):
        K = S * width[:, None]  # one n x n temporary, scaled in place
        K *= width[None, :]
        K = K if dense else sp.csr_array(K)
    else:
        K = sp.csr_array(sp.diags_array(width) @ S @ sp.diags_array(width))
        K = K.toarray() if dense else K
    data = K if dense else K.data
    integral = bool(np.all(data == np.round(data)) and np.all(linear == np.round(linear)))
    if integral and bound < _EXACT_INT32:
        small = float(np.max(np.abs(data), initial=0.0)) <= 127.0
        coupling_dtype = np.int8 if small else np.int32
        dtype = np.int16 if small and bound < _EXACT_INT16 else np.int32
    else:
        integral = integral and bound < _EXACT_FLOAT64
        dtype = coupling_dtype = np.float64
    order, starts = np.arange(n, dtype=np.int64), np.zeros(0, dtype=np.int64)
    colour = colour and n <= MAX_CLASS_N  # beyond, the labels stay (no identity copy of K)
    if colour:
        order, starts = colour_classes(K if dense else (K.indptr, K.indices))
        if n < MIN_CLASS_SIZE * (starts.shape[0] - 1):
            starts = starts[:0]  # the order stays: one attempt at a time
        linear = linear[order]
    if dense:
        K = np.asarray(K, dtype=coupling_dtype)  # permuted in the small type: no float64 copy
        couplings = FlipDense(np.ascontiguousarray(K[np.ix_(order, order)] if colour else K))
    else:
        K = sp.csr_array(K[order][:, order]) if colour else K
        K.sort_indices()
        index = np.int32 if n < 2**31 else np.int64
        couplings = FlipSparse(
            K.indptr.astype(np.int64),
            K.indices.astype(index),
            np.ascontiguousarray(K.data, dtype=coupling_dtype),
        )
    return FlipModel(
        couplings, np.ascontiguousarray(linear), integral, bound, dtype, order, starts
    )


def _flip_row(model, fields, i, sign):
    """Add row ``i`` of ``K`` to ``fields`` (``sign > 0``) or subtract it."""
    raise NotImplementedError


@overload(_flip_row, inline="always", jit_options={"cache": True})
def _flip_row_impl(model, fields, i, sign):
    if is_kind(model, FlipSparse):
        # A multiply by the sign instead of a branch on it: 1.1-1.15x faster on the short
        # CSR rows of sparse graphs (measured; the dense rows below keep two loops).
        def impl(model, fields, i, sign):
            for p in range(model.indptr[i], model.indptr[i + 1]):
                fields[model.indices[p]] += sign * model.data[p]

        return impl
    if is_kind(model, FlipDense):
        # Separate loops for +K and -K: no multiply per entry over a whole dense row.
        def impl(model, fields, i, sign):
            row = model.couplings[i]
            if sign > 0:
                for t in range(fields.shape[0]):
                    fields[t] += row[t]
            else:
                for t in range(fields.shape[0]):
                    fields[t] -= row[t]

        return impl
    return None


@njit(cache=True)
def _fill_fields(model, linear, x, order, fields):
    """``fields = L + K t`` in the labels of ``order``, summed in float64 (exact on integers)."""
    n = x.shape[0]
    acc = linear.copy()
    for q in range(n):
        if x[order[q]] != 0:
            _flip_row(model, acc, q, 1.0)
    for q in range(n):
        fields[q] = acc[q]


@njit(cache=True)
def _store_cache(problem, values, offsets, order, fields, cache):
    """The objective's fields ``h`` from ``F_i = w_i (c_i + h_i + Q_ii (2 a_i + w_i))``."""
    for q in range(fields.shape[0]):
        i = order[q]
        low = values[offsets[i]]
        width = values[offsets[i] + 1] - low
        cache[i] = fields[q] / width - problem.linear[i] - problem.diag[i] * (2.0 * low + width)


@njit(cache=True, inline="always")
def _uphill_reach(beta):
    """The largest integer ``d`` with ``beta * d < 40`` (``beta * d`` as float64)."""
    d = np.int64(_EXP_CUT / beta)
    while d > 0 and beta * np.float64(d) >= _EXP_CUT:
        d -= 1
    while beta * np.float64(d + 1) < _EXP_CUT:
        d += 1
    return d


@njit(cache=True)
def _fill_table(beta, reach, table):
    """Acceptance thresholds of the integer deltas ``0..reach + 1`` at ``beta``.

    ``table[d] = ceil(exp(-beta d) 2**53)``, 2**53 for ``d = 0`` (always) and 0
    past ``reach`` (never), so that ``bits >> 11 < table[d]`` is ``u < p``.
    """
    table[0] = np.uint64(_TWO_53)
    for d in range(1, reach + 1):
        z = beta * np.float64(d)
        table[d] = np.uint64(np.ceil(np.exp(-z) * _TWO_53)) if z < _EXP_CUT else np.uint64(0)
    table[reach + 1] = np.uint64(0)


@njit(cache=True)
def _fill_heat_table(beta, reach, table):
    """Heat-bath thresholds of the integer deltas ``-reach..reach`` at ``beta``.

    ``table[d + reach]`` counts the ``k`` with ``fl(k c) < 2**53``, ``c = 1 +
    exp(beta d)``: as ``u = k / 2**53`` scales exactly, that is the generic
    kernel's ``u * (1 + exp(z)) < 1``, and ``fl(k c)`` grows with ``k``.
    """
    for d in range(-reach, reach + 1):
        c = 1.0 + np.exp(beta * np.float64(d))
        k = np.int64(_TWO_53 / c)  # near the largest k with fl(k c) < 2**53
        while k > 0 and np.float64(k) * c >= _TWO_53:
            k -= 1
        while k + 1 < np.int64(_TWO_53) and np.float64(k + 1) * c < _TWO_53:
            k += 1
        table[d + reach] = np.uint64(k + 1)


@njit(cache=True, inline="always")
def _metropolis_accept(delta, beta, rng, use_table, table, reach):
    """Accept a flip with probability ``min(1, exp(-beta delta))``: one draw, always.

    Drawing for every attempt (downhill ones included) makes the test one
    comparison with no data-dependent branch before it: mispredicted branches,
    not arithmetic, are the cost of an attempt.
    """
    rng, bits = next_u64(rng)
    if use_table:  # an integer delta: table[clamp(delta)] holds ceil(p 2**53)
        k = min(max(np.int64(delta), 0), reach + 1)
        return rng, (bits >> _S11) < table[k]
    z = beta * np.float64(delta)
    u = np.float64(bits >> _S11) * _INV_2_53
    return rng, z <= 0.0 or (z < _EXP_CUT and u < np.exp(-z))


@njit(cache=True, inline="always")
def _heat_bath_accept(delta, beta, rng, use_table, table, reach):
    """Accept a flip with probability ``1 / (1 + exp(beta delta))``, as the generic kernel.

    Draws (``next_float``'s 53 bits) only inside the ``|beta delta| < 40``
    window; with ``use_table``, ``table[delta + reach]`` replaces the ``exp``.
    """
    z = beta * np.float64(delta)
    if z >= _EXP_CUT:
        return rng, False
    if z <= -_EXP_CUT:
        return rng, True
    rng, bits = next_u64(rng)
    if use_table:
        return rng, (bits >> _S11) < table[np.int64(delta) + reach]
    u = np.float64(bits >> _S11) * _INV_2_53
    return rng, u * (1.0 + np.exp(z)) < 1.0


def _flip_rows(model, fields, picked, sign, m):
    """Add ``-sign[j] K_j`` to ``fields`` for the first ``m`` labels ``j`` of ``picked``."""
    raise NotImplementedError


@overload(_flip_rows, inline="always", jit_options={"cache": True})
def _flip_rows_impl(model, fields, picked, sign, m):
    if is_kind(model, FlipDense) and isinstance(fields.dtype, types.Integer):
        # Four rows a pass: the fields are loaded and stored once for four rows
        # (1.5x faster per row, measured); integer sums, so the grouping is exact.
        def impl(model, fields, picked, sign, m):
            K = model.couplings
            top = m - m % 4
            for t in range(0, top, 4):
                r0, r1, r2, r3 = K[picked[t]], K[picked[t + 1]], K[picked[t + 2]], K[picked[t + 3]]
                s0, s1 = -sign[picked[t]], -sign[picked[t + 1]]
                s2, s3 = -sign[picked[t + 2]], -sign[picked[t + 3]]
                for i in range(fields.shape[0]):
                    fields[i] += (s0 * r0[i] + s1 * r1[i]) + (s2 * r2[i] + s3 * r3[i])
            for t in range(top, m):
                _flip_row(model, fields, picked[t], -sign[picked[t]])

        return impl

    def impl(model, fields, picked, sign, m):
        for t in range(m):
            _flip_row(model, fields, picked[t], -sign[picked[t]])

    return impl


@njit(cache=True, inline="always")
def _class_sweep(
    st, x, order, starts, sign, f, model, beta, table, reach, rng, energy, target, picked
):
    """One sequential Metropolis sweep, class by class: the hot loop.

    Labels ``0..n-1`` in turn, one attempt each, with the decisions and draws
    of :func:`_metropolis_accept`. The classes ``starts[c]..starts[c+1]-1``
    have no coupling inside, so a block of one class is decided first from
    the fields at its start (the ``j``-th attempt's draw is ``mix64(skip(rng,
    j + 1))``; with a table the loop is branch-free), its accepted labels
    gathered into ``picked``, and then flipped in order -- what one attempt
    after the other would do. Returns ``(rng, energy, steps, stopped)``:
    steps taken (``n`` unless the target was reached or ``st.stop`` was set;
    ``rng`` is then past exactly that many draws) and whether ``st.stop`` was seen.
    """
    for c in range(starts.shape[0] - 1):
        for b0 in range(starts[c], starts[c + 1], _POLL_BLOCK):
            if b0 > 0 and st.stop[0] != 0:
                return rng, energy, b0, True
            b1 = min(b0 + _POLL_BLOCK, starts[c + 1])
            m = 0
            if reach >= 0:  # an integer delta: table[clamp(delta)] holds ceil(p 2**53)
                for j in range(b0, b1):
                    k = min(max(np.int64(sign[j] * f[j]), 0), reach + 1)
                    picked[m] = j
                    m += (mix64(skip(rng, j - b0 + 1)) >> _S11) < table[k]
            else:
                for j in range(b0, b1):
                    z = beta * np.float64(sign[j] * f[j])
                    u = np.float64(mix64(skip(rng, j - b0 + 1)) >> _S11) * _INV_2_53
                    picked[m] = j
                    m += z <= 0.0 or (z < _EXP_CUT and u < np.exp(-z))
            reached = m
            for t in range(m):
                j = picked[t]
                s = sign[j]
                energy += np.float64(s * f[j])  # f[j] as at the block's start: no coupling
                sign[j] = -s
                x[order[j]] = 1 if s > 0 else 0
                if energy <= target:
                    reached = t
                    break
            if reached < m:
                _flip_rows(model, f, picked, sign, reached + 1)
                j = picked[reached]
                return skip(rng, j - b0 + 1), energy, j + 1, False
            _flip_rows(model, f, picked, sign, m)
            rng = skip(rng, b1 - b0)
    return rng, energy, starts[-1], False


@njit(cache=True, inline="always")
def _table_sweep(st, x, order, sign, f, model, table, reach, rng, energy, target):
    """:func:`_class_sweep` one attempt at a time (classes too short to decide in blocks)."""
    n = x.shape[0]
    for start in range(0, n, _POLL_BLOCK):
        if start > 0 and st.stop[0] != 0:
            return rng, energy, start, True
        for i in range(start, min(start + _POLL_BLOCK, n)):
            s = sign[i]
            delta = s * f[i]
            k = min(max(np.int64(delta), 0), reach + 1)
            rng, bits = next_u64(rng)
            if (bits >> _S11) < table[k]:
                energy += np.float64(delta)
                sign[i] = -s
                x[order[i]] = 1 if s > 0 else 0
                _flip_row(model, f, i, s)
                if energy <= target:
                    return rng, energy, i + 1, False
    return rng, energy, n, False


@njit(cache=True, inline="always")
def _sweep(
    st, x, order, sign, f, model, sequential, metropolis, beta, table, reach, rng, energy, target
):
    """One sweep of any order and rule (:func:`_class_sweep`'s contract), in label order."""
    n = x.shape[0]
    greedy = beta == np.inf  # the paper's rule, as the generic kernel applies at beta = inf
    for step in range(n):
        if step > 0 and (step % _POLL_BLOCK) == 0 and st.stop[0] != 0:
            return rng, energy, step, True
        if sequential:
            i = step
        else:
            rng, i = next_below(rng, n)
        s = sign[i]
        delta = s * f[i]
        if greedy:
            accept = delta < 0 or (delta == 0 and s > 0)
        elif metropolis:
            rng, accept = _metropolis_accept(delta, beta, rng, reach >= 0, table, reach)
        else:
            rng, accept = _heat_bath_accept(delta, beta, rng, reach >= 0, table, reach)
        if accept:
            energy += np.float64(delta)
            sign[i] = -s
            x[order[i]] = 1 if s > 0 else 0
            _flip_row(model, f, i, s)
            if energy <= target:
                return rng, energy, step + 1, False
    return rng, energy, n, False


@njit(cache=True)
def _anneal_flips_read(
    st, r, betas, sequential, metropolis, target, max_stall, trace, model, order, starts, fields,
    bound, table, picked,
):
    x = st.x_idx[r]
    f = fields[r]
    n = x.shape[0]
    # sign[q] = 1 - 2 t_q: the flip delta is sign[q] * f[q], and a flip adds sign[q] K_q to f.
    sign = np.empty(n, dtype=f.dtype)
    for q in range(n):
        sign[q] = 1 if x[order[q]] == 0 else -1
    cap = (table.shape[0] - 2) // 2
    by_class = sequential and metropolis and starts.shape[0] > 1
    energy, best, rng, evaluations, stall = _load_read(st, r)
    for it in range(betas.shape[0]):
        if st.stop[0] != 0 or (max_stall > 0 and stall >= max_stall):
            break
        beta = betas[it]
        reach = -1
        if beta != np.inf and cap >= 0:
            if bound <= cap:
                reach = bound  # no delta is larger
            elif _EXP_CUT / beta <= cap:
                reach = _uphill_reach(beta)  # |beta d| < 40 within it, as beta (-d) = -(beta d)
            if reach >= 0 and metropolis:
                _fill_table(beta, reach, table)
            elif reach >= 0:
                _fill_heat_table(beta, reach, table)
        if by_class and beta != np.inf:
            rng, energy, steps, stopped = _class_sweep(
                st, x, order, starts, sign, f, model, beta, table, reach, rng, energy, target,
                picked,
            )
        elif sequential and metropolis and reach >= 0:
            rng, energy, steps, stopped = _table_sweep(
                st, x, order, sign, f, model, table, reach, rng, energy, target
            )
        else:
            rng, energy, steps, stopped = _sweep(
                st, x, order, sign, f, model, sequential, metropolis, beta, table, reach, rng,
                energy, target,
            )
        evaluations += steps
        # The end-of-sweep rule of the generic kernel (strategies._anneal_read).
        if energy < best - _tolerance(best) or (energy <= target and energy < best):
            best = energy
            _save_best(st, r)
            stall = 0
        else:
            stall += 1
        trace[r, it] = energy
        if best <= target:
            st.stop[0] = 1
        if stopped:
            break
    _store_read(st, r, energy, best, rng, evaluations, stall)


@njit(cache=True, nogil=True)
def run_anneal_flips(
    problem, values, offsets, st, lo, hi, betas, sequential, metropolis, target, max_stall, trace,
    model, linear, integral, bound, order, starts, fields, ready,
):
    """:func:`~combopt._kernels.strategies.run_anneal` over two-valued domains, from cached fields.

    ``model`` is the :data:`FlipSparse` or :data:`FlipDense` of
    :func:`lower_flips`, ``linear`` its ``L``; ``fields`` (R, n) holds each
    read's ``F`` across calls, valid where ``ready[r]`` is 1 (filled here on a
    read's first call). ``integral`` and ``bound`` enable the acceptance tables.
    ``model``, ``linear`` and ``fields`` are in the labels of ``order`` (label
    ``q`` is variable ``order[q]``; the identity unless coloured), and a
    sequential sweep visits labels ``0..n-1``; ``starts`` (C + 1,) bounds the
    colour classes of a coloured model (or is empty), which a sequential
    Metropolis sweep then decides a block at a time (:func:`_class_sweep`).
    """
    n = st.x_idx.shape[1]
    # Integer deltas get acceptance tables when they are short against a sweep (at
    # most n / 4 exponentials per sweep, n / 2 for the heat bath's two-sided table,
    # instead of one per attempt in the exp(-40) window).
    cap = min(max(n // 4, 64), np.int64(min(bound, 2.0**62))) if integral else -1
    table = np.zeros(2 * cap + 2, dtype=np.uint64)  # heat bath: -cap..cap
    ibound = np.int64(min(bound, 2.0**62))
    picked = np.empty(min(n, _POLL_BLOCK), dtype=np.int64)
    for r in range(lo, hi):
        if ready[r] == 0:
            _fill_fields(model, linear, st.x_idx[r], order, fields[r])
            ready[r] = 1
        _anneal_flips_read(
            st, r, betas, sequential, metropolis, target, max_stall, trace, model, order, starts,
            fields, ibound, table, picked,
        )
        _store_cache(problem, values, offsets, order, fields[r], st.cache[r])
