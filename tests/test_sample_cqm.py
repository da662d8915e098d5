"""CombOptSampler.sample_cqm: CQMs solved natively, checked against dimod's ExactCQMSolver.

Random models have integer data, so energies and constraint values are exact
integers and the optimum is compared exactly.
"""

from __future__ import annotations

import dimod
import dimod.testing
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from combopt.adapters.cqm import cqm_to_objective
from combopt.samplers import CombOptSampler


@st.composite
def small_cqms(draw):
    """Up to 4 binaries, 2 integers and a discrete group; <=, >= and == rows, integer data."""
    cqm = dimod.ConstrainedQuadraticModel()
    binaries = [f"b{k}" for k in range(draw(st.integers(0, 4)))]
    cqm.add_variables("BINARY", binaries)
    integers = []
    for k in range(draw(st.integers(0, 2))):
        lo = draw(st.integers(-2, 1))
        integers.append(cqm.add_variable("INTEGER", f"i{k}", lower_bound=lo,
                                         upper_bound=lo + draw(st.integers(1, 3))))
    group = [f"g{k}" for k in range(draw(st.sampled_from([0, 2, 3])))]
    if group:
        cqm.add_variables("BINARY", group)
        cqm.add_discrete(group, label="pick")
    variables = binaries + integers + group
    if not variables:
        cqm.add_variable("BINARY", "b0")
        variables = ["b0"]
    coefficient = st.integers(-4, 4)

    def expression():
        linear = {v: draw(coefficient) for v in variables}
        quadratic = {}
        for _ in range(draw(st.integers(0, 3))):
            u, v = draw(st.sampled_from(variables)), draw(st.sampled_from(variables))
            if u != v or cqm.vartype(u) is dimod.INTEGER:
                quadratic[(u, v)] = draw(coefficient)
        qm = dimod.QM()
        for v in variables:
            if cqm.vartype(v) is dimod.INTEGER:
                qm.add_variable("INTEGER", v, lower_bound=cqm.lower_bound(v),
                                upper_bound=cqm.upper_bound(v))
            else:
                qm.add_variable(cqm.vartype(v), v)
        qm.add_linear_from(linear)
        qm.add_quadratic_from(quadratic)
        qm.offset = draw(coefficient)
        return qm

    cqm.set_objective(expression())
    for k in range(draw(st.integers(0, 2))):
        cqm.add_constraint(expression(), sense=draw(st.sampled_from(["<=", ">=", "=="])),
                           rhs=draw(st.integers(-3, 3)), label=f"c{k}")
    return cqm


def _check_flags(ss, cqm):
    """Energies are the objective's, and every flag is dimod's own feasibility check."""
    dimod.testing.assert_sampleset_energies_cqm(ss, cqm)
    for datum in ss.data(["sample", "is_feasible"]):
        assert bool(datum.is_feasible) == cqm.check_feasible(datum.sample)


@settings(max_examples=40, deadline=None)
@given(small_cqms())
def test_finds_exact_cqm_optimum_and_flags_feasibility(cqm):
    exact = dimod.ExactCQMSolver().sample_cqm(cqm)
    feasible = exact.filter(lambda d: d.is_feasible)
    ss = CombOptSampler().sample_cqm(cqm, num_reads=3, seed=2, max_iterations=400)
    _check_flags(ss, cqm)
    assert len(ss) == 3
    if len(feasible):
        assert ss.record.is_feasible.all()
        assert ss.first.energy == feasible.first.energy
    else:
        assert not ss.record.is_feasible.any()


def test_knapsack_and_bin_packing_reach_cp_sat_optima():
    """Optima proved by OR-Tools CP-SAT (one worker, in 0.01 s; experiments/finite_domain.py)."""
    cases = [(dimod.generators.random_knapsack(40, seed=1), -527.0),
             (dimod.generators.random_bin_packing(8, seed=1), 6.0)]
    for cqm, optimum in cases:
        ss = CombOptSampler().sample_cqm(cqm, num_reads=2, seed=1, max_iterations=2000,
                                         rounds=20)
        _check_flags(ss, cqm)
        assert ss.record.is_feasible.all()
        assert ss.first.energy == optimum


def test_info_reports_multipliers_rounds_and_native_groups():
    x, y, z = dimod.Binaries("xyz")
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(-3 * x - 2 * y - z)
    cqm.add_constraint(x + y + z <= 1, label="one")   # detected as an "at most one" group
    cqm.add_constraint(2 * x + y <= 1, label="cap")
    ss = CombOptSampler().sample_cqm(cqm, num_reads=2, seed=3, max_iterations=30, rounds=3)
    _check_flags(ss, cqm)
    info = ss.info
    assert info["native_discrete"] == ["one"]
    assert set(info["multipliers"]) == {"cap"} == set(info["initial_multipliers"])
    assert len(info["rounds"]) == 3
    assert info["rounds"][-1]["multipliers"] == [info["multipliers"]["cap"]]
    assert info["seed"] == 3 and info["timing"]["sampling_ns"] >= 0
    assert ss.first.energy == -2.0 and ss.first.sample["y"] == 1


def test_initial_states_and_empty_model():
    cqm = dimod.generators.random_knapsack(5, seed=0)
    state = {v: 0 for v in cqm.variables}
    ss = CombOptSampler().sample_cqm(cqm, initial_states=state, seed=0, max_iterations=10)
    _check_flags(ss, cqm)
    empty = CombOptSampler().sample_cqm(dimod.ConstrainedQuadraticModel(), num_reads=2)
    assert len(empty) == 2 and empty.record.is_feasible.all()


def _cqm_with(vartype, **bounds):
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.add_variable(vartype, "v", **bounds)
    return cqm


@pytest.mark.parametrize(
    ("cqm", "message"),
    [
        (_cqm_with("REAL", lower_bound=0, upper_bound=1), "'v' is real-valued"),
        (_cqm_with("INTEGER"), r"'v' is unbounded: bounds \[0, 9007199254740991\] hold"),
        (_cqm_with("INTEGER", lower_bound=-40000, upper_bound=40000),
         r"too wide a range: bounds \[-40000, 40000\] hold 80001 values, more than the 65536"),
    ],
)
def test_unsupported_variables_are_one_line_errors(cqm, message):
    with pytest.raises(ValueError, match=message) as info:
        CombOptSampler().sample_cqm(cqm)
    assert "\n" not in str(info.value)


def test_soft_constraints_and_bad_initial_states_are_refused():
    x, y = dimod.Binaries("xy")
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.add_constraint(x + y <= 1, label="soft", weight=2.0)
    with pytest.raises(ValueError, match="constraint 'soft' is soft"):
        cqm_to_objective(cqm)
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.add_variables("BINARY", "abc")
    cqm.add_discrete("abc", label="pick")
    for state, message in [({"a": 1, "b": 1, "c": 0}, "sets 2 members of the one-hot group "
                            "'pick' to 1 \\(needs exactly one\\)"),
                           ({"a": 0, "b": 0}, "must give a value for each")]:
        with pytest.raises(ValueError, match=message):
            CombOptSampler().sample_cqm(cqm, initial_states=state)


def test_encoding_keeps_cqm_values_at_feasible_points():
    """At every point of the engine's space, the rows are the CQM's own constraint values."""
    rng = np.random.default_rng(4)
    cqm = dimod.generators.random_multi_knapsack(4, 2, seed=1)
    enc = cqm_to_objective(cqm)
    obj = enc.objective
    points = np.array([[rng.choice(v) for v in obj.values] for _ in range(20)])
    samples = enc.samples(points)
    rows = obj.row_values(points)
    for k in range(20):
        sample = dict(zip(enc.variables, samples[k]))
        assert rows[k, 0] == cqm.objective.energy(sample)
        for e, label in enumerate(enc.penalised, start=1):
            assert rows[k, e] == cqm.constraints[label].lhs.energy(sample)
