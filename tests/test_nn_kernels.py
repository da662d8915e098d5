"""The dense-network objective: incremental kernel versus full recomputation.

The reference is :meth:`DenseNetObjective.energy`, a plain numpy forward pass
over every sample; the kernel's deltas, applies and cached energy must agree
with it after any sequence of weight changes.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from combopt import Domain, solve
from combopt._kernels.nn_dense import dense_apply, dense_deltas, dense_init
from combopt.nn.training import scaled_domain
from combopt.objectives import DenseNetObjective


def _random_problem(rng, sizes, activation, loss, sparse_fraction=0.3):
    N = 25
    X = rng.normal(size=(N, sizes[0]))
    X[rng.random(X.shape) < sparse_fraction] = 0.0
    y = rng.integers(0, sizes[-1], N)
    y[: sizes[-1]] = np.arange(sizes[-1])
    obj = DenseNetObjective(X, y, sizes[1:-1], n_classes=sizes[-1], activation=activation, loss=loss)
    scales = rng.uniform(0.3, 2.5, size=2 * (len(sizes) - 1))
    return obj, scales


def _walk(obj, domain, rng, steps):
    """Random single-weight moves; return the largest deviation from the numpy reference."""
    n = obj.num_variables
    values, offsets = domain.lower(n)
    problem, length = obj._lower()
    x_idx = rng.integers(0, offsets[1:] - offsets[:-1]).astype(np.int64)
    cache = np.zeros(length)

    def point(idx):
        return values[offsets[:-1] + idx]

    worst = abs(dense_init(problem, values, offsets, x_idx, cache) - obj.energy(point(x_idx)))
    out = np.zeros(int(np.max(offsets[1:] - offsets[:-1])))
    for _ in range(steps):
        i = int(rng.integers(n))
        size = int(offsets[i + 1] - offsets[i])
        dense_deltas(problem, values, offsets, x_idx, cache, i, out)
        assert out[x_idx[i]] == 0.0
        base = obj.energy(point(x_idx))
        for k in range(size):
            moved = x_idx.copy()
            moved[i] = k
            worst = max(worst, abs(out[k] - (obj.energy(point(moved)) - base)))
        dense_apply(problem, values, offsets, x_idx, cache, i, int(rng.integers(size)))
        worst = max(worst, abs(cache[0] / obj.X.shape[0] - obj.energy(point(x_idx))))
    fresh = np.zeros_like(cache)
    dense_init(problem, values, offsets, x_idx.copy(), fresh)
    return worst, float(np.max(np.abs(fresh - cache)))


@pytest.mark.parametrize("loss", ["cross_entropy", "squared"])
@pytest.mark.parametrize(
    "sizes,activation",
    [([6, 4], "relu"), ([6, 2], "tanh"), ([6, 5, 3], "relu"), ([5, 4, 6, 3], "tanh"), ([5, 3, 4, 2], "logistic")],
)
def test_incremental_loss_equals_full_recomputation(sizes, activation, loss):
    rng = np.random.default_rng(sum(sizes) + len(loss))
    obj, scales = _random_problem(rng, sizes, activation, loss)
    domain = scaled_domain(obj.sizes, [-1, 0, 1], scales)
    worst, cache_drift = _walk(obj, domain, rng, steps=60)
    assert worst < 1e-11
    assert cache_drift < 1e-9  # the cache after the walk is what a fresh init computes


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    omega=st.lists(st.integers(-4, 4), min_size=2, max_size=5, unique=True),
    hidden=st.sampled_from([(), (3,), (2, 3)]),
    loss=st.sampled_from(["cross_entropy", "squared"]),
)
def test_property_any_domain_any_walk(seed, omega, hidden, loss):
    # Uneven domains (e.g. {-4, 1, 3}) take the kernel's general path, even ones the shared-exp path.
    rng = np.random.default_rng(seed)
    obj, scales = _random_problem(rng, [4, *hidden, 3], "relu", loss)
    domain = scaled_domain(obj.sizes, np.array(omega, dtype=float), scales * 0.5)
    worst, _ = _walk(obj, domain, rng, steps=12)
    assert worst < 1e-10


def test_large_logits_stay_exact():
    # Scales this large push logits far beyond the cached shift: the O(C) fallback must take over.
    rng = np.random.default_rng(3)
    obj, _ = _random_problem(rng, [5, 3], "relu", "cross_entropy", sparse_fraction=0.0)
    domain = scaled_domain(obj.sizes, [-1, 0, 1], [40.0, 40.0])
    worst, _ = _walk(obj, domain, rng, steps=40)
    assert worst < 1e-9 * max(1.0, obj.energy(np.full(obj.num_variables, 40.0)))


def test_sparse_and_dense_inputs_agree():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 6)) * (rng.random((30, 6)) < 0.4)
    y = rng.integers(0, 3, 30)
    dense = DenseNetObjective(X, y, (4,), n_classes=3)
    sparse = DenseNetObjective(sp.csr_matrix(X), y, (4,), n_classes=3)
    x = rng.choice([-1.0, 0.0, 1.0], size=dense.num_variables)
    assert dense.energy(x) == pytest.approx(sparse.energy(x), rel=1e-14)
    r1 = solve(dense, Domain.ternary(), max_iterations=3, initial=x, seed=2)
    r2 = solve(sparse, Domain.ternary(), max_iterations=3, initial=x, seed=2)
    # Exact by construction: both objectives store X as the same sorted CSC arrays (the
    # zeros dropped either way), so the kernel runs identical arithmetic on identical data.
    np.testing.assert_array_equal(r1.x, r2.x)


def test_solve_lowers_the_training_loss():
    rng = np.random.default_rng(11)
    obj, scales = _random_problem(rng, [6, 5, 3], "relu", "cross_entropy")
    domain = scaled_domain(obj.sizes, [-1, 0, 1], scales)
    start = np.zeros(obj.num_variables)
    result = solve(obj, domain, max_iterations=5, initial=start, seed=0)
    assert result.energy < obj.energy(start) - 0.05
    assert result.energy == pytest.approx(obj.energy(result.x), rel=1e-12)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"hidden": (0,)}, "hidden layer widths"),
        ({"activation": "softsign"}, "activation"),
        ({"loss": "hinge"}, "loss"),
        ({"n_classes": 1}, "n_classes"),
    ],
)
def test_bad_arguments_are_one_line_errors(kwargs, message):
    X = np.ones((4, 2))
    y = np.array([0, 1, 0, 1])
    hidden = kwargs.pop("hidden", ())
    with pytest.raises(ValueError, match=message):
        DenseNetObjective(X, y, hidden, **kwargs)


def test_labels_must_match_rows():
    with pytest.raises(ValueError, match="y must have shape"):
        DenseNetObjective(np.ones((4, 2)), np.array([0, 1, 0]))
    with pytest.raises(ValueError, match="NaN"):
        DenseNetObjective(np.array([[np.nan, 1.0], [0.0, 1.0]]), np.array([0, 1]))
