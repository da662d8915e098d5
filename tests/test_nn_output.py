"""The output layer's fast paths (``combopt._kernels.nn_output``) against the loop reference.

Inputs with few distinct values (MNIST's grey levels) take the tabulated
path: one ``exp`` per level and call instead of one per sample. It needs a
column with more than four times as many nonzeros as there are levels, so
these problems have many samples and three or four input levels. The deltas,
the moves and the cached energy are compared with :func:`naive.dense_net_loss`
(tolerance as in ``test_nn_kernels.py``), and the tabulated path with the
per-sample path on the same problem (to a tolerance: the two compute
``exp(d h)`` differently, as powers of one ``exp`` or directly).
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_nn_kernels import _walk

from combopt._kernels.nn_dense import dense_deltas, dense_init
from combopt.nn.training import scaled_domain
from combopt.objectives import DenseNetObjective


def _levelled_problem(rng, levels, n_features, n_classes, loss, n_samples=60):
    X = rng.choice(np.array([0.0, *levels]), size=(n_samples, n_features))
    y = rng.integers(0, n_classes, n_samples)
    return DenseNetObjective(X, y, (), n_classes=n_classes, loss=loss)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    levels=st.lists(st.sampled_from([0.25, 0.5, 1.0, 1.5, 3.0]), min_size=1, max_size=3,
                    unique=True),
    omega=st.sampled_from([(-1, 0, 1), (-2, -1, 0, 1, 2), (-3, 1, 2), (0, 1)]),
    loss=st.sampled_from(["cross_entropy", "squared"]),
    scale=st.sampled_from([0.3, 1.0, 4.0]),  # 4.0 pushes logits towards the fallbacks
)
def test_tabulated_output_path_matches_reference(seed, levels, omega, loss, scale):
    rng = np.random.default_rng(seed)
    obj = _levelled_problem(rng, levels, 3, 3, loss)
    problem, _ = obj._lower()
    assert problem.xlevels.size == len(levels)  # the tabulated path is the one under test
    domain = scaled_domain(obj.sizes, np.array(omega, dtype=float), [scale, scale])
    worst, drift = _walk(obj, domain, rng, steps=15)
    assert worst < 1e-10
    assert drift < 1e-9


def test_tabulated_and_per_sample_paths_agree():
    rng = np.random.default_rng(3)
    obj = _levelled_problem(rng, [0.5, 1.0], 4, 5, "cross_entropy", n_samples=200)
    domain = scaled_domain(obj.sizes, [-1.0, 0.0, 1.0], [0.7, 0.4])
    values, offsets = domain.lower(obj.num_variables)
    tabulated, length = obj._lower()
    per_sample = tabulated._replace(xcode=np.zeros(0, dtype=np.int64), xlevels=np.zeros(0))
    x_idx = rng.integers(0, 3, obj.num_variables).astype(np.int64)
    out_a, out_b = np.zeros(3), np.zeros(3)
    cache = np.zeros(length)
    dense_init(tabulated, values, offsets, x_idx, cache)
    for i in range(obj.num_variables):
        dense_deltas(tabulated, values, offsets, x_idx, cache, i, out_a)
        dense_deltas(per_sample, values, offsets, x_idx, cache, i, out_b)
        np.testing.assert_allclose(out_a, out_b, rtol=1e-12, atol=1e-14)
    assert np.any(out_a != 0.0)


def test_many_distinct_inputs_are_not_tabulated():
    X = np.random.default_rng(0).normal(size=(1500, 1))  # more than _MAX_LEVELS values
    problem, _ = DenseNetObjective(X, np.arange(1500) % 2)._lower()
    assert problem.xlevels.size == 0 and problem.xcode.size == 0
