"""The dense-network kernel kind's problem tuple, cache layout and per-sample helpers.

Shared by :mod:`combopt._kernels.nn_dense` (the protocol: deltas, moves,
initialisation) and :mod:`combopt._kernels.nn_output` (the output layer's
fast paths). The model, the cache layout and the incremental evaluation are
described in :mod:`combopt._kernels.nn_dense`.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

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
        "xcode",  # int64 (nnz,) or (0,)  index of each CSC value in ``xlevels``
        "xlevels",  # float64 (V,)  the distinct input values (empty: too many to tabulate)
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
def _touched_input(xindices, xdata, first, cache, h_base, in_w, layer, j, t):
    """:func:`_touched` from the arrays and offsets alone (``first = xindptr[j]``,
    ``h_base = h_off[layer - 1] + j``), for loops that keep the problem tuple out."""
    if layer == 0 and j >= 0:
        return np.int64(xindices[first + t]), xdata[first + t]
    if j < 0:
        return np.int64(t), 1.0
    return np.int64(t), cache[h_base + t * in_w]


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
