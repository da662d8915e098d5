"""Properties of the QUBO <-> training mappings in :mod:`reductions`.

Every identity is checked on all ``2^d`` binary (or spin) points of random
instances drawn by hypothesis: indefinite and non-symmetric ``A``, ``N > d``,
spin form, several outputs, ternary and irregular weight sets.
"""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import reductions
from reductions import (
    as_qubo,
    choose_shift,
    qubo_energy,
    qubo_to_training,
    to_binary,
    to_spin,
    training_loss,
    training_to_qubo,
    weight_encoding,
)

SEEDS = st.integers(0, 2**32 - 1)
SCALES = st.sampled_from([1e-3, 1.0, 1e3])


def all_points(d: int, variables: str = "binary") -> np.ndarray:
    """Every point of ``{0,1}^d`` (or ``{-1,+1}^d``) as rows, shape ``(2^d, d)``."""
    bits = ((np.arange(2**d)[:, None] >> np.arange(d)) & 1).astype(np.float64)
    return bits if variables == "binary" else 2.0 * bits - 1.0


def random_qubo(d: int, seed: int, scale: float = 1.0):
    """A dense, non-symmetric, typically indefinite ``(Q, b, c)``."""
    rng = np.random.default_rng(seed)
    Q = scale * rng.normal(size=(d, d))
    b = scale * rng.normal(size=d)
    c = float(scale * rng.normal())
    return Q, b, c


def assert_energies_close(got, want, scale):
    tol = 1e-9 * max(1.0, np.max(np.abs(want)), scale)
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)


@settings(max_examples=60, deadline=None)
@given(d=st.integers(1, 8), seed=SEEDS, scale=SCALES, extra=st.integers(0, 5),
       variables=st.sampled_from(["binary", "spin"]), mix=st.booleans())
def test_training_loss_equals_qubo_on_every_point(d, seed, scale, extra, variables, mix):
    Q, b, c = random_qubo(d, seed, scale)
    red = qubo_to_training(Q, b, c, variables=variables, n_samples=d + extra,
                           seed=seed if mix else None)
    z = all_points(d, variables)
    want = np.einsum("ki,ij,kj->k", z, Q, z) + z @ b + c  # the unsymmetrised Q
    assert red.X.shape == (d + extra, d) and red.Y.shape == (d + extra,)
    assert_energies_close(red.loss(z), want, scale * d * d)
    assert_energies_close(red.source.energy(z), want, scale * d * d)


@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 8), seed=SEEDS, kappa=st.sampled_from([2.0, 10.0, 1e3]))
def test_auto_shift_bounds_the_condition_number(d, seed, kappa):
    Q, b, c = random_qubo(d, seed)
    red = qubo_to_training(Q, b, c, max_condition=kappa)
    gram = red.X.T @ red.X / red.n_samples
    S = 0.5 * (Q + Q.T)
    np.testing.assert_allclose(gram, S + red.shift * np.eye(d), atol=1e-9 * (1 + red.shift))
    assert red.condition_number <= kappa * (1 + 1e-9)
    assert red.condition_number == pytest.approx(np.linalg.cond(gram), rel=1e-6)
    assert red.shift == choose_shift(Q, b, max_condition=kappa)
    eig = np.linalg.eigvalsh(S)
    if eig[0] > 0 and eig[-1] / eig[0] <= kappa:
        assert red.shift == 0.0
    else:  # the shift is not the bare one, which would make the factor singular
        assert red.shift > -eig[0]


def test_well_conditioned_positive_definite_matrix_is_not_shifted():
    A = np.array([[4.0, 1.0], [1.0, 3.0]])
    red = qubo_to_training(A, [1.0, -1.0])
    assert red.shift == 0.0
    L = np.linalg.cholesky(A)  # the paper's construction, N = d
    np.testing.assert_allclose(red.X, np.sqrt(2) * L.T)
    np.testing.assert_allclose(red.Y, -(np.sqrt(2) / 2) * np.linalg.solve(L, [1.0, -1.0]))
    assert red.offset == pytest.approx(
        -0.25 * np.array([1.0, -1.0]) @ np.linalg.solve(A, [1.0, -1.0])
    )


@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 7), seed=SEEDS, scale=SCALES)
def test_round_trip_qubo_training_qubo(d, seed, scale):
    Q, b, c = random_qubo(d, seed, scale)
    red = qubo_to_training(Q, b, c, n_samples=d + 2, seed=seed)
    back = training_to_qubo(red.X, red.Y, red.offset)
    z = all_points(d)
    assert_energies_close(back.energy(z), red.source.energy(z), scale * d * d)
    # A comes back up to the diagonal shift, which moved into b.
    tol = 1e-9 * scale * (d + red.shift / scale)
    np.testing.assert_allclose(back.A, red.source.A + red.shift * np.eye(d), atol=tol)
    np.testing.assert_allclose(back.b, red.source.b - red.shift, atol=tol)
    assert back.c == pytest.approx(c, abs=tol * d)


@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 7), seed=SEEDS, scale=SCALES)
def test_spin_and_binary_forms_agree(d, seed, scale):
    Q, b, c = random_qubo(d, seed, scale)
    q = as_qubo(Q, b, c)
    s = to_spin(q)
    z = all_points(d)
    assert s.variables == "spin"
    assert_energies_close(s.energy(2 * z - 1), q.energy(z), scale * d * d)
    back = to_binary(s)
    np.testing.assert_allclose(back.A, q.A, atol=1e-12 * scale)
    np.testing.assert_allclose(back.b, q.b, atol=1e-12 * scale * d)
    assert back.c == pytest.approx(q.c, abs=1e-12 * scale * d * d)


@pytest.mark.parametrize("variables", ["binary", "spin"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exhaustive_agreement_and_same_minimisers_at_d12(variables, seed):
    d = 12
    Q, b, c = random_qubo(d, seed, 10.0)
    Q = np.round(Q)  # integer data gives exact ties sometimes; minimisers must still match
    red = qubo_to_training(Q, b, c, variables=variables, n_samples=15, seed=seed)
    z = all_points(d, variables)
    e_q = red.source.energy(z)
    e_t = red.loss(z)
    assert_energies_close(e_t, e_q, 10.0 * d * d)
    tol = 1e-9 * np.max(np.abs(e_q))
    # The sets are compared exactly although the forms round differently: a point's
    # "e - e.min()" moves by at most twice their largest difference from one form to the
    # other, and no energy lies that close to the cut (so no machine can flip one).
    margin = np.min(np.abs(e_q - (e_q.min() + tol)))
    assert 2 * np.max(np.abs(e_t - e_q)) < margin
    np.testing.assert_array_equal(e_q <= e_q.min() + tol, e_t <= e_t.min() + tol)


@settings(max_examples=40, deadline=None)
@given(
    d=st.integers(1, 4),
    k=st.integers(1, 3),
    n=st.integers(1, 6),
    seed=SEEDS,
    weights=st.sampled_from([None, "spin", (-1, 0, 1), (0, 1, 2, 3, 4), (-2.5, 0.5)]),
)
def test_training_qubo_energy_is_the_loss_of_the_decoded_weights(d, k, n, seed, weights):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = rng.normal(size=(n, k)) if k > 1 else rng.normal(size=n)
    q = training_to_qubo(X, Y, 0.25, weights=weights)
    assume(q.num_variables <= 14)
    z = all_points(q.num_variables, q.variables)
    W = np.array([q.decode(p) for p in z])
    assert_energies_close(q.energy(z), training_loss(X, Y, W, 0.25), np.sum(Y * Y) + 10)


def test_ternary_network_optimum_decodes_to_the_brute_force_ternary_weights():
    rng = np.random.default_rng(5)
    d, k, n = 3, 2, 7
    X = rng.normal(size=(n, d))
    Y = X @ rng.integers(-1, 2, size=(d, k)) + 0.3 * rng.normal(size=(n, k))
    q = training_to_qubo(X, Y, weights=[-1, 0, 1])
    assert q.encoding.kind == "expansion" and q.penalty == 0.0
    z = all_points(q.num_variables)
    e = q.energy(z)
    W_best = q.decode(z[np.argmin(e)])
    grid = np.array(list(itertools.product([-1.0, 0.0, 1.0], repeat=d * k))).reshape(-1, d, k)
    losses = training_loss(X, Y, grid)
    # The two argmins come from differently rounded sums: they must agree only because
    # the optimum is unique by a margin far above rounding (checked, so no near tie).
    assert np.partition(losses, 1)[1] - losses.min() > 1e-6 * losses.min()
    np.testing.assert_array_equal(W_best, grid[np.argmin(losses)])
    assert e.min() == pytest.approx(losses.min(), rel=1e-12)
    # Every code decodes to a ternary weight, so the forms agree at all 2^n points.
    assert set(np.unique([q.decode(p) for p in z])) <= {-1.0, 0.0, 1.0}


@settings(max_examples=25, deadline=None)
@given(seed=SEEDS, n=st.integers(1, 5), scale=SCALES)
def test_one_hot_penalty_keeps_every_minimiser_valid(seed, n, scale):
    rng = np.random.default_rng(seed)
    X = scale * rng.normal(size=(n, 3))
    Y = scale * rng.normal(size=n)
    values = (-1.5, 0.25, 3.0)  # not evenly spaced: one-hot
    q = training_to_qubo(X, Y, weights=values)
    assert q.encoding.kind == "one-hot" and q.penalty > 0
    z = all_points(q.num_variables)
    e = q.energy(z)
    valid = np.all(z.reshape(len(z), 3, 3).sum(axis=2) == 1, axis=1)
    grid = np.array(list(itertools.product(values, repeat=3)))
    best = training_loss(X, Y, grid).min()
    assert e[valid].min() == pytest.approx(best, rel=1e-9, abs=1e-12 * scale**2)
    assert e[~valid].min() > e[valid].min()
    W = np.array([q.decode(p) for p in z[valid]])
    assert_energies_close(e[valid], training_loss(X, Y, W), scale**2 * n)


@pytest.mark.parametrize("values", [[-1, 0, 1], [0, 1], [2, 4, 6, 8, 10], [0, 1, 2, 3, 4, 5, 6]])
def test_expansion_codes_cover_exactly_the_value_set(values):
    enc = weight_encoding(values)
    codes = all_points(enc.bits)
    decoded = enc.decode(codes)
    assert set(decoded.tolist()) == {float(v) for v in values}
    np.testing.assert_array_equal(enc.decode(enc.encode(values)), values)


def test_functions_never_mutate_their_inputs():
    Q, b, c = random_qubo(5, 3)
    X = np.random.default_rng(1).normal(size=(6, 5))
    Y = np.random.default_rng(2).normal(size=(6, 2))
    copies = [a.copy() for a in (Q, b, X, Y)]
    red = qubo_to_training(Q, b, c, n_samples=7, seed=1)
    training_to_qubo(X, Y, weights=[-1, 0, 1])
    training_to_qubo(X, Y, weights=[-1, 0.5, 3])
    qubo_energy(Q, b, c, np.ones(5))
    training_loss(X, Y, np.ones((5, 2)))
    to_binary(to_spin(as_qubo(Q, b, c)))
    for before, after in zip(copies, (Q, b, X, Y)):
        np.testing.assert_array_equal(before, after)
    assert red.source.A is not Q and not np.shares_memory(red.source.b, b)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: qubo_to_training([[np.nan]]), "NaN or infinite"),
        (lambda: qubo_to_training([[1.0, np.inf], [0, 1]]), "NaN or infinite"),
        (lambda: qubo_to_training(np.ones((2, 3))), "square"),
        (lambda: qubo_to_training(np.ones(3)), "2-D"),
        (lambda: qubo_to_training(np.eye(2), [1.0]), r"shape \(2,\)"),
        (lambda: qubo_to_training(np.eye(3), n_samples=2), "at least the number of variables 3"),
        (lambda: qubo_to_training(-np.eye(2), shift=0.5), "shift=0.5"),
        (lambda: qubo_to_training(-np.eye(2), shift=1.0), "singular|shift=1.0"),
        (lambda: qubo_to_training(np.eye(2), shift="big"), "'auto'"),
        (lambda: qubo_to_training(np.eye(2), max_condition=1.0), "greater than 1"),
        (lambda: qubo_to_training(np.eye(2), offset=np.nan), "offset"),
        (lambda: qubo_to_training(np.eye(2), variables="ising"), "binary' or 'spin"),
        (lambda: training_to_qubo(np.ones((3, 2)), np.ones(4)), "3 rows"),
        (lambda: training_to_qubo(np.ones((3, 2)), np.ones(3), weights=[1, 1]), "repeated"),
        (lambda: training_to_qubo(np.ones((3, 2)), np.ones(3), weights=[1]), "at least two"),
        (
            lambda: training_to_qubo(
                np.ones((3, 2)), np.ones(3), weights=[0, 1, 3], encoding="expansion"
            ),
            "evenly spaced",
        ),
        (lambda: training_to_qubo(np.ones((3, 2)), np.ones(3), penalty=1.0), "one-hot"),
        (lambda: training_loss(np.ones((3, 2)), np.ones(3), np.ones(3)), "shape"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_importing_reductions_never_imports_combopt_or_numba():
    code = (
        "import sys, reductions, reductions.cholesky, reductions.training, reductions.encoding\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('combopt', 'numba'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"reductions pulled in: {out.stdout.strip()}"
    assert reductions.__all__  # the package exports its API
