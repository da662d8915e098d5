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

import numpy as np
from numba import njit
from numba.extending import overload

from combopt._kernels.nn_dense_base import (  # noqa: F401  (re-exported)
    ACT_RELU,
    ACT_SIGMOID,
    ACT_TANH,
    LOSS_CROSS_ENTROPY,
    LOSS_SQUARED,
    DenseNetProblem,
    _act,
    _locate,
    _record,
    _refresh_logit,
    _refresh_sample,
    _touched,
    _touched_count,
    _trial_loss,
    cache_layout,
)
from combopt._kernels.nn_hidden import _apply_hidden, _hidden_deltas
from combopt._kernels.nn_output import _apply_output, _output_deltas
from combopt._kernels.protocol import is_kind, obj_apply, obj_deltas, obj_init


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
    n_layers = p.sizes.shape[0] - 1
    if layer == n_layers - 1 and n_vals > 1:
        _output_deltas(p, values, lo, n_vals, cur, cache, layer, j, u, out, zbuf, bufa, bufb)
    elif n_layers - 3 <= layer < n_layers - 1:
        _hidden_deltas(p, values, lo, n_vals, cur, cache, layer, j, u, out)
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
    n_layers = p.sizes.shape[0] - 1
    if layer == n_layers - 1:
        cache[0] += _apply_output(p, cache, layer, j, u, d)
        return
    if n_layers - 3 <= layer:
        cache[0] += _apply_hidden(p, cache, layer, j, u, d)
        return
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
