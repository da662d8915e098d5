"""Network building blocks in numpy: activations, losses, dense and convolution layers.

One home for the arithmetic that the training objectives
(:class:`combopt.objectives.DenseNetObjective`,
:class:`combopt.objectives.LeNetConvObjective`) and the application code
(:mod:`combopt.nn`: pretraining, packed models, the pipelines) both compute,
so that neither layer imports the other's internals.

* Dense classifiers: :data:`ACTIVATIONS`, :func:`activate`, :func:`softmax`,
  :data:`LOSSES`, :func:`sample_losses`, :func:`forward` and the
  :class:`DenseNet` model (a list of ``(W, b)`` layers whose flat weight
  vector -- each layer's ``W`` row-major, then its ``b`` -- is the variable
  order of :class:`~combopt.objectives.DenseNetObjective`).
* The LeNet-5 of the paper's Table II (see :mod:`combopt.nn.lenet`): its
  convolution shapes, :func:`as_images`, :func:`conv2d` (a cross-correlation
  as one matrix product over sliding windows, so BLAS does the work),
  :func:`max_pool_2x2` and the 400 :func:`conv_features` its dense head reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "ACTIVATIONS",
    "CONV_SHAPES",
    "HEAD_SIZES",
    "IMAGE_SIDE",
    "LOSSES",
    "PAD1",
    "DenseNet",
    "activate",
    "as_images",
    "conv2d",
    "conv_features",
    "forward",
    "max_pool_2x2",
    "sample_losses",
    "softmax",
]

ACTIVATIONS = ("relu", "tanh", "logistic")
LOSSES = ("cross_entropy", "squared")

#: Shapes of the LeNet's convolution tensors, in flat order.
CONV_SHAPES = ((6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,))
#: Input side and padding of conv1.
IMAGE_SIDE, PAD1 = 28, 2
#: The LeNet head's widths.
HEAD_SIZES = (400, 120, 84, 10)


def activate(kind: str, a: np.ndarray) -> np.ndarray:
    """The hidden activation ``kind`` (one of :data:`ACTIVATIONS`) of ``a``, same shape.

    The logistic function is evaluated in the form that cannot overflow for
    either sign of ``a``.

    Examples
    --------
    >>> activate("relu", np.array([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    >>> activate("logistic", np.array([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    if kind == "relu":
        return np.maximum(a, 0.0)
    if kind == "tanh":
        return np.tanh(a)
    out = np.empty_like(a)
    pos = a >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-a[pos]))
    e = np.exp(a[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def forward(layers, n_layers: int, activation: str, h):
    """Logits from inputs ``h`` through ``n_layers`` pairs ``(W, b)`` of ``layers``.

    ``layers`` may be any iterable, so packed models can decode one layer at a
    time; the activation applies after every layer but the last.

    Examples
    --------
    >>> layers = [(np.eye(2), np.array([-1.0, 0.0])), (np.ones((2, 1)), np.zeros(1))]
    >>> forward(layers, 2, "relu", np.array([[0.5, 3.0]])).tolist()
    [[3.0]]
    """
    for layer, (w, b) in enumerate(layers):
        h = h @ w + b
        if layer < n_layers - 1:
            h = activate(activation, h)
    return h


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of logits ``z`` of shape ``(N, C)``.

    Examples
    --------
    >>> softmax(np.array([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    """
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sample_losses(z: np.ndarray, y: np.ndarray, loss: str = "cross_entropy") -> np.ndarray:
    """Per-sample loss of logits ``z`` (``(N, C)``) against labels ``y`` (``(N,)``).

    ``"cross_entropy"`` is ``log sum_k exp z_k - z_y``; ``"squared"`` is
    ``sum_k (softmax(z)_k - [k = y])^2``.

    Examples
    --------
    >>> float(sample_losses(np.array([[0.0, 0.0]]), np.array([0]))[0]) == float(np.log(2))
    True
    """
    m = z.max(axis=1, keepdims=True)
    if loss == "cross_entropy":
        return np.log(np.exp(z - m).sum(axis=1)) + m[:, 0] - z[np.arange(len(y)), y]
    if loss == "squared":
        p = softmax(z)
        p[np.arange(len(y)), y] -= 1.0
        return (p * p).sum(axis=1)
    raise ValueError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)}")


@dataclass
class DenseNet:
    """A fully connected classifier ``sizes[0] -> ... -> sizes[-1]``.

    Attributes
    ----------
    weights : list of numpy.ndarray
        ``weights[l]`` has shape ``(sizes[l], sizes[l+1])``.
    biases : list of numpy.ndarray
        ``biases[l]`` has shape ``(sizes[l+1],)``.
    activation : str
        Hidden activation: ``"relu"``, ``"tanh"`` or ``"logistic"``.

    Examples
    --------
    >>> net = DenseNet([np.eye(2)], [np.zeros(2)])
    >>> net.predict(np.array([[1.0, 0.0], [0.0, 2.0]])).tolist()
    [0, 1]
    """

    weights: list
    biases: list
    activation: str = "relu"

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {self.activation!r}; expected one of {', '.join(ACTIVATIONS)}"
            )
        if len(self.weights) != len(self.biases) or not self.weights:
            raise ValueError("a DenseNet needs one bias per weight matrix and at least one layer")
        for w, b in zip(self.weights, self.biases):
            if w.ndim != 2 or b.shape != (w.shape[1],):
                raise ValueError(f"layer shapes do not match: W {w.shape}, b {b.shape}")
        for w0, w1 in zip(self.weights, self.weights[1:]):
            if w0.shape[1] != w1.shape[0]:
                raise ValueError(f"layer widths do not chain: {w0.shape} then {w1.shape}")

    @property
    def sizes(self) -> list[int]:
        """Layer widths ``[d, h_1, ..., C]``."""
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]

    @property
    def num_parameters(self) -> int:
        """Number of weights and biases (the CoNNTrA variables)."""
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))

    def layer_slices(self) -> list[slice]:
        """Slices of the flat vector holding each layer's ``W`` then ``b``."""
        out, pos = [], 0
        for w, b in zip(self.weights, self.biases):
            out.append(slice(pos, pos + w.size + b.size))
            pos += w.size + b.size
        return out

    def flat(self) -> np.ndarray:
        """The flat parameter vector, shape ``(num_parameters,)`` (kernel order)."""
        layers = zip(self.weights, self.biases)
        return np.concatenate([np.concatenate([w.ravel(), b]) for w, b in layers])

    def with_flat(self, theta: np.ndarray) -> DenseNet:
        """A copy of this network whose parameters are ``theta`` (kernel order)."""
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (self.num_parameters,):
            raise ValueError(f"expected {self.num_parameters} parameters, got shape {theta.shape}")
        weights, biases = [], []
        for (w, _), sl in zip(zip(self.weights, self.biases), self.layer_slices()):
            chunk = theta[sl]
            weights.append(chunk[: w.size].reshape(w.shape).copy())
            biases.append(chunk[w.size :].copy())
        return DenseNet(weights, biases, self.activation)

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Logits of inputs ``X`` (``(N, d)``, dense or scipy sparse), shape ``(N, C)``."""
        h = X if sp.issparse(X) else np.asarray(X, dtype=np.float64)
        return forward(zip(self.weights, self.biases), len(self.weights), self.activation, h)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted labels, shape ``(N,)``."""
        return self.logits(X).argmax(axis=1)

    def error(self, X: np.ndarray, y: np.ndarray) -> float:
        """Classification error in percent."""
        return float(100.0 * np.mean(self.predict(X) != y))

    def loss(self, X: np.ndarray, y: np.ndarray, loss: str = "cross_entropy") -> float:
        """Mean loss over the samples (the CoNNTrA energy)."""
        return float(sample_losses(self.logits(X), y, loss).mean())


def as_images(X) -> np.ndarray:
    """``(N, 784)`` (or ``(N, 28, 28)``) pixels as ``(N, 1, 28, 28)``.

    Examples
    --------
    >>> as_images(np.zeros((3, 784))).shape
    (3, 1, 28, 28)
    """
    X = np.asarray(X)
    if X.ndim == 2 and X.shape[1] == IMAGE_SIDE * IMAGE_SIDE:
        return X.reshape(-1, 1, IMAGE_SIDE, IMAGE_SIDE)
    if X.ndim == 3 and X.shape[1:] == (IMAGE_SIDE, IMAGE_SIDE):
        return X[:, None]
    raise ValueError(f"LeNet expects images of shape (N, 784) or (N, 28, 28), got {X.shape}")


def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Valid cross-correlation ``(N, C, H, W) * (O, C, k, k) + b -> (N, O, H-k+1, W-k+1)``.

    Examples
    --------
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> conv2d(x, np.ones((1, 1, 2, 2)), np.array([0.5])).tolist()
    [[[[8.5, 12.5], [20.5, 24.5]]]]
    """
    windows = sliding_window_view(x, w.shape[2:], axis=(2, 3))  # (N, C, H', W', k, k)
    out = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, H', W', O)
    out += b
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def max_pool_2x2(a: np.ndarray) -> np.ndarray:
    """2 x 2 max-pooling over the last two axes (even sizes): ``(..., H, W) -> (..., H/2, W/2)``.

    Four strided views and three ``maximum`` calls: numpy's reduction over
    two strided axes is many times slower.

    Examples
    --------
    >>> max_pool_2x2(np.arange(16.0).reshape(4, 4)).tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """
    top = np.maximum(a[..., 0::2, 0::2], a[..., 0::2, 1::2])
    return np.maximum(top, np.maximum(a[..., 1::2, 0::2], a[..., 1::2, 1::2]), out=top)


def conv_features(conv, X, *, batch: int = 256) -> np.ndarray:
    """The 400 features the LeNet's dense head reads, shape ``(N, 400)``.

    Max-pooling commutes with the relu, so each block pools pre-activations
    and applies the relu after.

    Parameters
    ----------
    conv : sequence of numpy.ndarray
        ``(conv1_w, conv1_b, conv2_w, conv2_b)`` with the shapes of :data:`CONV_SHAPES`.
    X : array_like, shape (N, 784)
        Pixels.
    batch : int
        Images per block (bounds the im2col memory).

    Examples
    --------
    >>> conv = [np.zeros(s) for s in CONV_SHAPES]
    >>> conv_features(conv, np.ones((2, 784))).shape
    (2, 400)
    """
    w1, b1, w2, b2 = (np.asarray(t, dtype=np.float64) for t in conv)
    images = as_images(X)
    out = np.empty((images.shape[0], HEAD_SIZES[0]))
    pad = ((0, 0), (0, 0), (PAD1, PAD1), (PAD1, PAD1))
    for start in range(0, images.shape[0], batch):
        x = np.pad(images[start : start + batch].astype(np.float64), pad)
        p1 = np.maximum(max_pool_2x2(conv2d(x, w1, b1)), 0.0)
        p2 = np.maximum(max_pool_2x2(conv2d(p1, w2, b2)), 0.0)
        out[start : start + batch] = p2.reshape(p2.shape[0], -1)
    return out
