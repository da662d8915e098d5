"""The numeric checker (:mod:`combopt.reduction_check`) and its Gray-code kernel."""

from __future__ import annotations

import os

import naive
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from combopt._kernels import graycode as gk
from combopt.reduction_check import check
from reductions import qubo_to_training
from reductions.cholesky import TrainingReduction

DATA = os.environ.get("COMBOPT_DATA")


def needs_data(test):
    """Mark a test as needing the published instances; skip it when COMBOPT_DATA is unset."""
    skip = pytest.mark.skipif(not DATA, reason="COMBOPT_DATA is not set (published instances)")
    return pytest.mark.data(skip(test))


def random_forms(d, n, seed):
    """Two unrelated forms, so their differences are far from zero."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d))
    return (A + A.T, rng.normal(size=d), float(rng.normal()), rng.normal(size=(n, d)),
            rng.normal(size=n), float(rng.normal()))


@settings(max_examples=30, deadline=None)
@given(d=st.integers(1, 9), n=st.integers(1, 6), seed=st.integers(0, 2**32 - 1),
       spin=st.booleans(), chunk_bits=st.integers(0, 14))
def test_gray_scan_matches_the_naive_enumeration(d, n, seed, spin, chunk_bits):
    A, b, c, X, Y, offset = random_forms(d, n, seed)
    lo, hi = (-1.0, 1.0) if spin else (0.0, 1.0)
    e_q, e_t = naive.gray_scan_energies(A, b, c, X, Y, offset, lo, hi)
    stats = gk.gray_scan(A, b, c, X, Y, offset, lo, hi, chunk_bits, -np.inf, -np.inf, 0.0)
    assert stats.shape == (2 ** (d - min(chunk_bits, d)), gk.NUM_STATS)
    assert stats[:, gk.STAT_MAX_DIFF].max() == pytest.approx(np.abs(e_q - e_t).max(), rel=1e-9)
    assert stats[:, gk.STAT_MIN_Q].min() == pytest.approx(e_q.min(), rel=1e-9, abs=1e-12)
    assert stats[:, gk.STAT_MIN_T].min() == pytest.approx(e_t.min(), rel=1e-9, abs=1e-12)
    best = stats[np.argmin(stats[:, gk.STAT_MIN_Q])]
    assert e_q[int(best[gk.STAT_ARGMIN_Q])] == pytest.approx(e_q.min(), rel=1e-9, abs=1e-12)
    # Second pass: membership of the minimiser sets under a tolerance.
    tol = 0.5
    stats = gk.gray_scan(A, b, c, X, Y, offset, lo, hi, chunk_bits, e_q.min(), e_t.min(), tol)
    in_q, in_t = e_q <= e_q.min() + tol, e_t <= e_t.min() + tol
    # The kernel's incrementally updated energies round differently from these direct
    # ones (by ~1e-13 here); exact counts are only well defined when no energy lies
    # within rounding of a cut, so such rare draws are discarded rather than compared.
    assume(np.min(np.abs(e_q - (e_q.min() + tol))) > 1e-9)
    assume(np.min(np.abs(e_t - (e_t.min() + tol))) > 1e-9)
    assert stats[:, gk.STAT_COUNT_Q].sum() == in_q.sum()
    assert stats[:, gk.STAT_COUNT_T].sum() == in_t.sum()
    assert stats[:, gk.STAT_MISMATCH].sum() == np.sum(in_q != in_t)


def test_gray_scan_does_not_drift_over_many_steps():
    # 2^16 steps within one chunk: the periodic refresh must keep both forms exact.
    d = 16
    red = qubo_to_training(np.random.default_rng(4).integers(-100, 101, (d, d)).astype(float))
    stats = gk.gray_scan(red.source.A, red.source.b, red.source.c, red.X, red.Y, red.offset,
                         0.0, 1.0, 16, -np.inf, -np.inf, 0.0)
    assert stats.shape[0] == 1
    assert stats[0, gk.STAT_MAX_DIFF] < 1e-9
    assert stats[0, gk.STAT_MIN_Q] == np.round(stats[0, gk.STAT_MIN_Q])  # integer data


@pytest.mark.parametrize("variables", ["binary", "spin"])
def test_check_passes_exhaustively_for_the_reduction(variables):
    Q = np.random.default_rng(8).normal(size=(14, 14))
    report = check(Q, np.ones(14), 3.0, variables=variables, n_samples=17)
    assert report.passed and report.method == "exhaustive"
    assert report.points_checked == 2**14 and report.argmin_equal is True
    assert report.max_abs_error <= report.tolerance == pytest.approx(1e-9 * report.scale)
    x = np.array(report.argmin)
    assert set(np.unique(x)) <= ({0.0, 1.0} if variables == "binary" else {-1.0, 1.0})
    assert report.minimum == pytest.approx(x @ (0.5 * (Q + Q.T)) @ x + x.sum() + 3.0)
    assert report.condition_number <= 10.0 + 1e-9 and report.n_samples == 17
    d = report.to_dict()
    for key in ("n", "shift", "condition_number", "max_abs_error", "max_rel_error",
                "argmin_equal", "points_checked", "passed"):
        assert key in d


def test_check_fails_for_a_wrong_training_set():
    Q = np.random.default_rng(9).normal(size=(10, 10))
    good = qubo_to_training(Q)
    bad_y = TrainingReduction(good.X, good.Y + 1e-3, good.offset, good.shift,
                              good.condition_number, good.source)
    report = check(Q, reduction=bad_y)
    assert not report.passed and report.max_abs_error > report.tolerance
    sampled = check(Q, reduction=bad_y, exhaustive=False, samples=50)
    assert not sampled.passed and sampled.points_checked == 52


def test_check_reports_different_minimisers():
    # The training set of another QUBO: the report must say whether the two
    # forms have the same minimisers, as a brute-force comparison does.
    rng = np.random.default_rng(10)
    Q1, Q2 = rng.normal(size=(8, 8)), rng.normal(size=(8, 8))
    other = qubo_to_training(Q2)
    report = check(Q1, reduction=other)
    e_q, e_t = naive.gray_scan_energies(0.5 * (Q1 + Q1.T), np.zeros(8), 0.0, other.X, other.Y,
                                        other.offset, 0.0, 1.0)
    tol = report.tolerance
    same = np.array_equal(e_q <= e_q.min() + tol, e_t <= e_t.min() + tol)
    assert not same  # these seeds give different minimisers
    assert report.argmin_equal is False and not report.passed
    assert report.max_abs_error == pytest.approx(np.abs(e_q - e_t).max(), rel=1e-9)


def test_random_check_for_large_d():
    Q = np.random.default_rng(11).normal(size=(300, 300))
    report = check(Q, samples=200, seed=3)
    assert report.method == "random" and report.points_checked == 202
    assert report.passed and report.argmin_equal is None and report.max_rel_error < 1e-12


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"exhaustive": True}, "d <= 30"),
        ({"exhaustive": False, "samples": 0}, "samples must be an integer >= 1"),
        ({"rtol": -1.0}, "rtol"),
    ],
)
def test_check_rejects_bad_options(kwargs, message):
    Q = np.eye(31) if kwargs.get("exhaustive") else np.eye(3)
    with pytest.raises(ValueError, match=message):
        check(Q, **kwargs)


@needs_data
@pytest.mark.parametrize("k", range(1, 11))
def test_every_bqp50_instance_reduces_and_checks(k):
    from combopt.instances import load
    from combopt.training_route import qubo_from_bqm

    inst = load(f"bqp50.{k}")
    q, _ = qubo_from_bqm(inst.bqm)
    report = check(q, samples=2000, seed=k)
    assert report.passed, report
    assert report.max_rel_error < 1e-13 and report.condition_number <= 10.0 + 1e-9
