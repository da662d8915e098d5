"""Minimum 1-trees, alpha-nearness and the Held-Karp bound against slow references."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from combopt.tsp import alpha, best_known, held_karp, load_instance, optimal_tour
from combopt.tsp.alpha import (
    alpha_candidates,
    alpha_values,
    held_karp_bound,
    min_one_tree_length,
    one_tree_ascent,
)
from combopt.tsp.sources import tsplib_dir
from tests.naive_onetree import alpha_bruteforce, one_tree_length, penalised

TOL = 1e-6

needs_data = pytest.mark.skipif(tsplib_dir() is None, reason="COMBOPT_DATA not set")


def _euclidean(seed, n, integral=True):
    xy = np.random.default_rng(seed).random((n, 2)) * 100
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    return np.round(d) if integral else d


def _random_symmetric(seed, n):
    a = np.random.default_rng(seed).integers(1, 20, (n, n)).astype(float)
    d = np.triu(a, 1)
    return d + d.T


instances = st.tuples(st.integers(0, 2**16), st.integers(3, 9), st.booleans(),
                      st.booleans())


def _case(params):
    seed, n, euclid, penalties = params
    d = _euclidean(seed, n) if euclid else _random_symmetric(seed, n)
    rng = np.random.default_rng(seed + 1)
    pi = rng.normal(0, 3, n) if penalties else np.zeros(n)
    return d, pi, int(rng.integers(n))


@settings(max_examples=60, deadline=None)
@given(instances)
def test_one_tree_is_minimal(params):
    d, pi, special = _case(params)
    length, degree = min_one_tree_length(d, pi, special=special)
    assert length == pytest.approx(one_tree_length(penalised(d, pi), special), abs=TOL)
    assert degree.sum() == 2 * d.shape[0] and degree[special] == 2


@settings(max_examples=60, deadline=None)
@given(instances)
def test_alpha_equals_forced_edge_recomputation(params):
    d, pi, special = _case(params)
    ours = alpha_values(d, pi, special=special)
    ref = alpha_bruteforce(penalised(d, pi), special)
    np.testing.assert_allclose(ours, ref, atol=TOL)
    assert np.array_equal(ours, ours.T)  # symmetric by construction, bitwise


def test_alpha_is_zero_on_the_one_tree_edges():
    d = _euclidean(3, 30, integral=False)
    pi = np.random.default_rng(4).normal(0, 2, 30)
    alpha = alpha_values(d, pi, special=5)
    zero = np.argwhere(alpha == 0.0)
    # The tree's n - 2 edges plus the special node's 2, each seen from both ends
    # (distinct real costs: no non-tree edge ties a tree edge).
    assert len(zero) == 2 * 30
    length, degree = min_one_tree_length(d, pi, special=5)
    assert np.array_equal(np.bincount(zero[:, 0], minlength=30), degree)
    c = penalised(d, pi)
    assert c[zero[:, 0], zero[:, 1]].sum() / 2 == pytest.approx(length)
    assert (alpha[~np.eye(30, dtype=bool)] >= 0).all()


def test_candidates_rank_by_alpha_then_distance():
    d = _euclidean(7, 25)
    res = one_tree_ascent(d, iterations=200)
    cand = alpha_candidates(d, k=6, ascent=res)
    alpha = alpha_values(d, res.pi, special=res.special)
    assert cand.dtype == np.int32 and cand.shape == (25, 6)
    for i in range(25):
        keys = sorted((alpha[i, j], d[i, j], j) for j in range(25) if j != i)
        assert cand[i].tolist() == [j for _, _, j in keys[:6]]


@pytest.mark.parametrize("seed", range(8))
def test_bound_is_below_the_optimum(seed):
    d = _euclidean(seed, 11) if seed % 2 else _random_symmetric(seed, 11)
    optimum = held_karp(d)[1]
    res = one_tree_ascent(d, seed=seed)
    assert res.bound <= optimum + TOL
    # The ascent does its job: far above the plain 1-tree, close to the optimum.
    assert res.bound >= min_one_tree_length(d, special=res.special)[0] - TOL
    assert res.bound >= 0.85 * optimum
    if res.is_tour:
        assert res.bound == pytest.approx(optimum)


@needs_data
@pytest.mark.parametrize("name,within", [("eil51", 0.02), ("berlin52", 0.02), ("st70", 0.02),
                                         ("gr24", 0.03), ("pr76", 0.04)])
def test_bound_on_tsplib_optima(name, within):
    bound = held_karp_bound(name)
    assert (1 - within) * best_known(name) <= bound <= best_known(name) + TOL


def coverage(candidates, tour):
    """Percent of the tour's edges (a, b) with b among a's or a among b's candidates."""
    sets = [set(row.tolist()) for row in candidates]
    edges = zip(tour.tolist(), np.roll(tour, -1).tolist())
    return 100.0 * np.mean([b in sets[a] or a in sets[b] for a, b in edges])


def nearest(d, k):
    """Each city's k nearest (ties by index)."""
    masked = d + np.diag(np.full(d.shape[0], np.inf))
    return np.argsort(masked, axis=1, kind="stable")[:, :k]


@needs_data
@pytest.mark.slow
@pytest.mark.parametrize("name,at_least", [("pcb442", 99.9), ("pr1002", 99.0)])
def test_alpha_candidates_cover_the_optimal_tour(name, at_least):
    inst = load_instance(name)
    tour = optimal_tour(name)
    ascent = one_tree_ascent(inst)
    assert ascent.bound <= best_known(name)
    ours = coverage(alpha_candidates(inst, 5, ascent=ascent), tour)
    assert ours >= at_least
    assert ours > coverage(nearest(inst.distances, 5), tour)


def test_bad_input_is_refused(monkeypatch):
    with pytest.raises(ValueError, match="at least 3"):
        alpha_candidates([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="symmetric"):
        held_karp_bound([[0, 1, 2], [2, 0, 1], [1, 1, 0]])
    with pytest.raises(ValueError, match="k must be"):
        alpha_candidates(_euclidean(0, 5), k=5)
    monkeypatch.setattr(alpha, "MAX_CITIES", 8)  # stands for a 5001-city matrix
    with pytest.raises(ValueError, match="n = 9 > 8"):
        alpha_candidates(_euclidean(0, 9))
