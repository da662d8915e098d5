"""The categorical quadratic kind (DQMs, colouring) against tests/naive.py.

After any sequence of moves the energy tracked by the kernels (start energy
plus reported deltas) equals a recomputation from scratch, the fields equal a
fresh initialisation, and every reported delta is a recomputed difference.
"""

import itertools

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_harness import coordinate_deltas, replay_moves

from combopt import solve
from combopt.objectives import CategoricalObjective
from combopt.strategies import Tabu

small = st.one_of(st.integers(-4, 4).map(float), st.floats(-8, 8, allow_nan=False, width=32))


@st.composite
def categorical_cases(draw, max_n=7):
    n = draw(st.integers(1, max_n))
    cases = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    linear = [[draw(small) for _ in range(m)] for m in cases]
    terms = []
    if n > 1:
        for _ in range(draw(st.integers(0, 25))):
            i, j = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
            terms.append(((i, draw(st.integers(0, cases[i] - 1))),
                          (j, draw(st.integers(0, cases[j] - 1))), draw(small)))
    offset = draw(small)
    moves = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 3)), max_size=40))
    start = [draw(st.integers(0, m - 1)) for m in cases]
    return cases, linear, terms, offset, moves, start


def _objective(cases, linear, terms, offset):
    starts = np.concatenate([[0], np.cumsum(cases)])
    rows = [starts[i] + a for (i, a), _, _ in terms]
    cols = [starts[j] + b for _, (j, b), _ in terms]
    data = [bias for _, _, bias in terms]
    flat = np.concatenate([np.asarray(lin, dtype=float) for lin in linear])
    quadratic = (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), np.array(data))
    return CategoricalObjective(cases, flat, quadratic, offset)


def _scale(linear, terms, offset):
    biases = [abs(b) for lin in linear for b in lin] + [abs(t[2]) for t in terms]
    return 1.0 + sum(biases) + abs(offset)


@given(categorical_cases())
def test_incremental_energy_and_fields_equal_recomputation(case):
    cases, linear, terms, offset, moves, start = case
    objective = _objective(cases, linear, terms, offset)
    values, offsets = objective.default_domain().lower(len(cases))
    problem, length = objective._lower()
    x_idx = np.array(start, dtype=np.int64)
    cache = np.zeros(length)
    variables = np.array([m[0] for m in moves], dtype=np.int64)
    choices = np.array([m[1] for m in moves], dtype=np.int64)
    energies = replay_moves(problem, values, offsets, x_idx, cache, variables, choices)
    fresh = np.zeros(length)
    fresh_energy = replay_moves(problem, values, offsets, x_idx.copy(), fresh, variables[:0],
                                choices[:0])[0]
    reference = naive.categorical_energy(cases, linear, terms, offset, list(x_idx))
    tol = 1e-9 * _scale(linear, terms, offset)
    assert energies[-1] == pytest.approx(reference, abs=tol)
    assert fresh_energy == pytest.approx(reference, abs=tol)
    assert float(objective.energy(x_idx)) == pytest.approx(reference, abs=tol)
    np.testing.assert_allclose(cache, fresh, atol=tol)


@given(categorical_cases())
def test_deltas_are_recomputed_differences(case):
    cases, linear, terms, offset, _, start = case
    objective = _objective(cases, linear, terms, offset)
    values, offsets = objective.default_domain().lower(len(cases))
    problem, length = objective._lower()
    x_idx = np.array(start, dtype=np.int64)
    tol = 1e-9 * _scale(linear, terms, offset)
    for i in range(len(cases)):
        deltas = coordinate_deltas(problem, values, offsets, x_idx.copy(), np.zeros(length), i)
        assert deltas[x_idx[i]] == 0.0
        expected = naive.categorical_deltas(cases, linear, terms, offset, start, i)
        np.testing.assert_allclose(deltas, expected, atol=tol)


@settings(max_examples=30, deadline=None)
@given(categorical_cases(max_n=5))
def test_tabu_finds_the_exhaustive_minimum(case):
    cases, linear, terms, offset, _, _ = case
    objective = _objective(cases, linear, terms, offset)
    best = min(naive.categorical_energy(cases, linear, terms, offset, list(p))
               for p in itertools.product(*(range(m) for m in cases)))
    # Frequent restarts with half the variables redrawn: with the default tenure
    # (1 at this size) a read can drift on a plateau of zero-delta moves for
    # longer than the default restart_after of 500 moves.
    tabu = Tabu(restart_after=20, perturbation=0.5)
    result = solve(objective, strategy=tabu, num_reads=4, seed=3, max_iterations=200)
    assert result.energy == pytest.approx(best, abs=1e-9 * _scale(linear, terms, offset))


def test_energy_of_a_batch_is_row_by_row():
    objective = CategoricalObjective([2, 3], [0.5, -1.0, 0.0, 2.0, -3.0], ([1], [4], [7.0]), 1.0)
    batch = np.array([[0, 0], [1, 2], [0, 2]])
    assert objective.energy(batch).tolist() == [1.5, 4.0, -1.5]
    assert [float(objective.energy(row)) for row in batch] == [1.5, 4.0, -1.5]


@pytest.mark.parametrize(
    "args, message",
    [
        (([2, 0, 3],), "variable 1 has 0 cases"),
        (([],), "non-empty"),
        (([2, 2], [0.0] * 3), r"one bias per case, shape \(4,\)"),
        (([2, 2], None, ([0], [1], [1.0])), "couples cases 0 and 1 of one variable"),
        (([2, 2], None, ([0], [4], [1.0])), "outside 0..3"),
        (([2, 2], None, ([0], [2], [np.nan])), "NaN"),
    ],
)
def test_bad_models_are_refused_in_one_line(args, message):
    with pytest.raises(ValueError, match=message) as info:
        CategoricalObjective(*args)
    assert "\n" not in str(info.value)


def test_assignments_outside_the_cases_are_refused():
    objective = CategoricalObjective([2, 3])
    with pytest.raises(ValueError, match=r"x\[1\] = 3.0 is not a case of variable 1 \(0..2\)"):
        objective.energy([0, 3])
    with pytest.raises(ValueError, match="not in its variable's domain"):
        solve(objective, initial=[0.5, 1], max_iterations=1)
