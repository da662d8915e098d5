"""The output layer's fast paths of the dense-network kernel kind.

An output-layer weight moves one logit per touched sample, so the loss
change of every sample follows in O(1) from the cached sums (see
:mod:`combopt._kernels.nn_dense`). These loops run ~10^8 sample updates per
MNIST iteration, so they keep to scalars and arrays taken out of the problem
tuple before the loop: passing the tuple to a helper inside a loop costs a
reference-count update of each of its arrays per sample.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from combopt._kernels.nn_dense_base import (
    _CANCEL_RATIO,
    _LOG_BATCH,
    _MAX_EXP,
    LOSS_CROSS_ENTROPY,
    _record,
    _touched_count,
    _touched_input,
    _trial_loss,
)


@njit(cache=True)
def _exact_delta(p, cache, layer, u, n, h, d, zbuf, bufa, bufb):
    """Sample ``n``'s loss change by an exact O(C) evaluation (the guarded slow path)."""
    c = p.sizes[layer + 1]
    return _trial_loss(p, cache, layer, u, n, h, d, zbuf, bufa, bufb) - cache[_record(p, n) + c + 3]


@njit(cache=True, inline="always")
def _fill_ratios(values, lo, n_vals, cur, evenly, step, h, ratio, at):
    """``ratio[at + k] = exp((values[lo + k] - values[lo + cur]) h)`` for every value ``k``.

    An evenly spaced domain needs one ``exp``: the others are its powers.
    """
    if evenly:
        ratio[at + cur] = 1.0
        grow = np.exp(step * h)  # inf or 0 on overflow: caught by the guards of the caller
        for k in range(cur + 1, n_vals):
            ratio[at + k] = ratio[at + k - 1] * grow
        shrink = 1.0 / grow
        for k in range(cur - 1, -1, -1):
            ratio[at + k] = ratio[at + k + 1] * shrink
    else:
        v_cur = values[lo + cur]
        for k in range(n_vals):
            ratio[at + k] = np.exp((values[lo + k] - v_cur) * h)


@njit(cache=True)
def _output_deltas(p, values, lo, n_vals, cur, cache, layer, j, u, out, zbuf, bufa, bufb):
    """Loss deltas of an output-layer weight, summed (not yet averaged) into ``out``.

    Per sample one logit moves by ``d h``, so ``e_u`` becomes ``e_u r`` with
    ``r = exp(d h)`` and ``S' = S + e_u (r - 1)``. For the cross-entropy the
    new loss is ``log(S') + m - z_y``, so the change is ``log(S'/S)`` minus
    ``d h`` when ``u`` is the label; the ratios ``S'/S`` of ``_LOG_BATCH``
    samples are multiplied before one logarithm (``S >= 1`` as ``m`` is the
    largest logit at the last refresh, so each ratio lies in
    ``[1e-4, 1 + e^30]`` and 16 of them cannot overflow). For the squared
    error ``Q' = Q + e_u^2 (r^2 - 1)`` and the loss is
    ``Q'/S'^2 - 2 e_y'/S' + 1``, O(1) per sample too. Inputs with few
    distinct values (``p.xlevels``, MNIST's grey levels) need one ``exp`` per
    distinct value and call: the ratios are tabulated first (one ``exp`` per
    level for an evenly spaced domain ``alpha * omega``); other inputs one
    ``exp`` per sample and value. Two values are evaluated per pass.
    """
    step = values[lo + 1] - values[lo]
    evenly = True
    for k in range(n_vals):
        if abs(values[lo + k] - (values[lo] + k * step)) > 1e-12 * abs(step):
            evenly = False
    count = _touched_count(p, layer, j)
    n_levels = p.xlevels.shape[0]
    tabulate = layer == 0 and j >= 0 and n_levels > 0 and 4 * n_levels < count
    table = np.empty(n_levels * n_vals if tabulate else n_vals)
    if tabulate:
        for v in range(n_levels):
            _fill_ratios(values, lo, n_vals, cur, evenly, step, p.xlevels[v], table, v * n_vals)
    others = [k for k in range(n_vals) if k != cur]
    for at in range(0, len(others), 2):
        k1 = others[at]
        k2 = others[at + 1] if at + 1 < len(others) else -1
        t1, t2 = _output_delta_pair(p, values, lo, cur, cache, layer, j, u, k1, k2, n_vals,
                                    table, tabulate, zbuf, bufa, bufb)
        out[k1] = t1
        if k2 >= 0:
            out[k2] = t2


@njit(cache=True, inline="always")
def _one_delta(cross_entropy, s, e_old, q, r, is_label, e_y, old_loss):
    """One sample's fast-path term for one value: ``(ok, loss change or S'/S)``.

    Scalars only (no array), so inlining it costs nothing per sample. For the
    cross-entropy the term is the ratio ``S'/S`` (the label's ``- d h`` is
    added by the caller); ``ok`` is false where the exact evaluation is needed.
    """
    e_new = e_old * r
    s_new = s + (e_new - e_old)
    # e_new < e^_MAX_SHIFT is the overflow guard z_new - m < _MAX_SHIFT.
    if not (e_new < _MAX_EXP and s_new > _CANCEL_RATIO * s):
        return False, 0.0
    if cross_entropy:
        return True, s_new / s
    q_new = q + (e_new * e_new - e_old * e_old)
    if not q_new > _CANCEL_RATIO * q:
        return False, 0.0
    inv = 1.0 / s_new
    e_yn = e_new if is_label else e_y
    return True, q_new * inv * inv - 2.0 * e_yn * inv + 1.0 - old_loss


@njit(cache=True)
def _output_delta_pair(p, values, lo, cur, cache, layer, j, u, k1, k2, n_vals, table, tabulate,
                       zbuf, bufa, bufb):
    """Summed loss changes ``(of value k1, of value k2)`` of an output weight, one pass.

    ``k2 < 0`` evaluates ``k1`` alone. Scalar accumulators, and the problem's
    arrays taken out of ``p`` first: passing ``p`` to a helper inside the
    loop costs a reference-count update of each of its arrays per sample,
    which made this loop ten times slower.
    """
    c = p.sizes[layer + 1]
    d1 = values[lo + k1] - values[lo + cur]
    d2 = values[lo + k2] - values[lo + cur] if k2 >= 0 else 0.0
    cross_entropy = p.loss == LOSS_CROSS_ENTROPY
    xindices, xdata, xcode, labels = p.xindices, p.xdata, p.xcode, p.y
    first = p.xindptr[j] if layer == 0 and j >= 0 else 0
    h_base = p.h_off[layer - 1] + j if layer > 0 and j >= 0 else 0
    in_w = p.sizes[layer]
    stats_off = p.stats_off
    total1 = 0.0
    total2 = 0.0
    prod1 = 1.0
    prod2 = 1.0
    pending = 0
    for t in range(_touched_count(p, layer, j)):
        n, h = _touched_input(xindices, xdata, first, cache, h_base, in_w, layer, j, t)
        if h == 0.0:
            continue
        if tabulate:
            row = xcode[first + t] * n_vals
            r1 = table[row + k1]
            r2 = table[row + k2] if k2 >= 0 else 1.0
        else:
            r1 = np.exp(d1 * h)
            r2 = np.exp(d2 * h)
        rec = stats_off + n * (c + 4)
        s = cache[rec + c]
        e_old = cache[rec + u]
        q = cache[rec + c + 1]
        label = labels[n]
        is_label = label == u
        e_y = cache[rec + label]
        old_loss = cache[rec + c + 3]
        ok1, v1 = _one_delta(cross_entropy, s, e_old, q, r1, is_label, e_y, old_loss)
        ok2, v2 = _one_delta(cross_entropy, s, e_old, q, r2, is_label, e_y, old_loss)
        if not ok1:
            v1 = 1.0 if cross_entropy else 0.0
            total1 += _exact_delta(p, cache, layer, u, n, h, d1, zbuf, bufa, bufb)
        elif cross_entropy and is_label:
            total1 -= d1 * h
        if k2 >= 0 and not ok2:
            v2 = 1.0 if cross_entropy else 0.0
            total2 += _exact_delta(p, cache, layer, u, n, h, d2, zbuf, bufa, bufb)
        elif cross_entropy and is_label:
            total2 -= d2 * h
        if not cross_entropy:
            total1 += v1
            total2 += v2
            continue
        prod1 *= v1
        prod2 *= v2
        pending += 1
        if pending == _LOG_BATCH:
            total1 += np.log(prod1)
            total2 += np.log(prod2)
            prod1 = 1.0
            prod2 = 1.0
            pending = 0
    return total1 + np.log(prod1), total2 + np.log(prod2)


@njit(cache=True)
def _apply_output(p, cache, layer, j, u, d):
    """Move logit ``u`` by ``d h`` for every sample an output weight touches; the loss change.

    The per-sample records are updated exactly as :func:`_refresh_logit` does
    (the same operations, bit for bit), with the problem's arrays taken out
    of ``p`` first: a helper taking ``p`` inside the loop costs a
    reference-count update of each of its arrays per sample.
    """
    c = p.sizes[layer + 1]
    xindices, xdata, labels = p.xindices, p.xdata, p.y
    first = p.xindptr[j] if layer == 0 and j >= 0 else 0
    h_base = p.h_off[layer - 1] + j if layer > 0 and j >= 0 else 0
    in_w = p.sizes[layer]
    a_off = p.a_off[layer]
    stats_off = p.stats_off
    cross_entropy = p.loss == LOSS_CROSS_ENTROPY
    total = 0.0
    for t in range(_touched_count(p, layer, j)):
        n, h = _touched_input(xindices, xdata, first, cache, h_base, in_w, layer, j, t)
        if h == 0.0:
            continue
        base = a_off + n * c
        rec = stats_off + n * (c + 4)
        cache[base + u] += d * h
        z = cache[base + u]
        m = cache[rec + c + 2]
        if z > m or cache[rec + u] >= 1.0:  # a new or a moved maximum: refresh all of C
            m = cache[base]
            for kk in range(1, c):
                m = max(m, cache[base + kk])
            for kk in range(c):
                cache[rec + kk] = np.exp(cache[base + kk] - m)
        else:
            cache[rec + u] = np.exp(z - m)
        s = 0.0
        q = 0.0
        for kk in range(c):
            e = cache[rec + kk]
            s += e
            q += e * e
        label = labels[n]
        if cross_entropy:
            loss = np.log(s) + m - cache[base + label]
        else:
            loss = q / (s * s) - 2.0 * cache[rec + label] / s + 1.0
        total += loss - cache[rec + c + 3]
        cache[rec + c] = s
        cache[rec + c + 1] = q
        cache[rec + c + 2] = m
        cache[rec + c + 3] = loss
    return total
