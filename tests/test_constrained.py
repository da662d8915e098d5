"""The constrained kind (CQMs) against tests/naive_cqm.py.

Random models mix binaries, spins, small integers and one-hot groups (some
with a "none" case), with linear, product and square terms in the objective
and in <=, >= and == rows. All data are small integers, so every value the
kernel tracks is an exact integer in float64 and the comparisons are exact;
the penalised deltas use integer multipliers too.
"""

import naive_cqm
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kernel_harness import all_deltas, replay_moves

from combopt.objectives import ConstrainedObjective


@st.composite
def constrained_models(draw, max_n=5):
    n = draw(st.integers(1, max_n))
    values, group, atoms = [], [], []
    for i in range(n):
        kind = draw(st.sampled_from(["binary", "spin", "integer", "group"]))
        if kind == "group":
            m = draw(st.integers(1, 4))
            members = m - draw(st.integers(0, 1)) if m > 1 else m  # maybe a "none" case
            values.append(list(range(m)))
            atoms.extend((i, a) for a in range(members))
        else:
            lo = draw(st.integers(-3, 2))
            span = {"binary": [0, 1], "spin": [-1, 1]}.get(kind)
            values.append(span or list(range(lo, lo + draw(st.integers(1, 5)))))
            atoms.append((i, -1))
        group.append(kind == "group")
    coefficient = st.integers(-4, 4)
    term = st.one_of(
        st.tuples(coefficient),
        st.tuples(coefficient, st.integers(0, len(atoms) - 1)),
        st.tuples(coefficient, st.integers(0, len(atoms) - 1), st.integers(0, len(atoms) - 1)),
    )
    rows = draw(st.lists(st.lists(term, max_size=8), min_size=1, max_size=4))
    senses = [draw(st.sampled_from(["<=", ">=", "=="])) for _ in rows[1:]]
    rhs = [draw(st.integers(-5, 5)) for _ in rows[1:]]
    weights = [draw(st.integers(0, 6)) for _ in rows[1:]]
    start = [draw(st.integers(0, len(v) - 1)) for v in values]
    moves = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 4)), max_size=30))
    return values, group, atoms, rows, senses, rhs, weights, start, moves


def _objective(values, group, atoms, rows, senses, rhs, weights):
    lowered = []
    for row in rows:
        linear = ([t[1] for t in row if len(t) == 2], [t[0] for t in row if len(t) == 2])
        quadratic = ([t[1] for t in row if len(t) == 3], [t[2] for t in row if len(t) == 3],
                     [t[0] for t in row if len(t) == 3])
        offset = sum(t[0] for t in row if len(t) == 1)
        lowered.append((linear, quadratic, offset))
    return ConstrainedObjective(
        [np.asarray(v, dtype=float) for v in values], group,
        [a[0] for a in atoms], [a[1] for a in atoms], lowered, senses, rhs, weights,
    )


@given(constrained_models())
def test_incremental_rows_energy_and_deltas_equal_recomputation(model):
    values, group, atoms, rows, senses, rhs, weights, start, moves = model
    objective = _objective(values, group, atoms, rows, senses, rhs, weights)
    dom_values, offsets = objective.default_domain().lower(len(values))
    problem, length = objective._lower()
    x_idx = np.array(start, dtype=np.int64)
    cache = np.zeros(length)
    variables = np.array([m[0] for m in moves], dtype=np.int64)
    choices = np.array([m[1] for m in moves], dtype=np.int64)
    energies = replay_moves(problem, dom_values, offsets, x_idx, cache, variables, choices)
    x = list(x_idx)
    spec = (values, group, atoms)
    expected_rows = [naive_cqm.row_value(*spec, row, x) for row in rows]
    # Exact: integer data, so every partial sum is an integer below 2**53.
    assert cache[: len(rows)].tolist() == expected_rows
    fresh = np.zeros(length)
    replay_moves(problem, dom_values, offsets, x_idx.copy(), fresh, variables[:0], choices[:0])
    assert cache.tolist() == fresh.tolist()
    energy = naive_cqm.penalised_energy(*spec, rows, senses, rhs, weights, x)
    assert energies[-1] == energy
    point = dom_values[offsets[:-1] + x_idx]
    assert float(objective.energy(point)) == energy
    assert objective.row_values(point).tolist() == expected_rows
    table = all_deltas(problem, dom_values, offsets, x_idx, cache)
    for i in range(len(values)):
        expected = naive_cqm.penalised_deltas(*spec, rows, senses, rhs, weights, x, i)
        assert table[i, : len(values[i])].tolist() == expected


def test_with_weights_changes_the_multipliers_only():
    values = [np.array([0.0, 1.0]), np.array([0.0, 1.0])]
    rows = [(([0, 1], [-1.0, -1.0]), None, 0.0), (([0, 1], [1.0, 1.0]), None, 0.0)]
    objective = ConstrainedObjective(values, [False, False], [0, 1], [-1, -1], rows, ["<="], [1])
    objective._lower()
    heavier = objective.with_weights([5.0])
    assert float(objective.energy([1, 1])) == -1.0
    assert float(heavier.energy([1, 1])) == 3.0
    assert heavier._lower()[0].weight.tolist() == [0.0, 5.0]
    assert objective._lower()[0].weight.tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"senses": ["<"]}, "unknown constraint sense"),
        ({"weights": [-1.0]}, "weights must be 1 numbers >= 0"),
        ({"atom_case": [0, -1]}, "numeric variable's atom has case -1"),
        ({"rhs": [1.0, 2.0]}, "one sense and one rhs per constraint"),
    ],
)
def test_bad_models_are_refused(kwargs, match):
    args = {
        "values": [np.array([0.0, 1.0]), np.array([0.0, 1.0])], "group": [False, False],
        "atom_var": [0, 1], "atom_case": [-1, -1],
        "rows": [(([0], [1.0]), None, 0.0), (([1], [1.0]), None, 0.0)],
        "senses": ["<="], "rhs": [1.0],
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        ConstrainedObjective(**args)
