"""A scikit-learn classifier whose weights live in a finite set (CoNNTrA).

:class:`ConntraClassifier` follows the paper's pipeline inside ``fit``: float
pretraining (``LogisticRegression`` or ``MLPClassifier``), Algorithm 1 with
one scale per tensor, then CoNNTrA through :func:`combopt.solve`; the fitted
weights are kept only in packed form (:class:`combopt.nn.PackedDenseNet`) and
``predict`` runs from it.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from combopt._validation import check_count
from combopt.nn.models import ACTIVATIONS, LOSSES, pretrain, softmax
from combopt.nn.packing import PackedDenseNet
from combopt.nn.training import _discretize, scaled_domain
from combopt.objectives import DenseNetObjective
from combopt.solver import solve

__all__ = ["ConntraClassifier"]


class ConntraClassifier(ClassifierMixin, BaseEstimator):
    """Softmax regression or MLP with every weight in ``scale_t * domain``.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Hidden widths; ``()`` (default) is multinomial logistic regression.
    activation : {"relu", "tanh", "logistic"}
        Hidden activation.
    loss : {"cross_entropy", "squared"}
        Error function CoNNTrA minimises.
    domain : tuple of float
        The finite set ``omega`` (default ternary); each tensor gets a scale.
    max_iter : int
        CoNNTrA iterations (``n`` coordinate steps each). The search ends with
        a polish to a 1-coordinate local optimum.
    pretrain_max_iter : int
        Iterations of the float pretraining.
    strategy : {"auto", "paper", "anneal", "metropolis", "tabu", "ils"}
        :func:`combopt.solve` strategy (``"ils"`` runs on tours only, so not here).
    random_state : int, RandomState or None
        Seeds the pretraining and the search.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
    n_features_in_ : int
    packed_ : PackedDenseNet
        The fitted network in packed form (``packed_.memory_bytes`` bytes).
    loss_ : float
        Final training loss (mean per sample).
    n_iter_ : int
        CoNNTrA iterations run.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)  # comparable features suit one scale per tensor
    >>> clf = ConntraClassifier(max_iter=3, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9, clf.packed_.memory_bytes
    (True, 4)
    """

    def __init__(
        self,
        hidden_layer_sizes=(),
        activation="relu",
        loss="cross_entropy",
        domain=(-1.0, 0.0, 1.0),
        max_iter=5,
        pretrain_max_iter=200,
        strategy="paper",
        random_state=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.domain = domain
        self.max_iter = max_iter
        self.pretrain_max_iter = pretrain_max_iter
        self.strategy = strategy
        self.random_state = random_state

    def _check_params(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        for name in ("max_iter", "pretrain_max_iter"):
            check_count(name, getattr(self, name))
        omega = np.unique(np.asarray(self.domain, dtype=np.float64))
        if omega.size < 2 or not np.all(np.isfinite(omega)):
            raise ValueError(
                f"domain must hold at least two distinct finite values, got {self.domain!r}"
            )
        return omega

    def fit(self, X, y):
        """Fit on ``X`` (``(n_samples, n_features)``) and labels ``y`` (``(n_samples,)``)."""
        omega = self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(
                "ConntraClassifier needs samples of at least 2 classes; "
                f"got 1 class ({self.classes_[0]!r})"
            )
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        hidden = tuple(int(h) for h in self.hidden_layer_sizes)
        n_classes = self.classes_.size
        net, _ = pretrain(
            X,
            y_enc,
            n_classes,
            hidden,
            activation=self.activation,
            seed=seed,
            max_iter=self.pretrain_max_iter,
        )
        objective = DenseNetObjective(
            X, y_enc, hidden, n_classes=n_classes, activation=self.activation, loss=self.loss
        )
        scales, start = _discretize(net, omega)
        result = solve(
            objective,
            scaled_domain(objective.sizes, omega, scales),
            strategy=self.strategy,
            max_iterations=int(self.max_iter),
            initial=start,
            seed=seed,
        )
        self.packed_ = PackedDenseNet.from_network(objective.network(result.x), omega, scales)
        self.loss_ = float(result.energy)
        self.n_iter_ = int(result.iterations)
        return self

    def predict_proba(self, X):
        """Class probabilities, shape ``(n_samples, n_classes)``, from the packed weights."""
        check_is_fitted(self, "packed_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return softmax(self.packed_.logits(X))

    def predict(self, X):
        """Predicted class labels, shape ``(n_samples,)``."""
        proba = self.predict_proba(X)  # checks fitting before classes_ is touched
        return self.classes_[np.argmax(proba, axis=1)]
