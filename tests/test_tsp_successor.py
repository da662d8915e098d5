"""The successor encoding: moves against list-built references, ILS, distances, candidates."""

import naive_tsp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_harness import all_deltas, replay_moves

from combopt import solve
from combopt._kernels import tour as k
from combopt._kernels import tour_ils
from combopt.objectives import SuccessorTourObjective
from combopt.tsp import best_known, held_karp, load_instance, optimal_tour, reference_optimum
from combopt.tsp.solve import successor_objective
from combopt.tsp.sources import tsplib_dir


def _instance(rng, n):
    """Integer symmetric distances: every delta is exact, so tests compare with ``==``."""
    d = rng.integers(1, 60, (n, n)).astype(float)
    d = d + d.T
    np.fill_diagonal(d, 0)
    return d


def _arrays(order):
    n = len(order)
    tour = np.array(order, dtype=np.int64)
    pos = np.empty(n, dtype=np.int64)
    pos[tour] = np.arange(n)
    succ = np.empty(n, dtype=np.int64)
    succ[tour] = np.roll(tour, -1)
    return tour, pos, succ


def _order(tour):
    return [int(c) for c in tour]


@settings(max_examples=200, deadline=None)
@given(n=st.integers(5, 14), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_every_move_matches_its_list_reference(n, seed, data):
    rng = np.random.default_rng(seed)
    d = _instance(rng, n)
    obj = SuccessorTourObjective(d)
    p = obj._lower()[0]
    order = [int(c) for c in rng.permutation(n)]
    for _ in range(6):  # a sequence of moves, each checked against the reference
        a = data.draw(st.integers(0, n - 1))
        c = data.draw(st.integers(0, n - 1))
        code = data.draw(st.integers(1, k.NUM_MOVES - 1))
        tour, pos, succ = _arrays(order)
        delta = k.move_delta(p, tour, pos, n, a, c, code)
        expected = naive_tsp.move(order, a, c, code)
        if expected is None:
            assert delta == np.inf
            continue
        assert delta == naive_tsp.length(d, expected) - naive_tsp.length(d, order)
        k.apply_move(p, tour, pos, succ, n, a, c, code)
        assert naive_tsp.edges(_order(tour)) == naive_tsp.edges(expected)
        assert np.array_equal(pos[tour], np.arange(n))
        assert np.array_equal(succ[tour], np.roll(tour, -1))
        order = _order(tour)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(5, 12), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_protocol_deltas_equal_recomputed_lengths_after_random_moves(n, seed, data):
    rng = np.random.default_rng(seed)
    d = _instance(rng, n)
    kth = data.draw(st.integers(1, n - 1))
    obj = SuccessorTourObjective(d, candidates="nearest", k=kth)
    p, width = obj._lower()
    values, offsets = obj.default_domain().lower(n)
    x = obj.successors(rng.permutation(n)).astype(np.int64)
    cache = np.zeros(width)
    for _ in range(8):
        energies = replay_moves(p, values, offsets, x, cache, np.zeros(0, np.int64),
                                np.zeros(0, np.int64))
        table = all_deltas(p, values, offsets, x, cache)
        order = obj.tour(x).tolist()
        for a in range(n):
            assert table[a, x[a]] == 0.0
            for c in range(n):
                if c in (a, x[a]) or c == order[order.index(a) - 1]:
                    continue
                want = naive_tsp.best_delta(d, order, a, c) if c in p.candidates[a] else np.inf
                assert table[a, c] == want
        moves = np.argwhere(np.isfinite(table) & (table != 0))
        if moves.size == 0:
            break
        a, c = moves[data.draw(st.integers(0, len(moves) - 1))]
        energies = replay_moves(p, values, offsets, x, cache, np.array([a]), np.array([c]))
        assert energies[1] == obj.energy(x) == energies[0] + table[a, c]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(8, 40), seed=st.integers(0, 2**32 - 1))
def test_local_search_and_kick_deltas_are_exact_and_undo_restores(n, seed):
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 1000, (n, 2)).astype(float)
    obj = SuccessorTourObjective(coordinates=xy, metric="EUC_2D", candidates="nearest", k=6)
    p = obj._lower()[0]
    tour, pos, succ = _arrays([int(c) for c in rng.permutation(n)])
    before = obj.energy(succ)
    queue, inq = tour.copy(), np.ones(n, np.int8)
    journal = np.zeros((8, 2), np.int64)
    stop = np.zeros(1, np.int64)
    delta, _, count, _, _ = tour_ils.local_search(p, tour, pos, succ, queue, inq, 0, n, journal,
                                                  -1, stop)
    assert count == 0 and not inq.any()
    optimum = obj.energy(succ)
    assert optimum == before + delta <= before
    saved = tour.copy()
    width = (n - 2) // 2
    i, l1, l2 = (int(v) for v in rng.integers([0, 1, 1], [n, width + 1, width + 1]))
    journal[0] = i, l1 + l2 + 1
    kick = tour_ils.segment_swap(p, tour, pos, succ, i, l1, l2, np.empty(width, np.int64))
    assert obj.energy(succ) == optimum + kick
    tour_ils._settle(tour, pos, succ, saved, journal, 1, False)
    assert np.array_equal(tour, saved) and obj.energy(succ) == optimum
    assert np.array_equal(pos[tour], np.arange(n))


@pytest.mark.parametrize("n", [5, 8, 12])
def test_ils_agrees_with_held_karp(n):
    rng = np.random.default_rng(n)
    for trial in range(3):
        d = _instance(rng, n)
        res = solve(SuccessorTourObjective(d), strategy="ils", seed=trial, max_iterations=30)
        assert res.energy == held_karp(d)[1]


@pytest.mark.parametrize("strategy", ["paper", "anneal", "metropolis", "tabu", "auto", "ils"])
def test_every_strategy_returns_tours(strategy):
    rng = np.random.default_rng(3)
    d = _instance(rng, 9)
    obj = SuccessorTourObjective(d, candidates="nearest", k=4)
    res = solve(obj, strategy=strategy, num_reads=3, seed=2, max_iterations=40)
    for row, energy in zip(res.samples, res.energies, strict=True):
        obj.validate_assignment(row)
        assert energy == naive_tsp.length(d, obj.tour(row).tolist())
    assert res.energy <= naive_tsp.length(d, list(range(9)))


@pytest.mark.parametrize("metric", ["EUC_2D", "CEIL_2D", "ATT", "GEO", "MAN_2D", "MAX_2D"])
def test_on_the_fly_distances_equal_the_tsplib_matrix(metric):
    from combopt.tsp.tsplib import coordinate_distances

    rng = np.random.default_rng(7)
    xy = rng.uniform(-90, 90, (60, 2)) if metric == "GEO" else rng.uniform(0, 5000, (60, 2))
    xy = np.round(xy, 2)
    obj = SuccessorTourObjective(coordinates=xy, metric=metric, candidates="nearest", k=5)
    a, b = np.divmod(np.arange(60 * 60), 60)
    got = k.edge_lengths(obj._lower()[0], a, b).reshape(60, 60)
    assert np.array_equal(got, coordinate_distances(xy, metric))


@pytest.mark.parametrize("kind", ["nearest", "quadrant", "all"])
def test_candidate_lists_are_valid(kind):
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 100, (150, 2))
    obj = SuccessorTourObjective(coordinates=xy, metric="EUC_2D", candidates=kind, k=8)
    c = obj.candidates
    assert c.shape == (150, 149 if kind == "all" else 8)
    assert not np.any(c == np.arange(150)[:, None])
    assert all(len(set(row)) == len(row) for row in c.tolist())
    if kind != "quadrant":  # nearest first: the k smallest distances of each row
        from combopt.tsp.tsplib import coordinate_distances

        dm = coordinate_distances(xy, "EUC_2D")
        np.fill_diagonal(dm, np.inf)
        got = np.take_along_axis(dm, c, axis=1)
        assert np.array_equal(got, np.sort(dm, axis=1)[:, : c.shape[1]])


@pytest.mark.parametrize("bad, match", [
    (dict(candidates="nope"), "candidates must be one of"),
    (dict(candidates=np.zeros((6, 2), int)), "own candidate"),
    (dict(candidates=np.ones((6, 2), int) + np.eye(6, 2, dtype=int)), "distinct|own"),
    (dict(k=0), "k must be"),
])
def test_bad_candidates_are_one_line_errors(bad, match):
    d = _instance(np.random.default_rng(0), 6)
    with pytest.raises(ValueError, match=match):
        SuccessorTourObjective(d, **{"candidates": "nearest", **bad})


def test_assignments_must_be_one_tour():
    obj = SuccessorTourObjective(_instance(np.random.default_rng(0), 6))
    with pytest.raises(ValueError, match="single tour"):
        obj.validate_assignment(np.array([1, 0, 3, 2, 5, 4]))
    with pytest.raises(ValueError, match="symmetric"):
        SuccessorTourObjective(np.triu(np.ones((6, 6)), 1))


@pytest.mark.parametrize("strategy, n", [
    ("ils", 3000),
    pytest.param("tabu", 1000, marks=pytest.mark.slow),
    pytest.param("anneal", 3000, marks=pytest.mark.slow),
])
def test_time_limit_holds_on_a_large_instance(strategy, n):
    """The first descent alone outlasts the limit; the kernel polls stop.

    A tabu move scans every value of every variable (n * n deltas, most of them
    +inf), and the limit is polled between moves, hence the smaller n.
    """
    rng = np.random.default_rng(0)
    obj = SuccessorTourObjective(coordinates=rng.uniform(0, 10**5, (n, 2)), metric="EUC_2D")
    solve(SuccessorTourObjective(_instance(rng, 9)), strategy=strategy, max_iterations=1)
    limit = 2.0  # and the slack of tests/test_time_limits.py
    res = solve(obj, strategy=strategy, seed=0, time_limit=limit)
    assert res.stop_reason == "time_limit"
    assert res.timing["solve"] + res.timing["polish"] <= limit + 0.1 * limit + 0.05
    assert res.energy == obj.energy(res.x)


needs_data = pytest.mark.skipif(
    tsplib_dir() is None or not (tsplib_dir() / "pr2392.tsp").is_file(),
    reason="needs $COMBOPT_DATA/tsplib with pr2392",
)


@needs_data
def test_a_large_instance_is_read_without_a_matrix_and_measured_exactly():
    inst = load_instance("pr2392")
    assert inst.n == 2392 and not inst.has_matrix and inst.symmetric
    tour = optimal_tour("pr2392")
    assert inst.tour_length(tour) == best_known("pr2392")
    assert not inst.has_matrix  # measured from the coordinates
    obj = successor_objective(inst)
    assert obj.metric == "EUC_2D" and obj.candidates.shape == (2392, 10)
    assert obj.energy(obj.successors(tour)) == best_known("pr2392")
    assert reference_optimum(inst) == best_known("pr2392") and not inst.has_matrix


@needs_data
@pytest.mark.parametrize("name", ["att48", "ulysses22", "pcb442"])
def test_on_the_fly_lengths_equal_the_matrix_ones_on_tsplib(name):
    inst = load_instance(name)
    rng = np.random.default_rng(0)
    matrix = successor_objective(inst)
    fly = SuccessorTourObjective(coordinates=inst.node_coordinates, metric=inst.edge_weight_type,
                                 candidates="nearest", k=8)
    tours = np.array([matrix.successors(rng.permutation(inst.n)) for _ in range(20)])
    assert np.array_equal(matrix.energy(tours), fly.energy(tours))
