"""The LeNet of Table II: forward pass, backpropagation, the convolution-block
objective, packing and the block-wise CoNNTrA pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from combopt import Domain, solve
from combopt._numeric.layers import as_images
from combopt.nn.datasets import Dataset
from combopt.nn.lenet import (
    CONV_SHAPES,
    LeNet,
    conv_features,
    lenet_loss_and_grad,
    pretrain_lenet,
)
from combopt.nn.lenet_training import fit_scales, train_lenet
from combopt.nn.models import sample_losses
from combopt.nn.packing import PackedLeNet
from combopt.objectives import LeNetConvObjective
from tests import naive

OMEGA = np.array([-1.0, 0.0, 1.0])


def _net(seed=0, noise=0.05):
    """A He-initialised LeNet with non-zero biases (so every code path is exercised)."""
    net = LeNet.initial(seed)
    rng = np.random.default_rng(seed + 100)
    return net.with_flat(net.flat() + noise * rng.normal(size=net.num_parameters))


def _synthetic(n, seed=0):
    """Images whose label decides which of ten 6 x 6 blocks is bright, plus noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 10
    images = 0.2 * rng.random((n, 28, 28))
    for k, label in enumerate(y):
        r, c = divmod(int(label), 5)
        images[k, 4 + 10 * r : 10 + 10 * r, 2 + 5 * c : 7 + 5 * c] += 0.8
    return images.reshape(n, 784), y


def test_forward_matches_explicit_loops():
    net = _net(1)
    X, _ = _synthetic(2)
    expected = np.array(
        [naive.lenet_logits(net.conv, net.head.weights, net.head.biases, x) for x in X]
    )
    np.testing.assert_allclose(net.logits(X), expected, rtol=1e-10, atol=1e-10)


def _gamma(m):
    """Higham's gamma_m = m u / (1 - m u), u = 2^-53: the relative error bound of a sum
    of m floating-point terms (products included), whatever order it is summed in."""
    u = np.finfo(np.float64).eps / 2
    return m * u / (1 - m * u)


def test_features_independent_of_block_size():
    """Block size changes only BLAS's summation order, so the features agree within the
    worst-case rounding bound of that order, not bit for bit (different CPUs and OpenBLAS
    builds sum differently; 15 of 2800 values once differed by 2.2e-16).

    The bound: a conv1 pre-activation sums 25 products and a bias, a conv2 one sums
    6 * 25 = 150 products and a bias; max-pooling and relu are exact and 1-Lipschitz.
    Any order is within gamma_26 * M1 of the exact conv1 value, M1 the same sum over
    absolute values; propagated through conv2, every feature is within
    (gamma_151 * (1 + gamma_26) + gamma_26) * A of the exact one, A the features of the
    absolute-valued network on |X|. Two orders differ by at most twice that (about
    4e-14 * A); the factor 1.01 covers the rounding of A itself.
    """
    net = _net(2)
    X, _ = _synthetic(7)
    magnitude = conv_features([np.abs(t) for t in net.conv], np.abs(X))
    bound = 2.02 * (_gamma(151) * (1 + _gamma(26)) + _gamma(26)) * magnitude
    reference = conv_features(net.conv, X, batch=100)  # one block
    assert np.abs(reference).max() > 0.1  # the features are not trivially zero
    for batch in (1, 3, 6):
        difference = np.abs(conv_features(net.conv, X, batch=batch) - reference)
        assert np.all(difference <= bound), (batch, float((difference - bound).max()))


def test_backprop_gradient_matches_finite_differences():
    net = _net(3)
    X, y = _synthetic(4, seed=3)
    params = [*net.conv, *[t for pair in zip(net.head.weights, net.head.biases) for t in pair]]
    loss, grads = lenet_loss_and_grad(params, as_images(X), y)
    assert loss == pytest.approx(float(sample_losses(net.logits(X), y).mean()), rel=1e-12)
    rng = np.random.default_rng(0)
    for tensor, grad in zip(params, grads):
        assert grad.shape == tensor.shape
        for _ in range(3):
            idx = tuple(int(rng.integers(0, s)) for s in tensor.shape)
            old = tensor[idx]
            tensor[idx] = old + 1e-6
            up, _ = lenet_loss_and_grad(params, as_images(X), y)
            tensor[idx] = old - 1e-6
            down, _ = lenet_loss_and_grad(params, as_images(X), y)
            tensor[idx] = old
            assert grad[idx] == pytest.approx((up - down) / 2e-6, rel=1e-4, abs=1e-8)


def test_pretraining_learns():
    X, y = _synthetic(300)
    net, seconds = pretrain_lenet(X, y, epochs=2, batch_size=32, seed=0)
    assert seconds > 0 and net.error(X, y) < 20.0
    assert net.error(X, y) < LeNet.initial(0).error(X, y)


def _lowered(objective, scale=0.2, seed=0):
    problem, length = objective._lower()
    n = objective.num_variables
    values = np.tile(scale * OMEGA, n)
    offsets = np.arange(0, 3 * n + 1, 3)
    x_idx = np.random.default_rng(seed).integers(0, 3, n)
    cache = np.zeros(length)
    problem.init(values, offsets, x_idx, cache)
    return problem, values, offsets, x_idx, cache


def test_conv_deltas_equal_full_recomputation_after_moves():
    """After any sequence of moves, each delta equals a full forward-pass difference."""
    X, y = _synthetic(6, seed=4)
    objective = LeNetConvObjective(X, y, _net(4).head)
    problem, values, offsets, x_idx, cache = _lowered(objective)
    rng = np.random.default_rng(5)
    out = np.empty(3)
    bias_vars = [150 + c for c in range(6)] + [2556 + o for o in range(16)]
    for step in range(60):
        i = int(bias_vars[step % 22] if step % 3 == 0 else rng.integers(0, objective.num_variables))
        x = values[offsets[:-1] + x_idx]
        problem.deltas(values, offsets, x_idx, cache, i, out)
        base = objective.energy(x)
        for k in range(3):
            trial = x.copy()
            trial[i] = values[offsets[i] + k]
            assert out[k] == pytest.approx(objective.energy(trial) - base, abs=1e-12)
        assert out[x_idx[i]] == 0.0
        problem.apply(values, offsets, x_idx, cache, i, int(rng.integers(0, 3)))
    fresh = np.zeros_like(cache)
    energy = problem.init(values, offsets, x_idx.copy(), fresh)
    assert energy == pytest.approx(objective.energy(values[offsets[:-1] + x_idx]), rel=1e-12)
    np.testing.assert_allclose(cache, fresh, rtol=1e-12, atol=1e-12)


def test_conv_objective_through_the_solver_never_worsens():
    X, y = _synthetic(20, seed=6)
    net = _net(6)
    objective = LeNetConvObjective(X, y, net.head)
    start = np.sign(net.flat()[: objective.num_variables]) * 0.2
    domain = Domain.per_variable([0.2 * OMEGA] * objective.num_variables)
    result = solve(objective, domain, max_iterations=1, initial=start, seed=1, polish=False)
    assert result.energy == pytest.approx(objective.energy(result.x), rel=1e-12)
    assert result.energy <= objective.energy(start) + 1e-12
    assert np.all(np.diff(result.trace) <= 1e-12)


def test_conv_objective_rejects_bad_input():
    head = LeNet.initial().head
    with pytest.raises(ValueError, match="784"):
        LeNetConvObjective(np.zeros((2, 10)), [0, 1], head)
    with pytest.raises(ValueError, match="NaN"):
        LeNetConvObjective(np.full((2, 784), np.nan), [0, 1], head)
    with pytest.raises(ValueError, match="shape"):
        LeNetConvObjective(np.zeros((2, 784)), [0], head)


def test_packed_lenet_round_trips_and_predicts_the_same(tmp_path):
    net = _net(7)
    scales = np.array([0.3, 0.05, 0.2, 0.05, 0.1, 0.02, 0.15, 0.02, 0.2, 0.03])
    rng = np.random.default_rng(8)
    codes = [rng.integers(0, 3, t.size) for t in net.tensors()]
    ternary = net.with_flat(np.concatenate([a * OMEGA[c] for a, c in zip(scales, codes)]))
    packed = PackedLeNet.from_network(ternary, OMEGA, scales)
    assert packed.memory_bytes == -(-net.num_parameters * 2 // 8) == 15427
    packed.save(tmp_path / "lenet.npz")
    loaded = PackedLeNet.load(tmp_path / "lenet.npz")
    # Exact: decoding computes the same products scale * omega[code] as the encoding.
    np.testing.assert_array_equal(loaded.to_network().flat(), ternary.flat())
    X, _ = _synthetic(30, seed=8)
    # Same weights bit for bit, same input, same conv_features/forward calls and shapes.
    np.testing.assert_array_equal(loaded.predict(X), ternary.predict(X))
    np.testing.assert_allclose(loaded.logits(X), ternary.logits(X), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="not a value"):
        PackedLeNet.from_network(net, OMEGA, scales)


def test_packed_lenet_refuses_foreign_files(tmp_path):
    np.savez(tmp_path / "other.npz", omega=OMEGA)
    with pytest.raises(ValueError, match="not a packed combopt LeNet"):
        PackedLeNet.load(tmp_path / "other.npz")


def test_fit_scales_puts_every_tensor_on_its_grid_and_beats_least_squares():
    from combopt.domain import discretize_scaled

    X, y = _synthetic(40, seed=9)
    net, _ = pretrain_lenet(X, y, epochs=1, batch_size=20, seed=1)
    scales, ternary = fit_scales(net, OMEGA, X, y)
    for tensor, scale in zip(ternary.tensors(), scales):
        assert np.all(np.isin(np.round(tensor / scale, 12), OMEGA))
    plain = np.concatenate(
        [
            a * OMEGA[np.abs(t[:, None] / a - OMEGA).argmin(1)]
            for t, a in ((t, discretize_scaled(t, OMEGA)[0]) for t in net.tensors())
        ]
    )
    fitted_loss = sample_losses(ternary.logits(X), y).mean()
    assert fitted_loss <= sample_losses(net.with_flat(plain).logits(X), y).mean() + 1e-12


def test_train_lenet_lowers_the_error_and_reports_the_four_metrics():
    X, y = _synthetic(240, seed=10)
    data = Dataset("synthetic", X[:200], y[:200], X[200:], y[200:], "200 / 40 synthetic images")
    record = train_lenet(
        data,
        max_iterations=1,
        conv_batch=50,
        head_batch=100,
        epochs=1,
        fit_scales_batch=100,
        seed=0,
    )
    start, end = record.curve[0], record.curve[-1]
    assert end["loss"] < start["loss"]
    assert end["train_error"] <= start["train_error"]
    assert record.memory_kb == 15.427 and record.float_memory_kb == pytest.approx(493.648)
    # 2 of 64 bits
    assert record.float_memory_kb / record.memory_kb == pytest.approx(32.0, rel=1e-4)
    assert record.train_error == pytest.approx(end["train_error"])
    assert record.seconds > 0 and record.pretrain_seconds > 0
    assert len(record.config["final_scales"]) == 10 == len(CONV_SHAPES) + 6


def test_train_lenet_from_the_straight_through_start():
    """``ste_start``: Algorithm 1 and CoNNTrA start from the STE network, whose time
    stays in ``ste``, apart from CoNNTrA's ``seconds``."""
    X, y = _synthetic(240, seed=11)
    data = Dataset("synthetic", X[:200], y[:200], X[200:], y[200:], "200 / 40 synthetic images")
    record = train_lenet(data, max_iterations=1, conv_batch=50, head_batch=100, epochs=1,
                         fit_scales_batch=100, seed=0, ste_epochs=1, ste_start=True)
    assert record.config["start"] == "ste" and record.ste["seconds"] > 0
    assert record.memory_kb == 15.427 and record.seconds > 0
    with pytest.raises(ValueError, match="ste_epochs"):
        train_lenet(data, max_iterations=1, ste_start=True)
