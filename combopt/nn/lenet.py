"""A LeNet-5-style convolutional network in numpy, and its float pretraining.

The network of the paper's Table II, in its classic form for 28 x 28 inputs::

    input 1 x 28 x 28
    conv1  6 @ 5 x 5, padding 2  -> 6 x 28 x 28,  relu, max-pool 2 -> 6 x 14 x 14
    conv2 16 @ 5 x 5, no padding -> 16 x 10 x 10, relu, max-pool 2 -> 16 x 5 x 5
    flatten (channel, row, column)  -> 400
    dense 400 -> 120 relu -> 84 relu -> 10 (softmax logits)

61 706 weights and biases: 2 572 in the two convolutions, the rest in the
dense head, which is a :class:`combopt.nn.DenseNet` on the 400 features.
Convolutions are cross-correlations computed as one matrix product over
sliding windows (``im2col``), so BLAS does the work in both the forward pass
and :func:`pretrain_lenet`'s backpropagation; max-pooling commutes with the
relu, so the kernels pool pre-activations and apply the relu after. The
forward building blocks (:func:`conv_features` and the convolution and
pooling under it) live in :mod:`combopt._numeric.layers`, shared with
:class:`combopt.objectives.LeNetConvObjective`; the backpropagation is here.

The flat parameter order (that of :meth:`LeNet.flat` and of the CoNNTrA
variables) is ``conv1_w`` (6, 1, 5, 5) row-major, ``conv1_b`` (6,), ``conv2_w``
(16, 6, 5, 5), ``conv2_b`` (16,), then the head's :meth:`DenseNet.flat`.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from combopt._numeric.layers import (
    CONV_SHAPES,
    HEAD_SIZES,
    PAD1,
    DenseNet,
    as_images,
    conv2d,
    conv_features,
    max_pool_2x2,
)

__all__ = [
    "CONV_SHAPES",
    "NUM_PARAMETERS",
    "TENSOR_SHAPES",
    "LeNet",
    "conv_features",
    "pretrain_lenet",
]

#: Every tensor's shape in flat order (one Algorithm-1 scale each), and their total size.
TENSOR_SHAPES = CONV_SHAPES + tuple(
    s for a, b in itertools.pairwise(HEAD_SIZES) for s in ((a, b), (b,))
)
NUM_PARAMETERS = sum(int(np.prod(s)) for s in TENSOR_SHAPES)


@dataclass(frozen=True)
class LeNet:
    """A LeNet-5-style classifier: two convolutions and a dense head.

    Attributes
    ----------
    conv : tuple of numpy.ndarray
        ``(conv1_w, conv1_b, conv2_w, conv2_b)``, shapes :data:`CONV_SHAPES`.
    head : DenseNet
        The relu network ``400 -> 120 -> 84 -> 10`` on :func:`conv_features`.

    Examples
    --------
    >>> net = LeNet.initial(seed=0)
    >>> net.num_parameters, net.predict(np.zeros((3, 784))).shape
    (61706, (3,))
    """

    conv: tuple
    head: DenseNet

    def __post_init__(self):
        shapes = tuple(np.shape(t) for t in self.conv)
        if shapes != CONV_SHAPES:
            raise ValueError(f"convolution tensors must have shapes {CONV_SHAPES}, got {shapes}")
        if tuple(self.head.sizes) != HEAD_SIZES or self.head.activation != "relu":
            raise ValueError(
                f"the head must be a relu DenseNet of sizes {HEAD_SIZES}, got {self.head.sizes}"
            )

    @classmethod
    def initial(cls, seed: int = 0) -> LeNet:
        """He-initialised weights, zero biases."""
        rng = np.random.default_rng(seed)

        def he(shape, fan_in):
            return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)

        conv = (he(CONV_SHAPES[0], 25), np.zeros(6), he(CONV_SHAPES[2], 150), np.zeros(16))
        sizes = HEAD_SIZES
        head = DenseNet(
            [he((a, b), a) for a, b in itertools.pairwise(sizes)], [np.zeros(b) for b in sizes[1:]]
        )
        return cls(conv, head)

    @property
    def num_parameters(self) -> int:
        """Weights and biases, convolutions and head."""
        return sum(int(np.size(t)) for t in self.conv) + self.head.num_parameters

    def tensors(self) -> list[np.ndarray]:
        """Every tensor flattened, in flat order (one Algorithm-1 scale each)."""
        head = [t for w, b in zip(self.head.weights, self.head.biases) for t in (w.ravel(), b)]
        return [np.ravel(t) for t in self.conv] + head

    def flat(self) -> np.ndarray:
        """The flat parameter vector, shape ``(61706,)``."""
        return np.concatenate(self.tensors())

    def with_flat(self, theta) -> LeNet:
        """A copy whose parameters are ``theta`` (flat order)."""
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (self.num_parameters,):
            raise ValueError(f"expected {self.num_parameters} parameters, got shape {theta.shape}")
        conv, pos = [], 0
        for shape in CONV_SHAPES:
            size = int(np.prod(shape))
            conv.append(theta[pos : pos + size].reshape(shape).copy())
            pos += size
        return LeNet(tuple(conv), self.head.with_flat(theta[pos:]))

    def features(self, X) -> np.ndarray:
        """:func:`conv_features` of ``X``, shape ``(N, 400)``."""
        return conv_features(self.conv, X)

    def logits(self, X) -> np.ndarray:
        """Logits, shape ``(N, 10)``."""
        return self.head.logits(self.features(X))

    def predict(self, X) -> np.ndarray:
        """Predicted labels, shape ``(N,)``."""
        return self.logits(X).argmax(axis=1)

    def error(self, X, y) -> float:
        """Classification error in percent."""
        return float(100.0 * np.mean(self.predict(X) != np.asarray(y)))


def _pool_backward(a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """Route ``grad`` (pooled shape) to the first maximum of each 2 x 2 window of ``a``."""
    n, c, h, w = a.shape
    windows = (
        a.reshape(n, c, h // 2, 2, w // 2, 2)
        .transpose(0, 1, 2, 4, 3, 5)
        .reshape(n, c, h // 2, w // 2, 4)
    )
    first_max = windows.argmax(axis=-1)
    routed = np.zeros_like(windows)
    np.put_along_axis(routed, first_max[..., None], grad[..., None], axis=-1)
    return (
        routed.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)
    )


def _conv_backward(x, w, grad):
    """Gradients ``(dx, dw, db)`` of :func:`~combopt._numeric.layers.conv2d`.

    ``grad`` is the gradient of its output, shape ``(N, O, H', W')``.
    """
    k = w.shape[2]
    windows = sliding_window_view(x, (k, k), axis=(2, 3))
    dw = np.tensordot(grad, windows, axes=([0, 2, 3], [0, 2, 3]))  # (O, C, k, k)
    db = grad.sum(axis=(0, 2, 3))
    padded = np.pad(grad, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
    gwin = sliding_window_view(padded, (k, k), axis=(2, 3))  # (N, O, H, W, k, k)
    dx = np.tensordot(gwin, w[:, :, ::-1, ::-1], axes=([1, 4, 5], [0, 2, 3])).transpose(0, 3, 1, 2)
    return dx, dw, db


def lenet_loss_and_grad(params, images, y):
    """Mean cross-entropy of a batch and its gradient (backpropagation).

    Parameters
    ----------
    params : list of numpy.ndarray
        ``[conv1_w, conv1_b, conv2_w, conv2_b, W0, b0, W1, b1, W2, b2]``.
    images : numpy.ndarray, shape (B, 1, 28, 28)
    y : numpy.ndarray of int, shape (B,)

    Returns
    -------
    (float, list of numpy.ndarray)
        The loss and one gradient per parameter tensor (same shapes).
    """
    w1, b1, w2, b2, *dense = params
    x = np.pad(images, ((0, 0), (0, 0), (PAD1, PAD1), (PAD1, PAD1)))
    a1 = conv2d(x, w1, b1)
    q1 = max_pool_2x2(a1)
    p1 = np.maximum(q1, 0.0)
    a2 = conv2d(p1, w2, b2)
    q2 = max_pool_2x2(a2)
    h = [np.maximum(q2, 0.0).reshape(len(y), -1)]
    for layer in range(3):
        z = h[-1] @ dense[2 * layer] + dense[2 * layer + 1]
        h.append(np.maximum(z, 0.0) if layer < 2 else z)
    z = h[-1]
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    batch = len(y)
    loss = float(-logp[np.arange(batch), y].mean())
    g = np.exp(logp)
    g[np.arange(batch), y] -= 1.0
    g /= batch
    grads_dense = [None] * 6
    for layer in range(2, -1, -1):
        grads_dense[2 * layer] = h[layer].T @ g
        grads_dense[2 * layer + 1] = g.sum(axis=0)
        g = (g @ dense[2 * layer].T) * (h[layer] > 0)
    g2 = _pool_backward(a2, g.reshape(q2.shape))
    dp1, dw2, db2 = _conv_backward(p1, w2, g2)
    g1 = _pool_backward(a1, dp1 * (q1 > 0))
    _, dw1, db1 = _conv_backward(x, w1, g1)
    return loss, [dw1, db1, dw2, db2, *grads_dense]


def step_reporter(callback, steps: int):
    """A ``report()`` to call after each of ``steps`` steps: ``callback(fraction)`` per percent.

    A training loop's progress for a progress bar, at most 100 calls however
    many steps (``callback`` None: ``report()`` does nothing).

    Examples
    --------
    >>> heard = []
    >>> report = step_reporter(heard.append, 400)
    >>> for _ in range(400):
    ...     report()
    >>> len(heard), heard[0], heard[-1]
    (100, 0.01, 1.0)
    """
    done, last = [0], [0]

    def report() -> None:
        done[0] += 1
        percent = 100 * done[0] // max(steps, 1)
        if callback is not None and percent > last[0]:
            last[0] = percent
            callback(done[0] / steps)

    return report


def pretrain_lenet(
    X, y, *, epochs: int = 3, batch_size: int = 128, learning_rate: float = 1e-3, seed: int = 0,
    callback=None,
):
    """Float pretraining of a :class:`LeNet` by backpropagation (Adam, float32).

    Parameters
    ----------
    X : array_like, shape (N, 784)
        Pixels in [0, 1].
    y : array_like of int, shape (N,)
        Labels ``0..9``.
    epochs, batch_size, learning_rate : int, int, float
        Passes over the data, minibatch size and Adam step.
    seed : int
        Initialisation and shuffling.
    callback : callable, optional
        Called with the fraction of the minibatch steps done, once per percent.

    Returns
    -------
    (LeNet, float)
        The trained network (float64) and the seconds it took.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((64, 784)); y = np.arange(64) % 10
    >>> net, seconds = pretrain_lenet(X, y, epochs=1, batch_size=32)
    >>> net.num_parameters
    61706
    """
    t0 = time.perf_counter()
    images = as_images(X).astype(np.float32)
    y = np.asarray(y, dtype=np.int64)
    if images.shape[0] != y.shape[0]:
        raise ValueError(f"X has {images.shape[0]} images but y has {y.shape[0]} labels")
    start = LeNet.initial(seed)
    params = [
        t.astype(np.float32)
        for t in (
            *start.conv,
            *[a for pair in zip(start.head.weights, start.head.biases) for a in pair],
        )
    ]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    rng = np.random.default_rng(seed)
    beta1, beta2, eps, step = 0.9, 0.999, 1e-8, 0
    report = step_reporter(callback, epochs * -(-len(y) // batch_size))
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for first in range(0, len(y), batch_size):
            idx = order[first : first + batch_size]
            _, grads = lenet_loss_and_grad(params, images[idx], y[idx])
            step += 1
            rate = learning_rate * np.sqrt(1 - beta2**step) / (1 - beta1**step)
            for p, g, m, v in zip(params, grads, moments, squares):
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * g * g
                p -= (rate * m / (np.sqrt(v) + eps)).astype(np.float32)
            report()
    params = [p.astype(np.float64) for p in params]
    head = DenseNet(params[4::2], params[5::2])
    return LeNet(tuple(params[:4]), head), time.perf_counter() - t0
