"""The default strategy ``"auto"``: what it measures, what it chooses, and that it says so."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from combopt import Domain, solve
from combopt.objectives import CallableObjective, QuadraticObjective
from combopt.solver import problem_features
from combopt.strategies import Annealing, Auto, ProblemFeatures


def lowered(objective, domain, max_levels=8):
    _, offsets = domain.lower(objective.num_variables)
    problem, _ = objective._lower()
    return problem, offsets, max_levels


def maxcut_like(n=300, degree=4, seed=0):
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, degree * n // 2)
    j = (i + rng.integers(1, n, i.shape[0])) % n
    return sp.coo_matrix((np.ones(i.shape[0]), (i, j)), shape=(n, n)).tocsr()


def test_features_of_a_sparse_quadratic():
    Q = sp.csr_matrix(np.array([[0.0, 2.0, 0.0], [0.0, 0.0, -3.0], [0.0, 0.0, 1.0]]))
    features = problem_features(*lowered(QuadraticObjective(Q, representation="sparse"),
                                         Domain.binary()))
    # S = Q + Q^T off the diagonal has 4 stored entries over 3 variables, magnitudes {2, 3}.
    assert features == ProblemFeatures("SparseQuadratic", 3, 2, True, 4 / 3, 2)


def test_features_of_a_dense_quadratic_on_a_mixed_domain():
    Q = np.array([[1.0, 5.0], [5.0, 0.0]])
    domain = Domain.per_variable([[0, 1], [-1, 0, 1]])
    features = problem_features(*lowered(QuadraticObjective(Q, representation="dense"), domain))
    assert features == ProblemFeatures("DenseQuadratic", 2, 3, False, 1.0, 1)


def test_coupling_levels_are_counted_up_to_the_cap():
    rng = np.random.default_rng(3)
    Q = np.triu(rng.integers(-4, 5, (30, 30)), 1).astype(float)  # magnitudes 1..4
    for representation in ("dense", "sparse"):
        objective = QuadraticObjective(Q, representation=representation)
        problem, offsets, _ = lowered(objective, Domain.binary())
        exact = problem_features(problem, offsets, 10)
        assert exact.weight_levels == 4
        assert exact.mean_degree == 2 * np.count_nonzero(Q) / 30
        capped = problem_features(problem, offsets, 2)
        assert capped.weight_levels == 3 and capped.mean_degree == exact.mean_degree
    result = solve(QuadraticObjective(Q), Domain.binary(), max_iterations=1, seed=0)
    assert "more than 2 coupling levels" in result.info["auto"]["reason"]


def test_features_of_an_interpreted_objective():
    objective = CallableObjective(lambda x: float(np.sum(x)), 4)
    features = problem_features(*lowered(objective, Domain.ternary()))
    assert features.kind == "python"
    assert features.max_domain == 3 and not features.two_valued
    assert math.isnan(features.mean_degree) and features.weight_levels == 0


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        (ProblemFeatures("SparseQuadratic", 800, 2, True, 4.0, 1), "metropolis"),
        (ProblemFeatures("SparseQuadratic", 800, 2, True, 4.0, 100), "tabu"),
        (ProblemFeatures("DenseQuadratic", 800, 2, True, 799.0, 1), "tabu"),
        (ProblemFeatures("DenseQuadratic", 100, 3, False, 99.0, 50), "tabu"),
        (ProblemFeatures("SparseQuadratic", 100_000, 3, False, 4.0, 1), "anneal"),
        (ProblemFeatures("python", 10, 2, True, math.nan, 0), "anneal"),
    ],
)
def test_the_rule(features, expected):
    choice, reason = Auto().choose(features)
    assert choice == expected
    assert reason


def test_auto_is_the_default_and_records_its_choice():
    objective = QuadraticObjective(maxcut_like())
    result = solve(objective, Domain.spin(), seed=4, max_iterations=50)
    assert result.strategy == "metropolis"
    assert result.info["auto"]["choice"] == "metropolis"
    # Choosing changes nothing else: the same seed with the chosen strategy gives the same run.
    chosen = Auto().strategy("metropolis")
    direct = solve(objective, Domain.spin(), strategy=chosen, seed=4, max_iterations=50)
    assert np.array_equal(result.samples, direct.samples)
    assert "auto" not in direct.info


def test_auto_anneals_max_cut_in_restarted_cycles_under_a_time_limit():
    """Sparse +-1 problems get Metropolis annealing cut into cycles of ~restart_sweeps."""
    chosen = Auto().strategy("metropolis")
    assert isinstance(chosen, Annealing) and chosen.rule == "metropolis"
    assert chosen.restart_sweeps == Auto().restart_sweeps
    objective = QuadraticObjective(maxcut_like(n=200))
    result = solve(objective, Domain.spin(), seed=1, time_limit=0.3,
                   strategy=Auto(restart_sweeps=50))
    assert result.strategy == "metropolis" and result.stop_reason == "time_limit"
    assert result.info["cycles"] > 1
    one = solve(objective, Domain.spin(), seed=1, time_limit=0.3, strategy="metropolis")
    assert "cycles" not in one.info


def test_auto_chooses_tabu_on_a_wide_weight_qubo():
    rng = np.random.default_rng(1)
    Q = rng.integers(-100, 101, size=(60, 60)).astype(float)
    result = solve(QuadraticObjective(Q), Domain.binary(), seed=2, max_iterations=5)
    assert result.strategy == "tabu"
    assert result.info["auto"]["choice"] == "tabu"


def test_the_cycle_clock_restarts_the_schedule_and_ends_cold():
    from combopt._driver import _CycleClock

    times = np.arange(1, 1001) * 1e-3  # one iteration a millisecond, a 1 s budget
    whole = _CycleClock(1.0, 100).fractions(0, times)
    clock = _CycleClock(1.0, 100)  # the same iterations, asked for in chunks
    pieces = np.concatenate([clock.fractions(k, times[k:k + 37]) for k in range(0, 1000, 37)])
    assert np.allclose(whole, pieces) and clock.cycles == 10
    assert np.all((whole >= 0) & (whole <= 1)) and whole[-1] == 1.0
    starts = np.flatnonzero(np.diff(whole) < 0) + 1  # a new cycle starts hot
    lengths = np.diff(np.r_[0, starts, 1000])
    # A probe of 1/16 of the budget, then cycles of restart_sweeps iterations, and the
    # last one stretched over what is left (less than two cycles' time remained).
    assert lengths[0] == 63 and np.all(np.abs(lengths[1:-1] - 100) <= 1)  # float rounding
    assert 100 <= lengths[-1] < 300
    single = _CycleClock(1.0, None).fractions(0, times)
    assert np.allclose(single, np.minimum(times, 1.0))
