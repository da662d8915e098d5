"""ConntraClassifier: the scikit-learn estimator contract and its behaviour."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from combopt.nn.estimator import ConntraClassifier

#: Checks expected to fail, with the reason (none at present).
EXPECTED_FAILURES: dict = {}


@parametrize_with_checks(
    [ConntraClassifier(max_iter=2, pretrain_max_iter=50, random_state=0)],
    expected_failed_checks=lambda est: EXPECTED_FAILURES,
)
def test_sklearn_contract(estimator, check):
    check(estimator)


def test_fits_iris_with_ternary_weights_and_packs_them():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)  # one ternary scale per tensor wants comparable features
    clf = ConntraClassifier(max_iter=4, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9
    # 4 x 3 weights + 3 biases, 2 bits each: 30 bits -> 4 bytes.
    assert clf.packed_.memory_bytes == 4 and clf.packed_.bits == 2
    codes = clf.packed_.codes()
    assert set(codes.tolist()) <= {0, 1, 2}
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))


def test_mlp_with_string_labels_and_a_five_value_domain():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = ConntraClassifier((6,), domain=(-2, -1, 0, 1, 2), max_iter=3, random_state=1)
    clf.fit(X, names)
    assert clf.packed_.bits == 3
    assert set(clf.predict(X)) <= set(names) and clf.score(X, names) > 0.85


def test_same_random_state_same_model():
    X, y = load_iris(return_X_y=True)
    a = ConntraClassifier((4,), max_iter=2, random_state=3).fit(X, y)
    b = ConntraClassifier((4,), max_iter=2, random_state=3).fit(X, y)
    # Exact by construction: the same fit twice (same data, shapes and code path).
    np.testing.assert_array_equal(a.packed_.packed, b.packed_.packed)


@pytest.mark.parametrize(
    "params,message",
    [
        ({"activation": "swish"}, "activation"),
        ({"loss": "hinge"}, "loss"),
        ({"max_iter": 0}, "max_iter"),
        ({"domain": (1.0,)}, "domain"),
    ],
)
def test_bad_parameters_raise_at_fit(params, message):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=message):
        ConntraClassifier(**params).fit(X, y)
