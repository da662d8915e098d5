"""Kernel objective kind for dense classifiers: softmax regression and MLPs.

The network has ``L`` fully connected layers of sizes ``sizes[0] -> sizes[1]
-> ... -> sizes[L]``; hidden layers use one activation (relu, tanh or
sigmoid), the last layer's outputs are the logits ``z`` of a softmax, and the
energy is the mean over the ``N`` training samples of the cross-entropy
``log sum_k exp z_k - z_y`` or of the squared error ``sum_k (p_k - [k = y])^2``.

Variables are the weights, layer by layer: layer ``l``'s matrix ``W_l`` of
shape ``(sizes[l], sizes[l+1])`` row-major, then its bias of length
``sizes[l+1]``; variable ``var_start[l] + j * sizes[l+1] + u`` is ``W_l[j, u]``.

Incremental evaluation (what makes CoNNTrA fast here):

* Changing ``W_l[j, u]`` by ``d`` moves the pre-activation of unit ``u`` of
  layer ``l`` by ``d * h_j`` for the samples whose input ``h_j`` is non-zero
  (the training inputs are stored column-wise sparse, so MNIST's blank pixels
  cost nothing; a relu unit that stays off costs nothing above it).
* In the output layer that moves one logit per sample, and the per-sample loss
  is updated in O(1) from cached sums ``S = sum_k exp(z_k - m)`` and
  ``Q = sum_k exp(z_k - m)^2`` (``m`` is a per-sample shift). When the
  subtraction would lose precision (``S'`` much smaller than ``S``) or the
  exponent could overflow, that sample is recomputed in O(C) instead.
* In a hidden layer the unit's new activation changes the next layer's
  pre-activations by a rank-one term (O(width)); only the layers above it are
  recomputed for that sample.

``obj_apply`` recomputes the changed samples' sums exactly, so no rounding
accumulates in ``S``/``Q``. The cache row holds the summed loss, the weights,
each layer's pre-activations and each hidden layer's activations (``N x
width``, row-major), then per sample ``[exp(z_k - m) for k < C, S, Q, m,
loss]``, together so that a trial evaluation touches one cache line.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit
from numba.extending import overload

from combopt._kernels.protocol import is_kind, obj_apply, obj_deltas, obj_init

ACT_RELU, ACT_TANH, ACT_SIGMOID = 0, 1, 2
LOSS_CROSS_ENTROPY, LOSS_SQUARED = 0, 1

#: Recompute exactly (O(C)) when the updated sum drops below this fraction of the cached one.
_CANCEL_RATIO = 1e-4
#: ... or when a logit rises this far above the cached shift (exp overflow).
_MAX_SHIFT = 30.0
_MAX_EXP = float(np.exp(_MAX_SHIFT))

DenseNetProblem = namedtuple(
    "DenseNetProblem",
    [
        "xdata",  # float64 (nnz,)  CSC values of the training inputs (N, sizes[0])
        "xindices",  # int64 (nnz,)  CSC row (sample) indices
        "xindptr",  # int64 (sizes[0] + 1,)  CSC column pointers
        "y",  # int64 (N,)  labels
        "sizes",  # int64 (L + 1,)  layer widths
        "var_start",  # int64 (L + 1,)  first variable of each layer; var_start[L] = n
        "a_off",  # int64 (L,)  cache offset of each layer's pre-activations
        "h_off",  # int64 (L,)  cache offset of each hidden layer's activations (-1 for the last)
        "w_off",  # int64  cache offset of the current weight values
        "stats_off",  # int64  cache offset of the per-sample records (N x (C + 4))
        "n_samples",  # int64
        "activation",  # int64  ACT_*
        "loss",  # int64  LOSS_*
        "max_width",  # int64  widest layer (scratch size)
    ],
)


def cache_layout(n_samples: int, sizes, n_variables: int):
    """Return ``(a_off, h_off, w_off, stats_off, length)`` of a cache row.

    Examples
    --------
    >>> a, h, w, s, length = cache_layout(2, [3, 4, 2], 26)
    >>> int(w), a.tolist(), h.tolist(), int(s), int(length)
    (1, [27, 43], [35, -1], 47, 59)
    """
    n_layers = len(sizes) - 1
    w_off = 1
    pos = w_off + n_variables
    a_off = np.full(n_layers, -1, dtype=np.int64)
    h_off = np.full(n_layers, -1, dtype=np.int64)
    for layer in range(n_layers):
        a_off[layer] = pos
        pos += n_samples * sizes[layer + 1]
        if layer < n_layers - 1:
            h_off[layer] = pos
            pos += n_samples * sizes[layer + 1]
    stats_off = pos
    length = stats_off + n_samples * (sizes[-1] + 4)
    return a_off, h_off, np.int64(w_off), np.int64(stats_off), np.int64(length)


@njit(cache=True, inline="always")
def _act(kind, a):
    """Hidden activation ``kind`` (``ACT_*``) of a scalar; the sigmoid never overflows."""
    if kind == ACT_RELU:
        return max(0.0, a)
    if kind == ACT_TANH:
        return np.tanh(a)
    if a >= 0.0:
        return 1.0 / (1.0 + np.exp(-a))
    e = np.exp(a)
    return e / (1.0 + e)


@njit(cache=True, inline="always")
def _loss_of_logits(loss_kind, z, y):
    """Loss of one sample's logits ``z`` (shape ``(C,)``); :func:`_refresh_sample` in the cache."""
    m = z[0]
    for k in range(1, z.shape[0]):
        m = max(m, z[k])
    s = 0.0
    q = 0.0
    for k in range(z.shape[0]):
        e = np.exp(z[k] - m)
        s += e
        q += e * e
    if loss_kind == LOSS_CROSS_ENTROPY:
        return np.log(s) + m - z[y]
    ey = np.exp(z[y] - m)
    return q / (s * s) - 2.0 * ey / s + 1.0


@njit(cache=True, inline="always")
def _record(p, n):
    """Cache offset of sample ``n``'s record.

    ``S`` is at ``+C``, ``Q`` ``+C+1``, ``m`` ``+C+2``, loss ``+C+3``.
    """
    c = p.sizes[p.sizes.shape[0] - 1]
    return p.stats_off + n * (c + 4)


@njit(cache=True, inline="always")
def _store_sums(p, cache, rec, c, s, q, m, loss_y_term, e_y):
    """Store ``S, Q, m`` and the loss of a sample's record; return the loss change.

    ``loss_y_term`` is the label's logit ``z_y`` and ``e_y = exp(z_y - m)``.
    """
    if p.loss == LOSS_CROSS_ENTROPY:
        loss = np.log(s) + m - loss_y_term
    else:
        loss = q / (s * s) - 2.0 * e_y / s + 1.0
    old = cache[rec + c + 3]
    cache[rec + c] = s
    cache[rec + c + 1] = q
    cache[rec + c + 2] = m
    cache[rec + c + 3] = loss
    return loss - old


@njit(cache=True)
def _refresh_sample(p, cache, n):
    """Recompute sample ``n``'s record from its logits; return the loss change."""
    n_layers = p.sizes.shape[0] - 1
    c = p.sizes[n_layers]
    base = p.a_off[n_layers - 1] + n * c
    rec = _record(p, n)
    m = cache[base]
    for k in range(1, c):
        m = max(m, cache[base + k])
    s = 0.0
    q = 0.0
    for k in range(c):
        e = np.exp(cache[base + k] - m)
        cache[rec + k] = e
        s += e
        q += e * e
    yn = p.y[n]
    return _store_sums(p, cache, rec, c, s, q, m, cache[base + yn], cache[rec + yn])


@njit(cache=True)
def _refresh_logit(p, cache, n, u):
    """Update sample ``n``'s record after its logit ``u`` alone changed; return the loss change.

    While ``m`` stays the largest logit only ``exp(z_u - m)`` is new; the sums
    are re-added from the cached exponentials, so the record is bit for bit
    what :func:`_refresh_sample` computes. A new maximum, or a change of the
    old one, takes the full refresh.
    """
    n_layers = p.sizes.shape[0] - 1
    c = p.sizes[n_layers]
    base = p.a_off[n_layers - 1] + n * c
    rec = _record(p, n)
    m = cache[rec + c + 2]
    z = cache[base + u]
    if z > m or cache[rec + u] >= 1.0:
        return _refresh_sample(p, cache, n)
    cache[rec + u] = np.exp(z - m)
    s = 0.0
    q = 0.0
    for k in range(c):
        e = cache[rec + k]
        s += e
        q += e * e
    yn = p.y[n]
    return _store_sums(p, cache, rec, c, s, q, m, cache[base + yn], cache[rec + yn])


@njit(cache=True, inline="always")
def _dense_layer(p, cache, lay, inp, out):
    """``out[:width] = inp[:sizes[lay]] @ W_lay + b_lay`` (activated unless last)."""
    n_layers = p.sizes.shape[0] - 1
    in_w = p.sizes[lay]
    width = p.sizes[lay + 1]
    start = p.w_off + p.var_start[lay]
    for v in range(width):
        out[v] = cache[start + in_w * width + v]
    for j in range(in_w):
        hj = inp[j]
        if hj != 0.0:
            row = start + j * width
            for v in range(width):
                out[v] += hj * cache[row + v]
    if lay < n_layers - 1:
        for v in range(width):
            out[v] = _act(p.activation, out[v])


@njit(cache=True, inline="always")
def _forward_from(p, cache, layer, bufa, bufb, zbuf):
    """Forward one sample whose activations of width ``sizes[layer]`` are in
    ``bufa``; write its logits into ``zbuf`` (the cache is not touched)."""
    n_layers = p.sizes.shape[0] - 1
    for lay in range(layer, n_layers):
        even = (lay - layer) % 2 == 0
        if lay == n_layers - 1:
            _dense_layer(p, cache, lay, bufa if even else bufb, zbuf)
        elif even:
            _dense_layer(p, cache, lay, bufa, bufb)
        else:
            _dense_layer(p, cache, lay, bufb, bufa)


@njit(cache=True, inline="always")
def _trial_loss(p, cache, layer, u, n, h, d, zbuf, bufa, bufb):
    """Loss of sample ``n`` if unit ``u`` of ``layer`` received ``d * h`` more input."""
    n_layers = p.sizes.shape[0] - 1
    out_w = p.sizes[layer + 1]
    rec = _record(p, n)
    if layer == n_layers - 1:
        # Output layer: one logit moves; O(1) from the cached sums.
        base = p.a_off[layer] + n * out_w
        z_new = cache[base + u] + d * h
        m = cache[rec + out_w + 2]
        yn = p.y[n]
        if z_new - m < _MAX_SHIFT:
            e_old = cache[rec + u]
            e_new = np.exp(z_new - m)
            s = cache[rec + out_w]
            s_new = s - e_old + e_new
            if s_new > _CANCEL_RATIO * s:
                if p.loss == LOSS_CROSS_ENTROPY:
                    zy = z_new if u == yn else cache[base + yn]
                    return np.log(s_new) + m - zy
                q = cache[rec + out_w + 1]
                q_new = q - e_old * e_old + e_new * e_new
                if q_new > _CANCEL_RATIO * q:
                    ey = e_new if u == yn else cache[rec + yn]
                    return q_new / (s_new * s_new) - 2.0 * ey / s_new + 1.0
        for k in range(out_w):
            zbuf[k] = cache[base + k]
        zbuf[u] = z_new
        return _loss_of_logits(p.loss, zbuf, yn)
    # Hidden layer: one unit's activation moves.
    a_new = cache[p.a_off[layer] + n * out_w + u] + d * h
    hpos = p.h_off[layer] + n * out_w
    dh = _act(p.activation, a_new) - cache[hpos + u]
    if dh == 0.0:
        return cache[rec + p.sizes[n_layers] + 3]
    next_w = p.sizes[layer + 2]
    wrow = p.w_off + p.var_start[layer + 1] + u * next_w
    nbase = p.a_off[layer + 1] + n * next_w
    if layer + 1 == n_layers - 1:
        for k in range(next_w):
            zbuf[k] = cache[nbase + k] + dh * cache[wrow + k]
        return _loss_of_logits(p.loss, zbuf, p.y[n])
    for k in range(next_w):
        bufa[k] = _act(p.activation, cache[nbase + k] + dh * cache[wrow + k])
    _forward_from(p, cache, layer + 2, bufa, bufb, zbuf)
    return _loss_of_logits(p.loss, zbuf, p.y[n])


@njit(cache=True)
def _locate(p, i):
    """Return ``(layer, j, u)`` of variable ``i``; ``j == -1`` for a bias."""
    layer = 0
    while p.var_start[layer + 1] <= i:
        layer += 1
    local = i - p.var_start[layer]
    out_w = p.sizes[layer + 1]
    n_weights = p.sizes[layer] * out_w
    if local >= n_weights:
        return layer, -1, local - n_weights
    return layer, local // out_w, local % out_w


#: Samples whose loss ratios are multiplied together before one logarithm.
_LOG_BATCH = 16


@njit(cache=True, inline="always")
def _touched_count(p, layer, j):
    """How many samples weight ``(layer, j)`` can reach: its pixel's nonzeros, or all."""
    if layer == 0 and j >= 0:
        return p.xindptr[j + 1] - p.xindptr[j]
    return p.n_samples


@njit(cache=True, inline="always")
def _touched(p, cache, layer, j, t):
    """``(sample, input value)`` of the ``t``-th sample weight ``(layer, j)`` reaches.

    A first-layer weight reads the sparse input column of pixel ``j``; a bias
    (``j < 0``) has input 1; a deeper weight reads the cached activation ``j``
    of the layer below.
    """
    if layer == 0 and j >= 0:
        pos = p.xindptr[j] + t
        return np.int64(p.xindices[pos]), p.xdata[pos]
    if j < 0:
        return np.int64(t), 1.0
    return np.int64(t), cache[p.h_off[layer - 1] + t * p.sizes[layer] + j]


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
    ``Q'/S'^2 - 2 e_y'/S' + 1``, O(1) per sample too. An evenly spaced domain
    (``alpha * omega``) needs one ``exp`` per sample for all its values.
    """
    c = p.sizes[layer + 1]
    v_cur = values[lo + cur]
    step = values[lo + 1] - values[lo]
    evenly = True
    for k in range(n_vals):
        if abs(values[lo + k] - (values[lo] + k * step)) > 1e-12 * abs(step):
            evenly = False
    prod = np.ones(n_vals)
    ratio = np.empty(n_vals)
    prod_s = 1.0
    log_s = 0.0
    pending = 0
    for t in range(_touched_count(p, layer, j)):
        n, h = _touched(p, cache, layer, j, t)
        if h == 0.0:
            continue
        rec = _record(p, n)
        s = cache[rec + c]
        e_old = cache[rec + u]
        if evenly:
            ratio[cur] = 1.0
            grow = np.exp(step * h)  # inf or 0 on overflow: caught by the guard below
            for k in range(cur + 1, n_vals):
                ratio[k] = ratio[k - 1] * grow
            shrink = 1.0 / grow
            for k in range(cur - 1, -1, -1):
                ratio[k] = ratio[k + 1] * shrink
        else:
            for k in range(n_vals):
                ratio[k] = np.exp((values[lo + k] - v_cur) * h)
        is_label = p.y[n] == u
        cross_entropy = p.loss == LOSS_CROSS_ENTROPY
        q = cache[rec + c + 1]
        for k in range(n_vals):
            if k == cur:
                continue
            e_new = e_old * ratio[k]
            s_new = s + (e_new - e_old)
            q_new = q + (e_new * e_new - e_old * e_old)
            # e_new < e^_MAX_SHIFT is the overflow guard z_new - m < _MAX_SHIFT.
            fast = e_new < _MAX_EXP and s_new > _CANCEL_RATIO * s
            if cross_entropy and fast:
                prod[k] *= s_new
                if is_label:
                    out[k] -= (values[lo + k] - v_cur) * h
            elif fast and q_new > _CANCEL_RATIO * q:
                e_y = e_new if is_label else cache[rec + p.y[n]]
                out[k] += q_new / (s_new * s_new) - 2.0 * e_y / s_new + 1.0 - cache[rec + c + 3]
            else:
                # Exact O(C) evaluation; a cross-entropy ratio of this pair counts as 1.
                prod[k] *= s
                d = values[lo + k] - v_cur
                out[k] += (
                    _trial_loss(p, cache, layer, u, n, h, d, zbuf, bufa, bufb) - cache[rec + c + 3]
                )
        if not cross_entropy:
            continue
        prod_s *= s
        pending += 1
        if pending == _LOG_BATCH:
            for k in range(n_vals):
                out[k] += np.log(prod[k])
                prod[k] = 1.0
            log_s += np.log(prod_s)
            prod_s = 1.0
            pending = 0
    if p.loss != LOSS_CROSS_ENTROPY:
        return
    log_s += np.log(prod_s)
    for k in range(n_vals):
        if k != cur:
            out[k] += np.log(prod[k]) - log_s


@njit(cache=True)
def _generic_deltas(p, values, lo, n_vals, cur, cache, layer, j, u, out, zbuf, bufa, bufb):
    """Summed loss changes of every value, one trial evaluation per sample and value."""
    c = p.sizes[p.sizes.shape[0] - 1]
    v_cur = values[lo + cur]
    for t in range(_touched_count(p, layer, j)):
        n, h = _touched(p, cache, layer, j, t)
        if h == 0.0:
            continue
        base_loss = cache[_record(p, n) + c + 3]
        for k in range(n_vals):
            if k != cur:
                d = values[lo + k] - v_cur
                out[k] += _trial_loss(p, cache, layer, u, n, h, d, zbuf, bufa, bufb) - base_loss


@njit(cache=True)
def dense_deltas(p, values, offsets, x_idx, cache, i, out):
    """``out[k] = f(x with x_i = value k) - f(x)`` for every value of variable ``i``."""
    lo = offsets[i]
    n_vals = offsets[i + 1] - lo
    cur = x_idx[i]
    for k in range(n_vals):
        out[k] = 0.0
    layer, j, u = _locate(p, i)
    zbuf = np.empty(p.sizes[p.sizes.shape[0] - 1])
    bufa = np.empty(p.max_width)
    bufb = np.empty(p.max_width)
    if layer == p.sizes.shape[0] - 2 and n_vals > 1:
        _output_deltas(p, values, lo, n_vals, cur, cache, layer, j, u, out, zbuf, bufa, bufb)
    else:
        _generic_deltas(p, values, lo, n_vals, cur, cache, layer, j, u, out, zbuf, bufa, bufb)
    inv_n = 1.0 / p.n_samples
    for k in range(n_vals):
        out[k] *= inv_n
    out[cur] = 0.0


@njit(cache=True)
def _propagate_sample(p, cache, layer, u, n, dz):
    """Add ``dz`` to pre-activation ``u`` of ``layer`` for sample ``n`` and update
    everything above it in the cache; return the sample's loss change."""
    n_layers = p.sizes.shape[0] - 1
    out_w = p.sizes[layer + 1]
    cache[p.a_off[layer] + n * out_w + u] += dz
    if layer == n_layers - 1:
        return _refresh_logit(p, cache, n, u)
    hpos = p.h_off[layer] + n * out_w + u
    h_new = _act(p.activation, cache[p.a_off[layer] + n * out_w + u])
    dh = h_new - cache[hpos]
    cache[hpos] = h_new
    if dh == 0.0:
        return 0.0
    next_w = p.sizes[layer + 2]
    wrow = p.w_off + p.var_start[layer + 1] + u * next_w
    nbase = p.a_off[layer + 1] + n * next_w
    for k in range(next_w):
        cache[nbase + k] += dh * cache[wrow + k]
    # Recompute the layers above the changed one for this sample.
    for lay in range(layer + 1, n_layers):
        width = p.sizes[lay + 1]
        abase = p.a_off[lay] + n * width
        if lay > layer + 1:
            in_w = p.sizes[lay]
            hin = p.h_off[lay - 1] + n * in_w
            start = p.w_off + p.var_start[lay]
            for v in range(width):
                cache[abase + v] = cache[start + in_w * width + v]
            for jj in range(in_w):
                hj = cache[hin + jj]
                if hj != 0.0:
                    row = start + jj * width
                    for v in range(width):
                        cache[abase + v] += hj * cache[row + v]
        if lay < n_layers - 1:
            hbase = p.h_off[lay] + n * width
            for v in range(width):
                cache[hbase + v] = _act(p.activation, cache[abase + v])
    return _refresh_sample(p, cache, n)


@njit(cache=True)
def dense_apply(p, values, offsets, x_idx, cache, i, k):
    """Set variable ``i`` to its ``k``-th value, updating the cache and ``x_idx``."""
    lo = offsets[i]
    d = values[lo + k] - values[lo + x_idx[i]]
    x_idx[i] = k
    cache[p.w_off + i] = values[lo + k]
    if d == 0.0:
        return
    layer, j, u = _locate(p, i)
    total = 0.0
    for t in range(_touched_count(p, layer, j)):
        n, h = _touched(p, cache, layer, j, t)
        if h != 0.0:
            total += _propagate_sample(p, cache, layer, u, n, d * h)
    cache[0] += total


@njit(cache=True)
def dense_init(p, values, offsets, x_idx, cache):
    """Fill the cache row for assignment ``x_idx``; return the energy (mean loss)."""
    n_vars = x_idx.shape[0]
    for i in range(n_vars):
        cache[p.w_off + i] = values[offsets[i] + x_idx[i]]
    n_layers = p.sizes.shape[0] - 1
    ns = p.n_samples
    for lay in range(n_layers):
        in_w = p.sizes[lay]
        width = p.sizes[lay + 1]
        start = p.w_off + p.var_start[lay]
        a0 = p.a_off[lay]
        for n in range(ns):
            for v in range(width):
                cache[a0 + n * width + v] = cache[start + in_w * width + v]
        if lay == 0:
            for jj in range(in_w):
                row = start + jj * width
                for pos in range(p.xindptr[jj], p.xindptr[jj + 1]):
                    base = a0 + p.xindices[pos] * width
                    xv = p.xdata[pos]
                    for v in range(width):
                        cache[base + v] += xv * cache[row + v]
        else:
            h0 = p.h_off[lay - 1]
            for n in range(ns):
                base = a0 + n * width
                for jj in range(in_w):
                    hj = cache[h0 + n * in_w + jj]
                    if hj != 0.0:
                        row = start + jj * width
                        for v in range(width):
                            cache[base + v] += hj * cache[row + v]
        if lay < n_layers - 1:
            h0 = p.h_off[lay]
            for t in range(ns * width):
                cache[h0 + t] = _act(p.activation, cache[a0 + t])
    c = p.sizes[n_layers]
    for n in range(ns):
        cache[_record(p, n) + c + 3] = 0.0
    total = 0.0
    for n in range(ns):
        total += _refresh_sample(p, cache, n)
    cache[0] = total
    return total / ns


@overload(obj_init, jit_options={"cache": True})
def _init_dense(problem, values, offsets, x_idx, cache):
    if is_kind(problem, DenseNetProblem):

        def impl(problem, values, offsets, x_idx, cache):
            return dense_init(problem, values, offsets, x_idx, cache)

        return impl
    return None


@overload(obj_deltas, jit_options={"cache": True})
def _deltas_dense(problem, values, offsets, x_idx, cache, i, out):
    if is_kind(problem, DenseNetProblem):

        def impl(problem, values, offsets, x_idx, cache, i, out):
            dense_deltas(problem, values, offsets, x_idx, cache, i, out)

        return impl
    return None


@overload(obj_apply, jit_options={"cache": True})
def _apply_dense(problem, values, offsets, x_idx, cache, i, k):
    if is_kind(problem, DenseNetProblem):

        def impl(problem, values, offsets, x_idx, cache, i, k):
            dense_apply(problem, values, offsets, x_idx, cache, i, k)

        return impl
    return None
