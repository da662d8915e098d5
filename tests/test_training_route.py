"""Solving QUBOs through network training (:mod:`combopt.training_route`)."""

from __future__ import annotations

import os

import dimod
import numpy as np
import pytest

from combopt.domain import discretize
from combopt.training_route import qubo_from_bqm, solve_qubo_via_training
from reductions import qubo_to_training

DATA = os.environ.get("COMBOPT_DATA")


def needs_data(test):
    """Mark a test as needing the published instances; skip it when COMBOPT_DATA is unset."""
    skip = pytest.mark.skipif(not DATA, reason="COMBOPT_DATA is not set (published instances)")
    return pytest.mark.data(skip(test))


def brute_force_minimum(A, b, c, lo, hi):
    d = A.shape[0]
    x = np.where((np.arange(2**d)[:, None] >> np.arange(d)) & 1, hi, lo).astype(float)
    return float(np.min(np.einsum("ki,ij,kj->k", x, A, x) + x @ b + c))


@pytest.mark.parametrize("variables", ["binary", "spin"])
def test_route_reaches_the_brute_force_minimum(variables):
    rng = np.random.default_rng(21)
    Q = rng.integers(-10, 11, size=(12, 12)).astype(float)
    b = rng.integers(-10, 11, size=12).astype(float)
    res = solve_qubo_via_training(Q, b, 2.0, variables=variables, strategy="tabu",
                                  num_reads=2, seed=3, max_iterations=50)
    lo, hi = (0.0, 1.0) if variables == "binary" else (-1.0, 1.0)
    S = 0.5 * (Q + Q.T)
    # Integer data: every energy is a multiple of 0.5, exact in any summation order.
    assert res.energy == brute_force_minimum(S, b, 2.0, lo, hi)
    assert res.training_energy == pytest.approx(res.energy, abs=1e-9)
    assert set(np.unique(res.z)) <= {lo, hi} and res.z.shape == (12,)
    assert res.energy == pytest.approx(res.z @ Q @ res.z + b @ res.z + 2.0)
    # The pipeline: the start is Algorithm 1 applied to the relaxed weights,
    # which lie in the box and bound the optimum from below (the box holds
    # every binary point and the training form is exact on them).
    assert np.all((res.relaxed >= lo) & (res.relaxed <= hi))
    np.testing.assert_array_equal(res.initial, discretize(res.relaxed, [lo, hi]))
    red = qubo_to_training(Q, b, 2.0, variables=variables)
    assert red.loss(res.relaxed) <= res.energy + 1e-9
    assert res.energies.shape == (2,) and res.samples.shape == (2, 12)
    assert res.evaluations > 0 and res.seed == 3
    assert set(res.timing) >= {"reduce", "relax", "discretize", "solve", "total"}


def test_target_energy_is_given_in_the_qubo_form():
    rng = np.random.default_rng(24)
    Q = rng.integers(-10, 11, size=(10, 10)).astype(float)
    best = brute_force_minimum(0.5 * (Q + Q.T), np.zeros(10), 5.0, 0.0, 1.0)
    res = solve_qubo_via_training(Q, offset=5.0, strategy="tabu", seed=2, num_reads=1,
                                  max_iterations=10_000, target_energy=best + 1e-6)
    assert res.stop_reason == "target" and res.energy == best


def test_route_with_the_paper_strategy_never_ends_above_its_start():
    Q = np.random.default_rng(22).normal(size=(30, 30))
    res = solve_qubo_via_training(Q, strategy="paper", num_reads=3, seed=5, max_iterations=20)
    # Algorithm 2 never goes uphill from the discretised relaxation.
    assert res.energy <= res.initial_energy + 1e-9
    assert np.all(res.energies <= res.initial_energy + 1e-9)


def test_qubo_from_bqm_keeps_every_energy():
    rng = np.random.default_rng(23)
    for vartype in ("BINARY", "SPIN"):
        bqm = dimod.generators.gnp_random_bqm(9, 0.5, vartype, random_state=4)
        bqm.offset = 1.5
        q, labels = qubo_from_bqm(bqm)
        lo = 0 if vartype == "BINARY" else -1
        pts = np.where(rng.integers(0, 2, size=(50, 9)) == 1, 1, lo)
        want = [bqm.energy(dict(zip(labels, p))) for p in pts]
        np.testing.assert_allclose(q.energy(pts), want, atol=1e-9)
        assert q.variables == ("binary" if vartype == "BINARY" else "spin")


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="NaN"):
        solve_qubo_via_training([[np.nan]])
    with pytest.raises(ValueError, match="no variables"):
        qubo_from_bqm(dimod.BQM("BINARY"))


@needs_data
@pytest.mark.parametrize("k", range(1, 11))
def test_route_reaches_the_published_optimum_of_every_bqp50(k):
    from combopt.instances import load

    inst = load(f"bqp50.{k}")
    q, labels = qubo_from_bqm(inst.bqm)
    res = solve_qubo_via_training(q, strategy="tabu", num_reads=2, seed=k, max_iterations=200)
    # Evaluated in the QUBO form (the BQM itself) and in the training form.
    sample = dict(zip(labels, res.z.astype(int)))
    assert inst.objective(inst.bqm.energy(sample)) == inst.best_known
    red = qubo_to_training(q)
    assert inst.objective(red.loss(res.z)) == pytest.approx(inst.best_known, abs=1e-9)
    assert res.training_energy == pytest.approx(res.energy, abs=1e-9)
