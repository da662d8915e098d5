"""The two TSP encodings: the swap kernel, TourObjective, the QUBO and its decoder."""

import itertools

import dimod
import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from combopt import Domain, Tabu, solve
from combopt._kernels.permutation import closed_length, or_opt, polish, swap_delta, two_opt
from combopt.objectives import TourObjective
from combopt.tsp import build_qubo, decode, decode_sampleset, encode_tour, held_karp
from combopt.tsp.qubo import default_lagrange


def _random_matrix(rng, n, symmetric=True):
    """Integer distances: lengths and deltas are exact in any order, so tests use ``==``."""
    d = rng.integers(1, 100, (n, n)).astype(float)
    if symmetric:
        d = d + d.T
    np.fill_diagonal(d, 0)
    return d


# ---------------------------------------------------------------- permutation kernel


@settings(max_examples=300, deadline=None)
@given(n=st.integers(2, 12), seed=st.integers(0, 2**32 - 1), symmetric=st.booleans(),
       data=st.data())
def test_swap_delta_and_length_equal_the_reference(n, seed, symmetric, data):
    rng = np.random.default_rng(seed)
    d = _random_matrix(rng, n, symmetric)
    tour = rng.permutation(n)
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(0, n - 1))
    swapped = tour.copy()
    swapped[[i, j]] = swapped[[j, i]]
    assert closed_length(d, tour) == naive.tour_length(d, tour)
    assert swap_delta(d, tour, i, j) == naive.tour_length(d, swapped) - naive.tour_length(d, tour)


def _kernel_run(problem, x):
    """obj_init / obj_deltas / obj_apply through a tiny jitted driver."""
    from numba import njit

    from combopt._kernels.protocol import obj_apply, obj_deltas, obj_init

    @njit
    def drive(problem, values, offsets, x, cache, i, k, out):
        e0 = obj_init(problem, values, offsets, x, cache)
        obj_deltas(problem, values, offsets, x, cache, i, out)
        obj_apply(problem, values, offsets, x, cache, i, k)
        return e0

    return drive


def test_protocol_deltas_and_apply_keep_a_permutation():
    rng = np.random.default_rng(5)
    n = 9
    d = _random_matrix(rng, n, symmetric=False)
    obj = TourObjective(d)
    problem, cache_length = obj._lower()
    values, offsets = obj.default_domain().lower(n)
    drive = _kernel_run(problem, None)
    for _ in range(30):
        x = rng.permutation(n).astype(np.int64)
        before = x.copy()
        cache = np.zeros(cache_length)
        out = np.empty(n)
        i, k = rng.integers(0, n, 2)
        e0 = drive(problem, values, offsets, x, cache, i, k, out)
        assert e0 == naive.tour_length(d, before)
        assert out[before[i]] == 0.0
        for v in range(n):  # every candidate: the swap with the position holding v
            t = before.copy()
            j = int(np.flatnonzero(before == v)[0])
            t[[i, j]] = t[[j, i]]
            assert out[v] == naive.tour_length(d, t) - e0
        assert x[i] == k and sorted(x) == list(range(n))
        np.testing.assert_array_equal(cache[x], np.arange(n))  # inverse permutation kept


def test_tour_objective_checks_its_assignments():
    obj = TourObjective(np.ones((4, 4)))
    with pytest.raises(ValueError, match="permutation"):
        obj.energy(np.array([0, 0, 1, 2]))
    with pytest.raises(ValueError, match="domain of cities"):
        solve(obj, Domain.binary(), max_iterations=1, seed=0)
    with pytest.raises(ValueError, match="square"):
        TourObjective(np.ones((3, 4)))
    rows = obj.energy(np.array([[0, 1, 2, 3], [3, 2, 1, 0]]))
    assert rows.shape == (2,) and np.all(rows == 4.0)


@pytest.mark.parametrize("strategy", ["paper", "anneal", Tabu(perturbation=0.0)])
def test_every_strategy_returns_permutations_and_finds_small_optima(strategy):
    rng = np.random.default_rng(11)
    d = _random_matrix(rng, 8)
    exact = held_karp(d)[1]
    res = solve(TourObjective(d), strategy=strategy, num_reads=4, seed=2, max_iterations=200)
    for row, energy in zip(res.samples, res.energies):
        assert sorted(row) == list(range(8))
        assert energy == naive.tour_length(d, row.astype(int))
    assert res.energy == exact


def test_tabu_restart_perturbations_keep_permutations():
    d = _random_matrix(np.random.default_rng(11), 8)
    res = solve(TourObjective(d), strategy=Tabu(restart_after=5, perturbation=0.5),
                num_reads=1, seed=2, max_iterations=20)
    assert sorted(res.x) == list(range(8))


def test_same_seed_same_tours():
    d = _random_matrix(np.random.default_rng(4), 12)
    a = solve(TourObjective(d), strategy="anneal", num_reads=2, seed=9, max_iterations=50)
    b = solve(TourObjective(d), strategy="anneal", num_reads=2, seed=9, max_iterations=50)
    np.testing.assert_array_equal(a.samples, b.samples)


# ---------------------------------------------------------------- polishing


@pytest.mark.parametrize("step", [two_opt, or_opt, polish])
def test_polishing_keeps_a_permutation_and_never_lengthens(step):
    rng = np.random.default_rng(8)
    for n in (3, 4, 5, 9, 20):
        d = _random_matrix(rng, n)
        for _ in range(10):
            tour = rng.permutation(n).astype(np.int64)
            before = naive.tour_length(d, tour)
            step(d, tour)
            assert sorted(tour) == list(range(n))
            assert naive.tour_length(d, tour) <= before


def test_polish_reaches_a_2opt_local_optimum():
    rng = np.random.default_rng(1)
    d = _random_matrix(rng, 15)
    tour = rng.permutation(15).astype(np.int64)
    polish(d, tour)
    n = 15
    for i, j in itertools.combinations(range(n), 2):
        t = tour.copy()
        t[i + 1:j + 1] = t[i + 1:j + 1][::-1]
        assert naive.tour_length(d, t) >= naive.tour_length(d, tour) - 1e-9


# ---------------------------------------------------------------- QUBO


def test_qubo_energy_of_every_tour_is_its_length_and_infeasible_points_pay():
    rng = np.random.default_rng(2)
    d = _random_matrix(rng, 5)
    q = build_qubo(d)
    Q, c, offset = q.matrices()
    assert q.lagrange == default_lagrange(q.instance)
    for perm in itertools.permutations(range(5)):
        x = encode_tour(perm)
        assert x @ Q @ x + c @ x + offset == pytest.approx(naive.tour_length(d, perm), abs=1e-9)
    shortest = held_karp(d)[1]
    for _ in range(300):  # no infeasible point beats the optimum at dimod's penalty
        x = rng.integers(0, 2, 25)
        e = x @ Q @ x + c @ x + offset
        assert e == pytest.approx(q.bqm.energy(dict(zip(q.variables, x))))
        mat = x.reshape(5, 5)
        if not ((mat.sum(0) == 1).all() and (mat.sum(1) == 1).all()):
            assert e > shortest


def test_qubo_penalty_is_sweepable_and_validated():
    d = _random_matrix(np.random.default_rng(3), 4)
    assert build_qubo(d, lagrange=7.5).lagrange == 7.5
    with pytest.raises(ValueError, match="positive"):
        build_qubo(d, lagrange=-1)
    with pytest.raises(ValueError, match="at least 3"):
        build_qubo(np.zeros((2, 2)))


def test_qubo_matches_dimod_generator_labels():
    d = _random_matrix(np.random.default_rng(6), 4)
    q = build_qubo(d)
    assert set(q.bqm.variables) == set(q.variables)
    assert q.bqm.num_interactions == 2 * 16 * 3  # 2 n^2 (n - 1), as documented by dimod


@settings(max_examples=200, deadline=None)
@given(n=st.integers(3, 8), seed=st.integers(0, 2**32 - 1), density=st.floats(0, 1))
def test_decode_always_yields_valid_tours(n, seed, density):
    rng = np.random.default_rng(seed)
    d = _random_matrix(rng, n)
    samples = (rng.random((4, n * n)) < density).astype(np.int8)
    out = decode(samples, d)
    for tour, length in zip(out.tours, out.lengths):
        assert sorted(tour) == list(range(n))
        assert length == naive.tour_length(d, tour)
    mats = samples.reshape(4, n, n)
    expected = [(m.sum(0) == 1).all() and (m.sum(1) == 1).all() for m in mats]
    assert out.feasible.tolist() == expected


def test_decode_keeps_feasible_samples_and_repairs_by_the_documented_rule():
    d = np.array([[0, 1, 9, 9], [1, 0, 1, 9], [9, 1, 0, 1], [9, 9, 1, 0]], float)
    feasible = encode_tour([2, 0, 3, 1])
    out = decode(feasible, d)
    assert out.tours.tolist() == [[2, 0, 3, 1]] and out.feasible_reads == 1
    # City 0 at positions 0 and 1, nobody at 2 and 3: city 0 is kept at position
    # 0, then cities 1, 2, 3 are inserted where they lengthen the tour least
    # (the first such place on ties): [0, 1] -> [0, 2, 1] -> [0, 3, 2, 1].
    x = np.zeros((4, 4), dtype=np.int8)
    x[0, 0] = x[0, 1] = 1
    out = decode(x.ravel(), d)
    assert out.feasible_reads == 0
    assert out.tours.tolist() == [[0, 3, 2, 1]] and out.lengths.tolist() == [12.0]
    with pytest.raises(ValueError, match="shape"):
        decode(np.zeros(15), d)
    with pytest.raises(ValueError, match="0/1"):
        decode(np.full(16, 2), d)


def test_dimod_samplesets_decode_in_variable_order():
    d = _random_matrix(np.random.default_rng(7), 4)
    q = build_qubo(d)
    best = dimod.ExactSolver().sample(q.bqm).first
    out = decode_sampleset(dimod.SampleSet.from_samples_bqm(best.sample, q.bqm), q)
    assert out.feasible_reads == 1
    assert out.lengths[0] == pytest.approx(best.energy) == held_karp(d)[1]


def test_engine_solves_the_qubo_of_a_small_instance():
    d = _random_matrix(np.random.default_rng(12), 5)
    q = build_qubo(d)
    res = solve(q.to_objective(), Domain.binary(), strategy="tabu", num_reads=2, seed=1,
                max_iterations=50)
    out = decode(res.samples.astype(np.int8), d)
    assert out.feasible_reads >= 1
    assert out.lengths.min() == held_karp(d)[1]
