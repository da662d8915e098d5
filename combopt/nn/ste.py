"""The gradient-based ternary baseline: straight-through-estimator training (numpy).

The ternary-weight-network recipe (Li, Zhang and Liu, 2016): every tensor
``w`` is used in the forward pass as ``alpha * t`` with

* ``t = sign(w) [|w| > delta]``, the threshold ``delta = 0.7 mean|w|``;
* ``alpha = mean(|w_i| : |w_i| > delta)``, the least-squares scale of those codes;

and the gradient with respect to the ternary tensor is applied unchanged to
the float ("latent") tensor -- the straight-through estimator -- by Adam.
Like CoNNTrA it starts from the float network of the same run, and every
tensor (weights and biases) is ternary, so the packed model has the same
2 bits per parameter. :func:`ste_dense` trains a :class:`DenseNet`,
:func:`ste_lenet` a :class:`~combopt.nn.lenet.LeNet`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from combopt._numeric.layers import DenseNet, as_images, sample_losses, softmax
from combopt._validation import check_count
from combopt.nn.lenet import LeNet, lenet_loss_and_grad, step_reporter

__all__ = ["STE_THRESHOLD", "ste_dense", "ste_lenet", "ste_record", "ternarize"]

#: The ternary-weight-network threshold, as a multiple of ``mean|w|``.
STE_THRESHOLD = 0.7


def ternarize(w, factor: float = STE_THRESHOLD) -> tuple[float, np.ndarray]:
    """``(alpha, codes)``: ``codes = sign(w) [|w| > factor mean|w|]``, ``alpha`` their mean ``|w|``.

    Examples
    --------
    >>> alpha, codes = ternarize(np.array([0.9, -1.1, 0.05, 1.0]))
    >>> round(alpha, 3), codes.tolist()
    (1.0, [1.0, -1.0, 0.0, 1.0])
    """
    w = np.asarray(w, dtype=np.float64)
    magnitude = np.abs(w)
    keep = magnitude > factor * magnitude.mean() if w.size else magnitude > 0
    alpha = float(magnitude[keep].mean()) if keep.any() else 1.0
    return alpha, np.sign(w) * keep


def _ternary(tensors):
    out = []
    for w in tensors:
        alpha, codes = ternarize(w)
        out.append(alpha * codes)
    return out


def _adam(params, grads, state, rate):
    """One Adam step in place; ``state = [step, moments, squares]``."""
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    state[0] += 1
    step = state[0]
    scaled = rate * np.sqrt(1 - beta2**step) / (1 - beta1**step)
    for p, g, m, v in zip(params, grads, state[1], state[2]):
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        p -= scaled * m / (np.sqrt(v) + eps)


def _dense_grads(weights, biases, activation, X, y, loss):
    """Gradients of the mean ``loss`` of a dense net at ``(weights, biases)`` on a batch."""
    hs = [X]
    for layer, (w, b) in enumerate(zip(weights, biases)):
        z = hs[-1] @ w + b
        if layer < len(weights) - 1:
            if activation == "relu":
                z = np.maximum(z, 0.0)
            elif activation == "tanh":
                z = np.tanh(z)
            else:
                z = 1.0 / (1.0 + np.exp(-z))
        hs.append(z)
    p = softmax(hs[-1])
    onehot = np.zeros_like(p)
    onehot[np.arange(len(y)), y] = 1.0
    if loss == "cross_entropy":
        g = p - onehot
    else:  # squared error sum_k (p_k - onehot_k)^2 through the softmax Jacobian
        r = 2.0 * (p - onehot)
        g = p * (r - (r * p).sum(axis=1, keepdims=True))
    g /= len(y)
    gw, gb = [None] * len(weights), [None] * len(weights)
    for layer in range(len(weights) - 1, -1, -1):
        gw[layer] = hs[layer].T @ g
        gb[layer] = g.sum(axis=0)
        if layer > 0:
            g = g @ weights[layer].T
            h = hs[layer]
            if activation == "relu":
                g = g * (h > 0)
            elif activation == "tanh":
                g = g * (1.0 - h * h)
            else:
                g = g * h * (1.0 - h)
    return gw, gb


def _ste_train(latent, n_samples: int, grads, epochs, batch_size, learning_rate, seed,
               callback=None):
    """Adam on the latent floats, gradients taken at their ternary rounding; ``latent``.

    ``grads(ternary tensors, sample indices)`` returns one gradient per
    tensor; minibatches are reshuffled every epoch from ``seed``.
    ``callback(fraction)``, when given, hears of every percent done.
    """
    epochs = check_count("epochs", epochs)
    batch_size = check_count("batch_size", batch_size)
    state = [0, [np.zeros_like(p) for p in latent], [np.zeros_like(p) for p in latent]]
    rng = np.random.default_rng(seed)
    report = step_reporter(callback, epochs * -(-n_samples // batch_size))
    for _ in range(epochs):
        order = rng.permutation(n_samples)
        for first in range(0, n_samples, batch_size):
            _adam(latent, grads(_ternary(latent), order[first : first + batch_size]), state,
                  learning_rate)
            report()
    return latent



def ste_dense(net: DenseNet, X, y, *, loss: str = "cross_entropy", epochs: int = 5,
              batch_size: int = 256, learning_rate: float = 1e-3, seed: int = 0,
              callback: Callable[[float], None] | None = None):
    """Straight-through ternary training of a dense net from ``net``; ``(ternary net, seconds)``.

    Parameters
    ----------
    net : DenseNet
        The float starting point (the latent weights are a copy).
    X, y : numpy.ndarray
        Training data, shapes ``(N, d)`` and ``(N,)``.
    loss : {"cross_entropy", "squared"}
    epochs, batch_size, learning_rate : int, int, float
        Adam on minibatches, reshuffled every epoch.
    seed : int
        The shuffling.
    callback : callable, optional
        Called with the fraction of the minibatch steps done, once per percent.

    Returns
    -------
    (DenseNet, float)
        The ternary network (every tensor ``alpha * {-1, 0, 1}``) and the seconds taken.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0]] * 8); y = np.array([0, 1] * 8)
    >>> start = DenseNet([np.array([[-1.0, 1.0], [1.0, -1.0]])], [np.zeros(2)])
    >>> ternary, _ = ste_dense(start, X, y, epochs=2, batch_size=4)
    >>> ternary.error(X, y)
    0.0
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    n_layers = len(net.weights)

    def grads(tern, idx):
        gw, gb = _dense_grads(tern[:n_layers], tern[n_layers:], net.activation, X[idx],
                              y[idx], loss)
        return gw + gb

    t0 = time.perf_counter()
    latent = _ste_train([w.copy() for w in net.weights] + [b.copy() for b in net.biases],
                        len(y), grads, epochs, batch_size, learning_rate, seed, callback)
    tern = _ternary(latent)
    return DenseNet(tern[:n_layers], tern[n_layers:], net.activation), time.perf_counter() - t0


def ste_lenet(net: LeNet, X, y, *, epochs: int = 1, batch_size: int = 128,
              learning_rate: float = 1e-3, seed: int = 0,
              callback: Callable[[float], None] | None = None):
    """Straight-through ternary training of a LeNet from ``net``; ``(ternary LeNet, seconds)``.

    The same recipe as :func:`ste_dense` on the ten tensors, with the
    backpropagation of :func:`combopt.nn.lenet.lenet_loss_and_grad` (float32,
    as the float pretraining). ``callback`` as for :func:`ste_dense`.
    """
    images = as_images(X).astype(np.float32)
    y = np.asarray(y, dtype=np.int64)

    def grads(tern, idx):
        return lenet_loss_and_grad([t.astype(np.float32) for t in tern], images[idx], y[idx])[1]

    t0 = time.perf_counter()
    latent = [t.astype(np.float32) for t in (*net.conv, *[
        a for pair in zip(net.head.weights, net.head.biases) for a in pair])]
    latent = _ste_train(latent, len(y), grads, epochs, batch_size, learning_rate, seed,
                        callback)
    tern = _ternary(latent)
    head = DenseNet(tern[4::2], tern[5::2])
    return LeNet(tuple(tern[:4]), head), time.perf_counter() - t0


def ste_record(method: str, net, X_tr, y_tr, X_va, y_va, seconds: float, **extra) -> dict:
    """The ``ste`` entry of a training record: errors, 2-bit memory, time, training loss."""
    logits = net.logits(X_tr) if isinstance(net, DenseNet) else net.head.logits(net.features(X_tr))
    return {
        "method": method,
        "train_error": float(100.0 * np.mean(logits.argmax(1) != y_tr)),
        "val_error": float(net.error(X_va, y_va)),
        "memory_kb": float(np.ceil(net.num_parameters * 2 / 8) / 1000.0),
        "seconds": float(seconds),
        "loss": float(sample_losses(logits, y_tr).mean()),
        **extra,
    }
