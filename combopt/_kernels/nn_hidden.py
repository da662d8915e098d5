"""The top hidden layers' fast paths of the dense-network kernel kind.

A weight ``W_l[j, u]`` of a hidden layer moves unit ``u``'s pre-activation by
``d h_j`` for every sample it touches. When the layer is one of the two below
the output, the new logits follow from the cached ones without a forward pass:

* ``l = L - 2`` (the next layer is the output): the logits move by
  ``dh * W_{l+1}[u, :]``, ``dh`` the change of unit ``u``'s activation;
* ``l = L - 3`` (LeNet's 400 -> 120 layer): unit ``u`` moves the next
  pre-activations by ``dh * W_{l+1}[u, k]``, only at the ``k`` where that
  weight is non-zero (a ternary row is about half zeros), and each next unit
  whose activation changes moves the logits by its change times
  ``W_{l+2}[k, :]``.

So a touched sample costs ``O(nnz(W_{l+1}[u, :]) C)`` instead of the full
``O(width C)`` forward pass above the layer. These loops run ~10^8 sample
updates per MNIST round, so, as in :mod:`combopt._kernels.nn_output`, they
keep to arrays taken out of the problem tuple before the loop (a helper
taking the tuple inside it costs a reference-count update per array and
sample).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from combopt._kernels.nn_dense_base import (
    LOSS_CROSS_ENTROPY,
    _act,
    _loss_of_logits,
    _touched_count,
    _touched_input,
)


@njit(cache=True, inline="always")
def _nonzeros(cache, start, width):
    """``(positions, values, count)`` of the non-zero ``cache[start:start + width]``.

    A hidden unit's outgoing row of the next (ternary) layer: the samples' loop
    then runs over its non-zero weights only.
    """
    nz = np.empty(width, dtype=np.int64)
    nzw = np.empty(width)
    count = 0
    for k in range(width):
        w = cache[start + k]
        if w != 0.0:
            nz[count] = k
            nzw[count] = w
            count += 1
    return nz, nzw, count


@njit(cache=True)
def _hidden_deltas(p, values, lo, n_vals, cur, cache, layer, j, u, out):
    """Summed (not yet averaged) loss changes of every value of a weight of layer
    ``L - 2`` or ``L - 3``, written into ``out`` (``out[cur]`` left at 0).

    A sample whose logits do not move (unit ``u`` stays off, or every next
    unit it reaches does) is skipped, so it contributes exactly 0.
    """
    n_layers = p.sizes.shape[0] - 1
    c = p.sizes[n_layers]
    out_w = p.sizes[layer + 1]
    next_w = p.sizes[layer + 2]
    two_up = layer == n_layers - 3
    act = p.activation
    loss_kind = p.loss
    labels, xindices, xdata = p.y, p.xindices, p.xdata
    first = p.xindptr[j] if layer == 0 and j >= 0 else 0
    in_w = p.sizes[layer]
    h_base = p.h_off[layer - 1] + j if layer > 0 and j >= 0 else 0
    a_base = p.a_off[layer] + u
    hu_base = p.h_off[layer] + u
    z_off = p.a_off[n_layers - 1]
    stats_off = p.stats_off
    # The next layer's non-zero weights out of unit u (and, two layers up, the
    # output weight rows they feed).
    w_next = p.w_off + p.var_start[layer + 1] + u * next_w
    nz, nzw, count = _nonzeros(cache, w_next, next_w)
    a1_off = p.a_off[layer + 1] if two_up else 0
    h1_off = p.h_off[layer + 1] if two_up else 0
    w_top = p.w_off + p.var_start[layer + 2] if two_up else 0
    deltas = np.empty(n_vals)
    v_cur = values[lo + cur]
    for k in range(n_vals):
        deltas[k] = values[lo + k] - v_cur
        out[k] = 0.0
    zbuf = np.empty(c)
    if count == 0:
        return
    for t in range(_touched_count(p, layer, j)):
        n, h = _touched_input(xindices, xdata, first, cache, h_base, in_w, layer, j, t)
        if h == 0.0:
            continue
        a_old = cache[a_base + n * out_w]
        h_old = cache[hu_base + n * out_w]
        z_base = z_off + n * c
        old_loss = cache[stats_off + n * (c + 4) + c + 3]
        for k in range(n_vals):
            if k == cur:
                continue
            dh = _act(act, a_old + deltas[k] * h) - h_old
            if dh == 0.0:
                continue
            for v in range(c):
                zbuf[v] = cache[z_base + v]
            moved = False
            for q in range(count):
                kk = nz[q]
                if not two_up:
                    zbuf[kk] += dh * nzw[q]
                    moved = True
                    continue
                a1 = cache[a1_off + n * next_w + kk]
                d1 = _act(act, a1 + dh * nzw[q]) - cache[h1_off + n * next_w + kk]
                if d1 != 0.0:
                    row = w_top + kk * c
                    for v in range(c):
                        zbuf[v] += d1 * cache[row + v]
                    moved = True
            if moved:
                out[k] += _loss_of_logits(loss_kind, zbuf, labels[n]) - old_loss


@njit(cache=True, inline="always")
def _refresh_record(cache, z_base, rec, c, label, cross_entropy):
    """Recompute a sample's record from its logits as ``_refresh_sample`` does (the
    same operations), from scalars only; return the loss change."""
    m = cache[z_base]
    for k in range(1, c):
        m = max(m, cache[z_base + k])
    s = 0.0
    q = 0.0
    for k in range(c):
        e = np.exp(cache[z_base + k] - m)
        cache[rec + k] = e
        s += e
        q += e * e
    if cross_entropy:
        loss = np.log(s) + m - cache[z_base + label]
    else:
        loss = q / (s * s) - 2.0 * cache[rec + label] / s + 1.0
    old = cache[rec + c + 3]
    cache[rec + c] = s
    cache[rec + c + 1] = q
    cache[rec + c + 2] = m
    cache[rec + c + 3] = loss
    return loss - old


@njit(cache=True)
def _apply_hidden(p, cache, layer, j, u, d):
    """Move a weight of layer ``L - 2`` or ``L - 3`` by ``d``; update every touched
    sample's cached pre-activations, activations, logits and record; the loss change.

    The logits are updated by the same sparse terms as :func:`_hidden_deltas`
    evaluates (not recomputed from the layer below), and the record is then
    recomputed exactly from them.
    """
    n_layers = p.sizes.shape[0] - 1
    c = p.sizes[n_layers]
    out_w = p.sizes[layer + 1]
    next_w = p.sizes[layer + 2]
    two_up = layer == n_layers - 3
    act = p.activation
    cross_entropy = p.loss == LOSS_CROSS_ENTROPY
    labels, xindices, xdata = p.y, p.xindices, p.xdata
    first = p.xindptr[j] if layer == 0 and j >= 0 else 0
    in_w = p.sizes[layer]
    h_base = p.h_off[layer - 1] + j if layer > 0 and j >= 0 else 0
    a_base = p.a_off[layer] + u
    hu_base = p.h_off[layer] + u
    z_off = p.a_off[n_layers - 1]
    stats_off = p.stats_off
    w_next = p.w_off + p.var_start[layer + 1] + u * next_w
    nz, nzw, count = _nonzeros(cache, w_next, next_w)
    a1_off = p.a_off[layer + 1] if two_up else 0
    h1_off = p.h_off[layer + 1] if two_up else 0
    w_top = p.w_off + p.var_start[layer + 2] if two_up else 0
    total = 0.0
    for t in range(_touched_count(p, layer, j)):
        n, h = _touched_input(xindices, xdata, first, cache, h_base, in_w, layer, j, t)
        if h == 0.0:
            continue
        pos = a_base + n * out_w
        cache[pos] += d * h
        h_new = _act(act, cache[pos])
        dh = h_new - cache[hu_base + n * out_w]
        cache[hu_base + n * out_w] = h_new
        if dh == 0.0:
            continue
        z_base = z_off + n * c
        moved = False
        for q in range(count):
            kk = nz[q]
            if not two_up:
                cache[z_base + kk] += dh * nzw[q]
                moved = True
                continue
            a1_pos = a1_off + n * next_w + kk
            cache[a1_pos] += dh * nzw[q]
            h1_new = _act(act, cache[a1_pos])
            d1 = h1_new - cache[h1_off + n * next_w + kk]
            cache[h1_off + n * next_w + kk] = h1_new
            if d1 != 0.0:
                row = w_top + kk * c
                for v in range(c):
                    cache[z_base + v] += d1 * cache[row + v]
                moved = True
        if moved:
            total += _refresh_record(cache, z_base, stats_off + n * (c + 4), c, labels[n],
                                     cross_entropy)
    return total
