"""Dense classifiers in numpy: softmax regression and multi-layer perceptrons.

A :class:`DenseNet` is a list of ``(W, b)`` layers with one hidden
activation; logits feed a softmax. It is the float model that backpropagation
pretrains (:func:`pretrain`, through scikit-learn's ``LogisticRegression`` or
``MLPClassifier``), and its flat weight vector -- each layer's ``W``
row-major, then its ``b`` -- is the variable order of the CoNNTrA objective
(:class:`combopt.objectives.DenseNetObjective`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["ACTIVATIONS", "LOSSES", "DenseNet", "pretrain", "sample_losses", "softmax"]

ACTIVATIONS = ("relu", "tanh", "logistic")
LOSSES = ("cross_entropy", "squared")


def forward(layers, n_layers: int, activation: str, h):
    """Logits from inputs ``h`` through ``n_layers`` pairs ``(W, b)`` of ``layers``.

    ``layers`` may be any iterable, so packed models can decode one layer at a
    time; the activation applies after every layer but the last.
    """
    for layer, (w, b) in enumerate(layers):
        h = h @ w + b
        if layer < n_layers - 1:
            h = _activate(activation, h)
    return h


def _activate(kind: str, a: np.ndarray) -> np.ndarray:
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
            raise ValueError(f"unknown activation {self.activation!r}; expected one of {', '.join(ACTIVATIONS)}")
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
        return np.concatenate([np.concatenate([w.ravel(), b]) for w, b in zip(self.weights, self.biases)])

    def with_flat(self, theta: np.ndarray) -> DenseNet:
        """A copy of this network whose parameters are ``theta`` (kernel order)."""
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (self.num_parameters,):
            raise ValueError(f"expected {self.num_parameters} parameters, got shape {theta.shape}")
        weights, biases = [], []
        for (w, b), sl in zip(zip(self.weights, self.biases), self.layer_slices()):
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


def pretrain(X, y, n_classes: int, hidden=(), *, activation="relu", seed=0, max_iter=200):
    """Float pretraining by backpropagation/L-BFGS with scikit-learn.

    Softmax regression (``hidden == ()``) uses ``LogisticRegression`` (L-BFGS,
    multinomial); an MLP uses ``MLPClassifier`` (Adam).

    Parameters
    ----------
    X : numpy.ndarray
        Shape ``(N, d)``.
    y : numpy.ndarray
        Shape ``(N,)``, labels in ``0..n_classes-1`` (all present).
    n_classes : int
        ``C``.
    hidden : tuple of int
        Hidden layer widths.
    activation : str
        Hidden activation.
    seed : int
        ``random_state`` of the scikit-learn estimator.
    max_iter : int
        Iterations (L-BFGS) or epochs (Adam).

    Returns
    -------
    (DenseNet, float)
        The trained network and the seconds it took.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> net, _ = pretrain(X, y, 2)
    >>> net.predict(X).tolist()
    [0, 0, 1, 1]
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    hidden = tuple(int(h) for h in hidden)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # A capped iteration count is deliberate (CoNNTrA continues from it).
        warnings.simplefilter("ignore", ConvergenceWarning)
        if not hidden:
            model = LogisticRegression(max_iter=max_iter, random_state=seed).fit(X, y)
            coef, intercept = model.coef_, model.intercept_
            if n_classes == 2 and coef.shape[0] == 1:
                # Binary: scikit-learn stores one column; softmax of (-z/2, z/2) is the same model.
                coef = np.vstack([-coef / 2, coef / 2])
                intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
            full_w = np.zeros((X.shape[1], n_classes))
            full_b = np.full(n_classes, -30.0)
            full_w[:, model.classes_] = coef.T
            full_b[model.classes_] = intercept
            net = DenseNet([full_w], [full_b], activation)
        else:
            model = MLPClassifier(hidden, activation=activation, max_iter=max_iter, random_state=seed).fit(X, y)
            ws = [w.copy() for w in model.coefs_]
            bs = [b.copy() for b in model.intercepts_]
            if len(model.classes_) == 2:
                # Binary MLPClassifier has one logistic output: expand to two softmax logits.
                ws[-1] = np.hstack([-ws[-1] / 2, ws[-1] / 2])
                bs[-1] = np.array([-bs[-1][0] / 2, bs[-1][0] / 2])
            full_w = np.zeros((ws[-1].shape[0], n_classes))
            full_b = np.full(n_classes, -30.0)
            full_w[:, model.classes_] = ws[-1]
            full_b[model.classes_] = bs[-1]
            ws[-1], bs[-1] = full_w, full_b
            net = DenseNet(ws, bs, activation)
    return net, time.perf_counter() - t0
