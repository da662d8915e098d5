"""CombOptSampler.sample_dqm: DQMs solved natively, checked against dimod's own solvers."""

from __future__ import annotations

import dimod
import dimod.testing
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from combopt.adapters.dimod import dqm_to_objective
from combopt.samplers import CombOptSampler
from combopt.strategies import Tabu


def random_dqm(rng, n, max_cases=4, density=0.6, labels=None, integer=True):
    """A DQM with ``n`` variables of 1..max_cases cases and random biases."""
    labels = list(range(n)) if labels is None else labels
    dqm = dimod.DiscreteQuadraticModel()
    draw = (lambda size: rng.integers(-5, 6, size).astype(float)) if integer else (
        lambda size: rng.normal(size=size))
    for v in labels:
        m = int(rng.integers(1, max_cases + 1))
        dqm.add_variable(m, v)
        dqm.set_linear(v, draw(m))
    for a in range(n):
        for b in range(a + 1, n):
            if rng.random() < density:
                u, v = labels[a], labels[b]
                block = draw((dqm.num_cases(u), dqm.num_cases(v)))
                dqm.set_quadratic(u, v, {(i, j): block[i, j] for i in range(block.shape[0])
                                         for j in range(block.shape[1]) if block[i, j]})
    dqm.offset = float(draw(1)[0])
    return dqm


@pytest.mark.parametrize("integer", [True, False])
def test_energies_equal_dqm_energies_in_its_labels(integer):
    rng = np.random.default_rng(5)
    labels = ["x", ("y", 1), 7, "z", 2.5, "w"]
    dqm = random_dqm(rng, 6, labels=labels, integer=integer)
    ss = CombOptSampler().sample_dqm(dqm, num_reads=5, seed=2, max_iterations=3)
    dimod.testing.assert_sampleset_energies_dqm(ss, dqm)
    assert len(ss) == 5 and set(ss.variables) == set(labels)
    for sample in ss.samples():
        assert all(0 <= sample[v] < dqm.num_cases(v) for v in labels)


def test_adapter_energy_equals_dqm_energies_everywhere():
    dqm = random_dqm(np.random.default_rng(8), 4, labels=["d", "c", "b", "a"], integer=False)
    objective, labels = dqm_to_objective(dqm)
    exact = dimod.ExactDQMSolver().sample_dqm(dqm)
    x = exact.record.sample[:, [exact.variables.index(v) for v in labels]]
    np.testing.assert_allclose(objective.energy(x), dqm.energies((x, labels)), atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5))
def test_the_optimum_is_found_on_small_models(model_seed, n):
    dqm = random_dqm(np.random.default_rng(model_seed), n, max_cases=3)
    best = dimod.ExactDQMSolver().sample_dqm(dqm).first.energy
    # Frequent restarts, half the variables redrawn: the default tenure (1 at
    # this size) can keep a read on a plateau of zero-delta moves for long.
    tabu = Tabu(restart_after=20, perturbation=0.5)
    ss = CombOptSampler().sample_dqm(dqm, num_reads=4, seed=1, strategy=tabu, max_iterations=200)
    dimod.testing.assert_sampleset_energies_dqm(ss, dqm)
    assert ss.first.energy == pytest.approx(best, abs=1e-9)


def test_auto_chooses_tabu_and_reaches_the_optimum():
    dqm = random_dqm(np.random.default_rng(3), 6, max_cases=3)
    best = dimod.ExactDQMSolver().sample_dqm(dqm).first.energy
    ss = CombOptSampler().sample_dqm(dqm, num_reads=4, seed=4, max_iterations=300)
    assert ss.info["strategy"] == "tabu" and ss.info["auto"]["choice"] == "tabu"
    assert ss.first.energy == pytest.approx(best)


def test_info_matches_sample():
    dqm = random_dqm(np.random.default_rng(1), 5)
    ss = CombOptSampler().sample_dqm(dqm, num_reads=2, seed=9, strategy="anneal", time_limit=0.05)
    info = ss.info
    assert set(info["timing"]) == {"preprocessing_ns", "sampling_ns", "postprocessing_ns",
                                   "compile_ns"}
    assert all(isinstance(t, int) and t >= 0 for t in info["timing"].values())
    assert info["seed"] == 9 and info["strategy"] == "anneal" and "auto" not in info
    assert info["stop_reason"] == "time_limit"
    assert info["trace"][-1][1] >= ss.first.energy - 1e-9


def test_same_seed_same_sampleset():
    dqm = random_dqm(np.random.default_rng(2), 6)
    a = CombOptSampler().sample_dqm(dqm, num_reads=3, seed=42, max_iterations=5)
    b = CombOptSampler().sample_dqm(dqm, num_reads=3, seed=42, max_iterations=5)
    np.testing.assert_array_equal(a.record.sample, b.record.sample)


def test_initial_states_in_labels_set_the_number_of_reads():
    dqm = random_dqm(np.random.default_rng(6), 3, labels=["a", "b", "c"])
    states = ([[0, 0, 0], [0, 0, 0]], ["c", "a", "b"])
    ss = CombOptSampler().sample_dqm(dqm, initial_states=states, seed=1, max_iterations=2)
    assert len(ss) == 2
    one = CombOptSampler().sample_dqm(dqm, initial_states=([[0, 0, 0]], states[1]),
                                      num_reads=3, seed=1, max_iterations=2)
    assert len(one) == 3


def test_an_empty_dqm_gives_num_reads_rows_at_the_offset():
    dqm = dimod.DiscreteQuadraticModel()
    dqm.offset = 2.5
    ss = CombOptSampler().sample_dqm(dqm, num_reads=3)
    assert ss.record.energy.tolist() == [2.5, 2.5, 2.5]


class _CaselessDQM(dimod.DiscreteQuadraticModel):
    """dimod refuses a variable without cases, so this one claims to have one."""

    def num_cases(self, v=None):
        return 0 if v == "empty" else super().num_cases(v)


@pytest.mark.parametrize(
    "states, num_reads, message",
    [
        (([[0, 0]], ["a", "b"]), None, "a case for each of the DQM's 3 variables"),
        (([[0, 0, 5]], ["a", "b", "c"]), None, "case 5 of variable 'c' is outside 0..[0-9]"),
        (([[0, 0, -1]], ["a", "b", "c"]), None, "case -1 of variable 'c'"),
        (([[0, 0, 0]] * 2, ["a", "b", "c"]), 3, "got 2 initial states for num_reads=3"),
    ],
)
def test_bad_initial_states_are_one_line_errors(states, num_reads, message):
    dqm = random_dqm(np.random.default_rng(6), 3, labels=["a", "b", "c"])
    with pytest.raises(ValueError, match=message) as info:
        CombOptSampler().sample_dqm(dqm, initial_states=states, num_reads=num_reads)
    assert "\n" not in str(info.value)


def test_a_variable_without_cases_is_refused():
    dqm = _CaselessDQM()
    dqm.add_variable(2, "a")
    dqm.add_variable(1, "empty")
    with pytest.raises(ValueError, match="DQM variable 'empty' has no cases"):
        CombOptSampler().sample_dqm(dqm)
