"""Dense classifiers in numpy: softmax regression and multi-layer perceptrons.

A :class:`DenseNet` is a list of ``(W, b)`` layers with one hidden
activation; logits feed a softmax. It is the float model that backpropagation
pretrains (:func:`pretrain`, through scikit-learn's ``LogisticRegression`` or
``MLPClassifier``), and its flat weight vector -- each layer's ``W``
row-major, then its ``b`` -- is the variable order of the CoNNTrA objective
(:class:`combopt.objectives.DenseNetObjective`). The model, its activations
and losses are defined in :mod:`combopt._numeric.layers`, which the objective
shares, and re-exported here.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from combopt._numeric.layers import ACTIVATIONS, LOSSES, DenseNet, sample_losses, softmax

__all__ = ["ACTIVATIONS", "LOSSES", "DenseNet", "pretrain", "sample_losses", "softmax"]


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
    # scikit-learn is the optional "ml" extra and slow to import (a second or so):
    # only pretraining needs it.
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
            model = MLPClassifier(
                hidden, activation=activation, max_iter=max_iter, random_state=seed
            ).fit(X, y)
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
