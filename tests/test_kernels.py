"""The compiled objective kinds against the naive references (tests/naive.py).

After any sequence of moves, the energy the kernels track incrementally (start
energy plus the deltas they report) must equal the reference energy, every
coordinate's deltas read from the updated cache must equal differences of
reference energies, and the cached quantities must equal a fresh
initialisation. (The dense-network kind is checked the same way in
``test_nn_kernels.py``, the Gray-code scan in ``test_reductions_check.py``.)
"""

from functools import partial

import naive
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from kernel_harness import all_deltas, coordinate_deltas, replay_flips, replay_moves

from combopt import Domain
from combopt._kernels.quadratic import coupling_levels
from combopt._kernels.strategies import delta_scale
from combopt.objectives import LeastSquaresObjective, QuadraticObjective, TourObjective
from combopt.solver import _new_state

small_reals = st.floats(-8, 8, allow_nan=False, width=32)


@st.composite
def finite_domains(draw, n):
    """Per-variable domains of 1..4 distinct values (integers half the time, for exact ties)."""
    integer = draw(st.booleans())
    element = st.integers(-3, 3).map(float) if integer else small_reals
    return [sorted(draw(st.lists(element, min_size=1, max_size=4, unique=True))) for _ in range(n)]


@st.composite
def quadratic_cases(draw):
    n = draw(st.integers(1, 9))
    Q = draw(hnp.arrays(np.float64, (n, n), elements=small_reals))
    linear = draw(hnp.arrays(np.float64, (n,), elements=small_reals))
    offset = draw(small_reals)
    domains = draw(finite_domains(n))
    moves = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 3)), max_size=40))
    representation = draw(st.sampled_from(["dense", "sparse"]))
    return Q, linear, offset, domains, moves, representation


def _initial_indices(domains, seed):
    rng = np.random.default_rng(seed)
    return np.array([rng.integers(len(d)) for d in domains], dtype=np.int64)


def _replay(objective, domains, moves, seed=0):
    domain = Domain.per_variable(domains)
    values, offsets = domain.lower(objective.num_variables)
    problem, length = objective._lower()
    x_idx = _initial_indices(domains, seed)
    cache = np.zeros(length)
    variables = np.array([m[0] for m in moves], dtype=np.int64)
    choices = np.array([m[1] for m in moves], dtype=np.int64)
    energies = replay_moves(problem, values, offsets, x_idx, cache, variables, choices)
    table = all_deltas(problem, values, offsets, x_idx, cache)  # from the updated cache
    fresh = np.zeros(length)  # a from-scratch initialisation of the final state (zero moves)
    fresh_energy = replay_moves(
        problem, values, offsets, x_idx.copy(), fresh, variables[:0], choices[:0]
    )[0]
    return values[offsets[:-1] + x_idx], energies, cache, fresh, fresh_energy, table


def _assert_deltas_match(table, energy, domains, x, atol):
    """``table[i, k]`` is ``energy(x with x_i = domains[i][k]) - energy(x)``."""
    base = energy(x)
    for i, dom in enumerate(domains):
        for k, v in enumerate(dom):
            y = np.array(x, dtype=float)
            y[i] = v
            assert table[i, k] == pytest.approx(energy(y) - base, abs=atol)


@given(quadratic_cases())
def test_quadratic_incremental_energy_equals_recomputation(case):
    Q, linear, offset, domains, moves, representation = case
    objective = QuadraticObjective(Q, linear, offset, representation=representation)
    x, energies, cache, fresh, fresh_energy, table = _replay(objective, domains, moves)
    reference = naive.quadratic_energy(Q, linear, offset, x)
    scale = 1.0 + np.abs(Q).sum() * 9 + np.abs(linear).sum() * 3 + abs(offset)
    assert energies[-1] == pytest.approx(reference, abs=1e-9 * scale)
    assert fresh_energy == pytest.approx(reference, abs=1e-9 * scale)
    assert float(objective.energy(x)) == pytest.approx(reference, abs=1e-9 * scale)
    np.testing.assert_allclose(cache, fresh, atol=1e-9 * scale)
    energy = partial(naive.quadratic_energy, Q, linear, offset)
    _assert_deltas_match(table, energy, domains, x, 1e-9 * scale)


@st.composite
def least_squares_cases(draw):
    N = draw(st.integers(1, 7))
    d = draw(st.integers(1, 5))
    k = draw(st.integers(1, 3))
    X = draw(hnp.arrays(np.float64, (N, d), elements=small_reals))
    Y = draw(hnp.arrays(np.float64, (N, k), elements=small_reals))
    domains = draw(finite_domains(d * k))
    moves = draw(st.lists(st.tuples(st.integers(0, d * k - 1), st.integers(0, 3)), max_size=30))
    sparse = draw(st.booleans())
    return X, Y, domains, moves, sparse


@given(least_squares_cases())
def test_least_squares_incremental_energy_equals_recomputation(case):
    X, Y, domains, moves, sparse = case
    objective = LeastSquaresObjective(sp.csr_array(X) if sparse else X, Y)
    x, energies, cache, fresh, fresh_energy, table = _replay(objective, domains, moves)
    reference = naive.least_squares_energy(X, Y, x)
    scale = 1.0 + (np.abs(X).sum() * 3 + np.abs(Y).sum()) ** 2
    assert energies[-1] == pytest.approx(reference, abs=1e-9 * scale)
    assert fresh_energy == pytest.approx(reference, abs=1e-9 * scale)
    assert float(objective.energy(x)) == pytest.approx(reference, abs=1e-9 * scale)
    np.testing.assert_allclose(cache, fresh, atol=1e-9 * np.sqrt(scale))
    energy = partial(naive.least_squares_energy, X, Y)
    _assert_deltas_match(table, energy, domains, x, 1e-9 * scale)


@given(quadratic_cases())
def test_quadratic_deltas_match_naive_differences(case):
    Q, linear, offset, domains, _, representation = case
    objective = QuadraticObjective(Q, linear, offset, representation=representation)
    values, offsets = Domain.per_variable(domains).lower(len(domains))
    problem, length = objective._lower()
    x_idx = _initial_indices(domains, 1)
    x = values[offsets[:-1] + x_idx]
    base = naive.quadratic_energy(Q, linear, offset, x)
    scale = 1.0 + np.abs(Q).sum() * 9 + np.abs(linear).sum() * 3
    for i, dom in enumerate(domains):
        deltas = coordinate_deltas(problem, values, offsets, x_idx.copy(), np.zeros(length), i)
        assert deltas[x_idx[i]] == 0.0
        for k, v in enumerate(dom):
            y = x.copy()
            y[i] = v
            expected = naive.quadratic_energy(Q, linear, offset, y) - base
            assert deltas[k] == pytest.approx(expected, abs=1e-9 * scale)


def test_dense_and_sparse_kernels_agree_on_a_sparse_problem():
    rng = np.random.default_rng(4)
    Q = sp.random(60, 60, density=0.05, random_state=4, format="csr") * 3.0
    domains = [[-1.0, 0.0, 2.0]] * 60
    moves = [(int(rng.integers(60)), int(rng.integers(3))) for _ in range(200)]
    results = [
        _replay(QuadraticObjective(Q, representation=r), domains, moves)[1]
        for r in ("dense", "sparse")
    ]
    np.testing.assert_allclose(results[0], results[1], atol=1e-9)


@st.composite
def tour_cases(draw):
    n = draw(st.integers(2, 8))
    d = draw(hnp.arrays(np.float64, (n, n), elements=st.integers(0, 20).map(float)))
    tour = draw(st.permutations(range(n)))
    moves = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=30))
    return d, list(tour), moves


@given(tour_cases())
def test_tour_kind_after_moves_equals_the_reference_length(case):
    """Setting position ``i`` to city ``k`` swaps it with the position holding ``k``."""
    d, tour, moves = case
    n = len(tour)
    objective = TourObjective(d)
    values, offsets = objective.default_domain().lower(n)
    problem, length = objective._lower()
    x_idx = np.array(tour, dtype=np.int64)
    variables = np.array([m[0] for m in moves], dtype=np.int64)
    choices = np.array([m[1] for m in moves], dtype=np.int64)
    cache = np.zeros(length)
    energies = replay_moves(problem, values, offsets, x_idx, cache, variables, choices)
    expected = list(tour)
    for t, (i, k) in enumerate(moves):
        assert energies[t] == naive.tour_length(d, expected)  # integer data: exact
        j = expected.index(k)
        expected[i], expected[j] = expected[j], expected[i]
    assert list(x_idx) == expected and energies[-1] == naive.tour_length(d, expected)
    table = all_deltas(problem, values, offsets, x_idx, cache)
    for i in range(n):
        for k in range(n):
            swapped = list(expected)
            j = swapped.index(k)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            assert table[i, k] == naive.tour_length(d, swapped) - naive.tour_length(d, expected)


@st.composite
def flip_cases(draw):
    n = draw(st.integers(1, 9))
    Q = draw(hnp.arrays(np.float64, (n, n), elements=small_reals))
    linear = draw(hnp.arrays(np.float64, (n,), elements=small_reals))
    pairs = st.lists(small_reals, min_size=2, max_size=2, unique=True).map(sorted)
    domains = [draw(st.sampled_from([[0.0, 1.0], [-1.0, 1.0]]) | pairs) for _ in range(n)]
    flips = draw(st.lists(st.integers(0, n - 1), max_size=40))
    representation = draw(st.sampled_from(["dense", "sparse"]))
    return Q, linear, domains, flips, representation


@given(flip_cases())
def test_quadratic_flip_deltas_stay_equal_to_the_reference(case):
    """``obj_flip`` keeps every variable's flip delta up to date (what run_tabu_flips reads)."""
    Q, linear, domains, flips, representation = case
    n = len(domains)
    objective = QuadraticObjective(Q, linear, 0.5, representation=representation)
    values, offsets = Domain.per_variable(domains).lower(n)
    problem, length = objective._lower()
    x_idx = _initial_indices(domains, 3)
    start = x_idx.copy()
    energies, gains = replay_flips(
        problem, values, offsets, x_idx, np.zeros(length), np.array(flips, dtype=np.int64)
    )
    scale = 1.0 + np.abs(Q).sum() * 64 + np.abs(linear).sum() * 8
    energy = partial(naive.quadratic_energy, Q, linear, 0.5)
    idx = start
    for t in range(len(flips) + 1):
        x = np.array([dom[k] for dom, k in zip(domains, idx)])
        assert energies[t] == pytest.approx(energy(x), abs=1e-9 * scale)
        for i, dom in enumerate(domains):
            y = x.copy()
            y[i] = dom[1 - idx[i]]
            assert gains[t, i] == pytest.approx(energy(y) - energy(x), abs=1e-9 * scale)
        if t < len(flips):
            idx = idx.copy()
            idx[flips[t]] = 1 - idx[flips[t]]
    assert np.array_equal(idx, x_idx)


@given(quadratic_cases())
def test_delta_scale_is_the_largest_and_smallest_nonzero_change(case):
    """The default annealing range comes from these two numbers of read 0."""
    Q, linear, offset, domains, _, representation = case
    objective = QuadraticObjective(Q, linear, offset, representation=representation)
    values, offsets = Domain.per_variable(domains).lower(len(domains))
    problem, length = objective._lower()
    x_idx = _initial_indices(domains, 2)
    state = _new_state(x_idx[None, :], length, 0)
    replay_moves(problem, values, offsets, state.x_idx[0], state.cache[0], x_idx[:0], x_idx[:0])
    largest, smallest = delta_scale(problem, values, offsets, state)
    x = values[offsets[:-1] + x_idx]
    base = naive.quadratic_energy(Q, linear, offset, x)
    changes = []
    for i, dom in enumerate(domains):
        for v in dom:
            y = x.copy()
            y[i] = v
            changes.append(abs(naive.quadratic_energy(Q, linear, offset, y) - base))
    scale = 1.0 + np.abs(Q).sum() * 9 + np.abs(linear).sum() * 3
    assert largest == pytest.approx(max(changes), abs=1e-9 * scale)
    nonzero = [d for d in changes if d > 1e-9 * scale]
    if nonzero and smallest > 1e-9 * scale:
        assert smallest == pytest.approx(min(nonzero), abs=1e-9 * scale)


@given(
    hnp.arrays(np.float64, st.integers(0, 60), elements=st.sampled_from([0, -1, 1, 2.5, -3, 3])),
    st.integers(0, 5),
)
def test_coupling_levels_match_the_reference(data, cap):
    assert tuple(int(v) for v in coupling_levels(data, cap)) == naive.coupling_levels(data, cap)
