"""The dense-network objective: incremental kernel versus the loop reference.

The reference is :func:`naive.dense_net_loss`, explicit Python loops over
samples, units, weights, activations and the loss. The kernel's energy, its
deltas (``obj_deltas``, read from the incrementally updated cache), its applies
and the objective's numpy ``energy`` must agree with it after any sequence of
weight changes.

Tolerance: the losses here are O(1) to O(100) and each is a sum of at most a
few hundred float64 operations per sample, so both sides carry errors near
1e-14 relative; the incremental energy adds up to 40 deltas. ``ATOL = 1e-9``
times ``max(1, |E|)`` is far above that rounding and far below any real
mistake (a weight read from the wrong place, a missing bias or a wrong
activation changes random losses by 1e-3 or more).
"""

import naive
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from kernel_harness import all_deltas, replay_moves

from combopt import Domain, solve
from combopt._kernels.nn_dense import dense_apply, dense_deltas, dense_init
from combopt.nn.training import scaled_domain
from combopt.objectives import DenseNetObjective

ATOL = 1e-9


def _reference(obj):
    """The loop reference for ``obj``'s training set and architecture, a function of ``x``."""
    X = obj.X.toarray() if sp.issparse(obj.X) else obj.X
    return lambda x: naive.dense_net_loss(X, obj.y, obj.sizes, obj.activation, obj.loss, x)


def _random_problem(rng, sizes, activation, loss, sparse_fraction=0.3):
    N = 25
    X = rng.normal(size=(N, sizes[0]))
    X[rng.random(X.shape) < sparse_fraction] = 0.0
    y = rng.integers(0, sizes[-1], N)
    y[: sizes[-1]] = np.arange(sizes[-1])
    obj = DenseNetObjective(
        X, y, sizes[1:-1], n_classes=sizes[-1], activation=activation, loss=loss
    )
    scales = rng.uniform(0.3, 2.5, size=2 * (len(sizes) - 1))
    return obj, scales


def _walk(obj, domain, rng, steps):
    """Random single-weight moves; return the largest deviation from the loop reference."""
    reference = _reference(obj)
    n = obj.num_variables
    values, offsets = domain.lower(n)
    problem, length = obj._lower()
    x_idx = rng.integers(0, offsets[1:] - offsets[:-1]).astype(np.int64)
    cache = np.zeros(length)

    def point(idx):
        return values[offsets[:-1] + idx]

    worst = abs(dense_init(problem, values, offsets, x_idx, cache) - reference(point(x_idx)))
    out = np.zeros(int(np.max(offsets[1:] - offsets[:-1])))
    for _ in range(steps):
        i = int(rng.integers(n))
        size = int(offsets[i + 1] - offsets[i])
        dense_deltas(problem, values, offsets, x_idx, cache, i, out)
        assert out[x_idx[i]] == 0.0
        base = reference(point(x_idx))
        for k in range(size):
            moved = x_idx.copy()
            moved[i] = k
            worst = max(worst, abs(out[k] - (reference(point(moved)) - base)))
        dense_apply(problem, values, offsets, x_idx, cache, i, int(rng.integers(size)))
        worst = max(worst, abs(cache[0] / obj.X.shape[0] - reference(point(x_idx))))
    fresh = np.zeros_like(cache)
    dense_init(problem, values, offsets, x_idx.copy(), fresh)
    return worst, float(np.max(np.abs(fresh - cache)))


@pytest.mark.parametrize("loss", ["cross_entropy", "squared"])
@pytest.mark.parametrize(
    "sizes,activation",
    [
        ([6, 4], "relu"),
        ([6, 2], "tanh"),
        ([6, 5, 3], "relu"),
        ([5, 4, 6, 3], "tanh"),
        ([5, 3, 4, 2], "logistic"),
    ],
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
    # Uneven domains (e.g. {-4, 1, 3}) take the kernel's general path, even ones the
    # shared-exp path.
    rng = np.random.default_rng(seed)
    obj, scales = _random_problem(rng, [4, *hidden, 3], "relu", loss)
    domain = scaled_domain(obj.sizes, np.array(omega, dtype=float), scales * 0.5)
    worst, _ = _walk(obj, domain, rng, steps=12)
    assert worst < 1e-10


@st.composite
def dense_net_cases(draw):
    """A small network, training set, per-weight domains, start and move sequence."""
    N = draw(st.integers(1, 8))
    d = draw(st.integers(1, 4))
    hidden = draw(st.lists(st.integers(1, 4), max_size=2))
    C = draw(st.integers(2, 4))
    inputs = st.sampled_from([0.0, 0.0, -1.5, 0.5, 1.0, 2.0])  # zeros: the sparse columns
    X = draw(hnp.arrays(np.float64, (N, d), elements=inputs))
    y = np.array(draw(st.lists(st.integers(0, C - 1), min_size=N, max_size=N)))
    activation = draw(st.sampled_from(["relu", "tanh", "logistic"]))
    loss = draw(st.sampled_from(["cross_entropy", "squared"]))
    obj = DenseNetObjective(X, y, hidden, n_classes=C, activation=activation, loss=loss)
    n = obj.num_variables
    scale = draw(st.sampled_from([0.25, 1.0, 3.0]))  # 3.0 pushes logits towards the fallbacks
    value_sets = st.lists(st.integers(-3, 3), min_size=1, max_size=4, unique=True)
    domains = [sorted(scale * v for v in draw(value_sets)) for _ in range(n)]
    x0 = np.array([draw(st.integers(0, len(dom) - 1)) for dom in domains], dtype=np.int64)
    moves = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 3)), max_size=30))
    return obj, domains, x0, moves


@given(dense_net_cases())
def test_energies_and_deltas_after_moves_equal_the_loop_reference(case):
    """Through the kernel protocol: ``obj_init``, then moves by ``obj_deltas`` and
    ``obj_apply`` (the strategies' calls); after the moves, every coordinate's deltas."""
    obj, domains, x0, moves = case
    reference = _reference(obj)
    values, offsets = Domain.per_variable(domains).lower(obj.num_variables)
    problem, length = obj._lower()
    x_idx, cache = x0.copy(), np.zeros(length)
    variables = np.array([m[0] for m in moves], dtype=np.int64)
    choices = np.array([m[1] for m in moves], dtype=np.int64)
    energies = replay_moves(problem, values, offsets, x_idx, cache, variables, choices)

    def point(idx):
        return [dom[k] for dom, k in zip(domains, idx)]

    idx = x0.copy()
    for t in range(len(moves) + 1):
        expected = reference(point(idx))
        assert energies[t] == pytest.approx(expected, abs=ATOL * max(1.0, abs(expected)))
        if t < len(moves):
            i = variables[t]
            idx[i] = choices[t] % len(domains[i])
    assert np.array_equal(idx, x_idx)
    base = reference(point(idx))
    assert obj.energy(np.array(point(idx))) == pytest.approx(base, abs=ATOL * max(1.0, base))
    table = all_deltas(problem, values, offsets, x_idx, cache)
    for i, dom in enumerate(domains):
        assert table[i, idx[i]] == 0.0
        for k in range(len(dom)):
            moved = idx.copy()
            moved[i] = k
            expected = reference(point(moved)) - base
            assert table[i, k] == pytest.approx(expected, abs=ATOL * max(1.0, base))


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
