"""The straight-through ternary baseline (``combopt.nn.ste``).

The rounding is compared with a loop reference (``naive.twn_ternarize``), the
dense backpropagation with central finite differences of the loss (relative
tolerance 1e-5: the differences' truncation error at step 1e-6 on O(1)
losses is ~1e-10, their rounding ~1e-10 / 1e-6), and the trained networks
must be ternary per tensor.
"""

import itertools

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from combopt._numeric.layers import DenseNet, sample_losses
from combopt.nn.datasets import load_iris
from combopt.nn.lenet import LeNet
from combopt.nn.ste import _dense_grads, ste_dense, ste_lenet, ternarize


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 30), elements=st.floats(-5, 5)))
def test_ternarize_matches_loop_reference(w):
    alpha, codes = ternarize(w)
    ref_alpha, ref_codes = naive.twn_ternarize(w)
    np.testing.assert_array_equal(codes, ref_codes)
    assert alpha == pytest.approx(ref_alpha, rel=1e-12)


@pytest.mark.parametrize("loss", ["cross_entropy", "squared"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
def test_dense_gradient_matches_finite_differences(loss, activation):
    rng = np.random.default_rng(1)
    sizes = [4, 5, 3]
    X = rng.normal(size=(7, 4))
    y = rng.integers(0, 3, 7)
    net = DenseNet([rng.normal(size=(a, b)) for a, b in itertools.pairwise(sizes)],
                   [rng.normal(size=b) for b in sizes[1:]], activation)
    gw, gb = _dense_grads(net.weights, net.biases, activation, X, y, loss)
    theta = net.flat()
    grad = np.concatenate([np.concatenate([w.ravel(), b]) for w, b in zip(gw, gb)])

    def f(t):
        return float(sample_losses(net.with_flat(t).logits(X), y, loss).mean())

    step = 1e-6
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = step
        numeric = (f(theta + e) - f(theta - e)) / (2 * step)
        assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def _is_ternary(tensor):
    nonzero = np.abs(tensor[tensor != 0])
    return nonzero.size == 0 or np.allclose(nonzero, nonzero[0], rtol=1e-12)


def test_ste_dense_returns_ternary_tensors_and_learns():
    data = load_iris()
    rng = np.random.default_rng(0)
    start = DenseNet([rng.normal(size=(4, 8)) * 0.5, rng.normal(size=(8, 3)) * 0.5],
                     [np.zeros(8), np.zeros(3)])
    net, seconds = ste_dense(start, data.X_train, data.y_train, epochs=200, batch_size=32)
    assert seconds > 0
    assert all(_is_ternary(t) for t in (*net.weights, *net.biases))
    assert net.error(data.X_train, data.y_train) < 20.0  # chance is 66.7 %


def test_ste_lenet_returns_ternary_tensors():
    rng = np.random.default_rng(0)
    X = rng.random((16, 784))
    y = np.arange(16) % 10
    net, _ = ste_lenet(LeNet.initial(0), X, y, epochs=1, batch_size=8)
    assert all(_is_ternary(t) for t in net.tensors())
    assert net.num_parameters == 61706


def test_ste_reports_its_progress_once_per_percent_at_most():
    data = load_iris()
    start = DenseNet([np.zeros((4, 3))], [np.zeros(3)])
    heard = []
    # 120 samples in batches of 7: 18 steps an epoch, 900 steps in all.
    ste_dense(start, data.X_train, data.y_train, epochs=50, batch_size=7, callback=heard.append)
    assert len(heard) == 100 and heard[-1] == 1.0
    assert all(a < b for a, b in itertools.pairwise(heard))


def test_the_cli_bar_shows_the_stages_before_conntra(monkeypatch):
    # On a terminal, `combopt train` names the straight-through stage while it runs.
    pytest.importorskip("tqdm")
    from fake_terminal import Terminal

    from combopt.cli import main

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["train", "iris", "--seed", "0", "--max-iterations", "1", "--json"]) == 0
    assert "iris: straight-through" in terminal.text and "iris: CoNNTrA" in terminal.text
