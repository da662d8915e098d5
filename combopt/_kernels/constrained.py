"""Constrained finite-domain quadratic models: an objective plus penalised constraint rows.

The native form of dimod's constrained quadratic models (CQMs). Each engine
variable ``i`` is either *numeric* (its value is ``values[offsets[i] + x_i]``:
a binary, a spin or a bounded integer) or a *group* (a one-hot group of
binaries: case ``a`` sets member ``a`` to 1 and the others to 0; a group may
have a last "none" case where every member is 0).

An *atom* is one original variable: a numeric engine variable, or one member
of a group. Expression ``e`` (``e = 0`` is the objective, ``e >= 1`` the
constraints) is quadratic in atom values:

    v_e(x) = off_e + sum_u lin_eu a_u + sum_{u<w} q_euw a_u a_w + sum_u sq_eu a_u^2

with no term between two members of one group (at most one of them is 1, so
such a product is always 0) and squares for numeric atoms only. The energy
minimised is ``v_0 + sum_{e>=1} w_e viol_e(v_e)``, where ``viol`` is
``max(0, v - rhs)`` for ``<=``, ``max(0, rhs - v)`` for ``>=`` and
``|v - rhs|`` for ``==``, and ``w_e`` the penalty multipliers (the sampler
adapts them between rounds).

A *slot* is one (expression, atom) pair with a term. The cache holds each
expression's value (``cache[:E]``) and each slot's field (``cache[E + p]``,
``g_p = lin_p + sum_{p'} q_pp' a_{p'}`` over the slot's couplings in its
expression), so moving atom ``u`` by ``d`` changes ``v_e`` by
``d g_p + sq_p d (2 a_u + d)``. Slots are grouped per engine variable in
*blocks*, one per expression it appears in, so evaluating every case of
variable ``i`` costs O(cases x blocks) for a numeric variable and
O(cases + slots) for a group, and a move O(slots + their couplings).
"""

from collections import namedtuple

from numba import njit
from numba.extending import overload

from combopt._kernels.protocol import is_kind, obj_apply, obj_deltas, obj_init

#: ``group`` (n,) int64: 1 for a one-hot group, 0 for a numeric variable.
#: ``var_block_ptr`` (n+1,): variable i's blocks are ``var_block_ptr[i]..[i+1]-1``;
#: ``block_expr`` (B,) its expression, ``block_slot_ptr`` (B+1,) its slots.
#: ``slot_var``, ``slot_case`` (P,) int64: the slot's engine variable and, for a
#: group member, its case (-1 for a numeric atom); ``slot_expr`` (P,) int64;
#: ``slot_lin``, ``slot_sq`` (P,) float64. ``coup_ptr`` (P+1,), ``coup_slot``
#: (Q,) int64 and ``coup_val`` (Q,) float64: each slot's couplings to other
#: slots of its expression (both directions stored). ``expr_offset``,
#: ``expr_rhs``, ``weight`` (E,) float64 and ``expr_sense`` (E,) int64
#: (0: objective, 1: ``<=``, 2: ``>=``, 3: ``==``); ``weight[0]`` is unused.
ConstrainedProblem = namedtuple(
    "ConstrainedProblem",
    [
        "group", "var_block_ptr", "block_expr", "block_slot_ptr",
        "slot_var", "slot_case", "slot_expr", "slot_lin", "slot_sq",
        "coup_ptr", "coup_slot", "coup_val",
        "expr_offset", "expr_rhs", "expr_sense", "weight",
    ],
)


@njit(cache=True, inline="always")
def violation(sense, value, rhs):
    """How far ``value`` is from satisfying ``value (sense) rhs`` (0 when satisfied)."""
    if sense == 1:
        return max(value - rhs, 0.0)
    if sense == 2:
        return max(rhs - value, 0.0)
    if sense == 3:
        return abs(value - rhs)
    return 0.0


@njit(cache=True, inline="always")
def _atom_value(problem, values, offsets, x_idx, p):
    i = problem.slot_var[p]
    if problem.group[i] != 0:
        return 1.0 if x_idx[i] == problem.slot_case[p] else 0.0
    return values[offsets[i] + x_idx[i]]


@njit(cache=True, inline="always")
def _couple(problem, cache, num_expr, p, d):
    """Add ``d`` times slot ``p``'s couplings to the fields of the slots it couples to."""
    for c in range(problem.coup_ptr[p], problem.coup_ptr[p + 1]):
        cache[num_expr + problem.coup_slot[c]] += problem.coup_val[c] * d


@njit(cache=True)
def penalised_energy(problem, cache):
    """``v_0 + sum_e w_e viol_e(v_e)`` from the expression values in ``cache``."""
    energy = cache[0]
    for e in range(1, problem.expr_sense.shape[0]):
        miss = violation(problem.expr_sense[e], cache[e], problem.expr_rhs[e])
        energy += problem.weight[e] * miss
    return energy


@overload(obj_init, jit_options={"cache": True})
def _init_constrained(problem, values, offsets, x_idx, cache):
    if is_kind(problem, ConstrainedProblem):

        def impl(problem, values, offsets, x_idx, cache):
            num_expr = problem.expr_sense.shape[0]
            num_slots = problem.slot_var.shape[0]
            for e in range(num_expr):
                cache[e] = problem.expr_offset[e]
            for p in range(num_slots):
                cache[num_expr + p] = problem.slot_lin[p]
            for p in range(num_slots):
                a = _atom_value(problem, values, offsets, x_idx, p)
                if a != 0.0:
                    _couple(problem, cache, num_expr, p, a)
            # v_e = off_e + sum_p a_p (lin_p + g_p) / 2 + sq_p a_p^2 (a coupling is in two fields).
            for p in range(num_slots):
                a = _atom_value(problem, values, offsets, x_idx, p)
                e = problem.slot_expr[p]
                cache[e] += a * (problem.slot_lin[p] + cache[num_expr + p]) * 0.5
                cache[e] += problem.slot_sq[p] * a * a
            return penalised_energy(problem, cache)

        return impl
    return None


@njit(cache=True, inline="always")
def _numeric_deltas(problem, values, offsets, x_idx, cache, i, out):
    num_expr = problem.expr_sense.shape[0]
    start = offsets[i]
    m = offsets[i + 1] - start
    here = values[start + x_idx[i]]
    for k in range(m):
        out[k] = 0.0
    for b in range(problem.var_block_ptr[i], problem.var_block_ptr[i + 1]):
        e = problem.block_expr[b]
        p = problem.block_slot_ptr[b]  # a numeric atom has one slot per expression
        g = cache[num_expr + p]
        sq = problem.slot_sq[p]
        if e == 0:
            for k in range(m):
                d = values[start + k] - here
                out[k] += d * g + sq * d * (2.0 * here + d)
        else:
            sense, rhs = problem.expr_sense[e], problem.expr_rhs[e]
            w, v = problem.weight[e], cache[e]
            now = violation(sense, v, rhs)
            for k in range(m):
                d = values[start + k] - here
                out[k] += w * (violation(sense, v + d * g + sq * d * (2.0 * here + d), rhs) - now)


@njit(cache=True, inline="always")
def _group_deltas(problem, offsets, x_idx, cache, i, out):
    num_expr = problem.expr_sense.shape[0]
    m = offsets[i + 1] - offsets[i]
    cur = x_idx[i]
    for k in range(m):
        out[k] = 0.0
    # Case k changes v_e by G_e[k] - G_e[cur], G_e[a] the field of member a's slot in e
    # (0 if member a is not in e): a shift common to every case, plus one per slot.
    common = 0.0
    for b in range(problem.var_block_ptr[i], problem.var_block_ptr[i + 1]):
        e = problem.block_expr[b]
        lo, hi = problem.block_slot_ptr[b], problem.block_slot_ptr[b + 1]
        g_cur = 0.0
        for p in range(lo, hi):
            if problem.slot_case[p] == cur:
                g_cur = cache[num_expr + p]
        if e == 0:
            common -= g_cur
            for p in range(lo, hi):
                out[problem.slot_case[p]] += cache[num_expr + p]
        else:
            sense, rhs = problem.expr_sense[e], problem.expr_rhs[e]
            w, v = problem.weight[e], cache[e]
            now = violation(sense, v, rhs)
            shift = w * (violation(sense, v - g_cur, rhs) - now)
            common += shift
            for p in range(lo, hi):
                moved = violation(sense, v + cache[num_expr + p] - g_cur, rhs)
                out[problem.slot_case[p]] += w * (moved - now) - shift
    for k in range(m):
        out[k] += common


@overload(obj_deltas, inline="always", jit_options={"cache": True})
def _deltas_constrained(problem, values, offsets, x_idx, cache, i, out):
    if is_kind(problem, ConstrainedProblem):

        def impl(problem, values, offsets, x_idx, cache, i, out):
            if problem.group[i] != 0:
                _group_deltas(problem, offsets, x_idx, cache, i, out)
            else:
                _numeric_deltas(problem, values, offsets, x_idx, cache, i, out)
            out[x_idx[i]] = 0.0

        return impl
    return None


@overload(obj_apply, inline="always", jit_options={"cache": True})
def _apply_constrained(problem, values, offsets, x_idx, cache, i, k):
    if is_kind(problem, ConstrainedProblem):

        def impl(problem, values, offsets, x_idx, cache, i, k):
            old = x_idx[i]
            if old == k:
                return
            num_expr = problem.expr_sense.shape[0]
            group = problem.group[i] != 0
            here = values[offsets[i] + old]
            d = values[offsets[i] + k] - here
            for b in range(problem.var_block_ptr[i], problem.var_block_ptr[i + 1]):
                e = problem.block_expr[b]
                for p in range(problem.block_slot_ptr[b], problem.block_slot_ptr[b + 1]):
                    # A slot's own field does not depend on its variable (no term joins
                    # two atoms of one variable), so reading it before the updates is exact.
                    g = cache[num_expr + p]
                    if group:
                        case = problem.slot_case[p]
                        if case == old:
                            cache[e] -= g
                            _couple(problem, cache, num_expr, p, -1.0)
                        elif case == k:
                            cache[e] += g
                            _couple(problem, cache, num_expr, p, 1.0)
                    else:
                        cache[e] += d * g + problem.slot_sq[p] * d * (2.0 * here + d)
                        _couple(problem, cache, num_expr, p, d)
            x_idx[i] = k

        return impl
    return None
