"""The dimod samplers: dimod's conformance suite and the contract it leaves out."""

from __future__ import annotations

import unittest
import warnings

import dimod
import dimod.testing
import numpy as np
import pytest

from combopt.adapters.dimod import bqm_to_objective
from combopt.samplers import CombOptSampler, TrainingRouteSampler


@dimod.testing.load_sampler_bqm_tests(CombOptSampler)
class TestCombOptSamplerConformance(unittest.TestCase):
    def test_api(self):
        dimod.testing.assert_sampler_api(CombOptSampler())


@dimod.testing.load_sampler_bqm_tests(TrainingRouteSampler, max_num_variables=12)
class TestTrainingRouteSamplerConformance(unittest.TestCase):
    def test_api(self):
        dimod.testing.assert_sampler_api(TrainingRouteSampler())


def labelled_bqm(vartype, n=14, seed=4):
    bqm = dimod.generators.gnp_random_bqm(n, 0.6, vartype, random_state=seed)
    bqm.offset = 1.25
    return bqm.relabel_variables({v: f"v{v}" for v in bqm.variables}, inplace=False)


@pytest.mark.parametrize("vartype", ["SPIN", "BINARY"])
@pytest.mark.parametrize("strategy", ["paper", "anneal", "tabu"])
def test_energies_labels_vartype_and_optimum(vartype, strategy):
    bqm = labelled_bqm(vartype)
    ss = CombOptSampler().sample(bqm, num_reads=5, seed=11, strategy=strategy)
    assert len(ss) == 5 and ss.vartype is bqm.vartype
    assert set(ss.variables) == set(bqm.variables)
    dimod.testing.assert_sampleset_energies(ss, bqm)
    if strategy != "paper":  # restarts of a real search find the optimum of 14 variables
        assert ss.first.energy == pytest.approx(dimod.ExactSolver().sample(bqm).first.energy)


def test_adapter_energy_equals_bqm_energy_everywhere():
    bqm = labelled_bqm("SPIN", n=8)
    obj, _, labels = bqm_to_objective(bqm)
    exact = dimod.ExactSolver().sample(bqm)
    x = exact.record.sample[:, [exact.variables.index(v) for v in labels]]
    np.testing.assert_allclose(obj.energy(x.astype(float)), exact.record.energy, atol=1e-12)


def test_same_seed_same_sampleset_and_seed_recorded():
    bqm = labelled_bqm("BINARY")
    a = CombOptSampler().sample(bqm, num_reads=4, seed=123, strategy="anneal")
    b = CombOptSampler().sample(bqm, num_reads=4, seed=123, strategy="anneal")
    assert a.info["seed"] == 123
    # Exact by construction: the same call twice runs the same operations in the same order.
    np.testing.assert_array_equal(a.record.sample, b.record.sample)
    np.testing.assert_array_equal(a.record.energy, b.record.energy)
    drawn = CombOptSampler().sample(bqm, num_reads=2)
    again = CombOptSampler().sample(bqm, num_reads=2, seed=drawn.info["seed"])
    np.testing.assert_array_equal(drawn.record.sample, again.record.sample)


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (2**53, ValueError), (1.5, TypeError),
                                         ("3", TypeError), (True, TypeError)])
def test_bad_seeds_are_refused(seed, error):
    with pytest.raises(error, match="seed"):
        CombOptSampler().sample(labelled_bqm("SPIN", n=3), seed=seed)
    with pytest.raises(error, match="seed"):
        TrainingRouteSampler().sample(labelled_bqm("SPIN", n=3), seed=seed)


def test_boundary_seeds_are_accepted():
    bqm = labelled_bqm("SPIN", n=3)
    assert CombOptSampler().sample(bqm, seed=0).info["seed"] == 0
    assert CombOptSampler().sample(bqm, seed=2**53 - 1).info["seed"] == 2**53 - 1


def test_one_seed_range_everywhere():
    """A seed drawn by one entry point replays through every other one (issue 10)."""
    from combopt import solve
    from combopt.adapters.dimod import bqm_to_objective

    bqm = labelled_bqm("SPIN", n=4)
    drawn = CombOptSampler().sample(bqm, num_reads=1)
    seed = drawn.info["seed"]
    assert 0 <= seed < 2**53 and float(seed) == seed  # exact as a JSON double
    objective, domain, _ = bqm_to_objective(bqm)
    result = solve(objective, domain, strategy="tabu", seed=seed)
    assert 0 <= solve(objective, domain, max_iterations=1).seed < 2**53
    replay = CombOptSampler().sample(bqm, num_reads=1, seed=result.seed)
    assert replay.info["seed"] == result.seed


@pytest.mark.parametrize("sampler", [CombOptSampler(), TrainingRouteSampler()])
def test_unknown_kwargs_warn_and_parameters_are_exact(sampler):
    with pytest.warns(dimod.exceptions.SamplerUnknownArgWarning, match="bogus"):
        ss = sampler.sample(labelled_bqm("SPIN", n=4), num_reads=2, seed=1, bogus=3)
    assert len(ss) == 2
    import inspect

    accepted = set(inspect.signature(type(sampler).sample).parameters) - {"self", "bqm", "kwargs"}
    assert set(sampler.parameters) == accepted


@pytest.mark.parametrize("sampler", [CombOptSampler(), TrainingRouteSampler()])
@pytest.mark.parametrize("vartype", ["SPIN", "BINARY"])
def test_empty_bqm_gives_num_reads_rows(sampler, vartype):
    ss = sampler.sample(dimod.BQM({}, {}, 2.5, vartype), num_reads=3, seed=1)
    assert len(ss) == 3 and ss.vartype is dimod.as_vartype(vartype)
    assert ss.record.energy.tolist() == [2.5, 2.5, 2.5]


def test_initial_states_are_honoured():
    bqm = labelled_bqm("SPIN", n=10)
    start = {v: 1 for v in bqm.variables}
    # No search and no polish-free change: the paper's zero iterations return the
    # polished start, which must be a local optimum reachable from it.
    ss = CombOptSampler().sample(bqm, initial_states=start, max_iterations=0, strategy="paper",
                                 seed=1)
    assert len(ss) == 1
    assert ss.first.energy <= bqm.energy(start)
    # Initial states given as (array, labels) in another column order.
    labels = list(bqm.variables)[::-1]
    states = np.ones((3, 10), dtype=np.int8)
    states[:, 0] = -1
    ss = CombOptSampler().sample(bqm, initial_states=(states, labels), num_reads=3,
                                 max_iterations=0, seed=2)
    assert len(ss) == 3
    lowered = CombOptSampler().sample(bqm, initial_states=(states, labels), seed=2)
    assert len(lowered) == 3  # num_reads follows the initial states


def test_initial_states_are_the_start_of_the_search():
    """Two different starts, no iterations, no polish difference: results differ accordingly."""
    bqm = dimod.BQM({0: 0.0, 1: 0.0}, {}, 0.0, "SPIN")  # flat: every point is a local optimum
    for start in ([1, -1], [-1, 1], [1, 1]):
        ss = CombOptSampler().sample(bqm, initial_states=[start], max_iterations=0)
        assert [ss.first.sample[v] for v in (0, 1)] == start


def test_timing_in_nanoseconds_and_trace_in_info():
    bqm = labelled_bqm("BINARY", n=30)
    ss = CombOptSampler().sample(bqm, num_reads=2, seed=5, max_iterations=50)
    timing = ss.info["timing"]
    assert set(timing) == {"preprocessing_ns", "sampling_ns", "postprocessing_ns", "compile_ns"}
    assert all(isinstance(v, int) and v >= 0 for v in timing.values())
    assert timing["sampling_ns"] > 1000  # 50 iterations of 30 variables take > 1 us
    times = [t for t, _ in ss.info["trace"]]
    assert times == sorted(times) and times[-1] * 1e9 <= timing["sampling_ns"] + 1


def test_trace_best_energy_is_a_real_energy():
    bqm = labelled_bqm("BINARY", n=30)
    ss = CombOptSampler().sample(bqm, num_reads=2, seed=5, max_iterations=50)
    energies = [e for _, e in ss.info["trace"]]
    assert energies == sorted(energies, reverse=True)
    # The last best-so-far is reached by a returned sample (polish only improves).
    assert energies[-1] >= ss.first.energy - 1e-9


def test_target_energy_and_time_limit_stop_early():
    bqm = labelled_bqm("SPIN", n=40, seed=9)
    optimum = CombOptSampler().sample(bqm, num_reads=4, seed=1, strategy="tabu").first.energy
    ss = CombOptSampler().sample(bqm, num_reads=2, seed=1, target_energy=optimum,
                                 strategy="anneal", max_iterations=10**9)
    assert ss.info["stop_reason"] == "target" and ss.first.energy <= optimum + 1e-9
    ss = CombOptSampler().sample(bqm, num_reads=1, seed=1, time_limit=0.2, strategy="paper",
                                 max_iterations=10**9)
    assert ss.info["stop_reason"] == "time_limit"
    assert ss.info["timing"]["sampling_ns"] < 2e9


def test_bad_arguments():
    bqm = labelled_bqm("SPIN", n=4)
    with pytest.raises(ValueError, match="num_reads"):
        CombOptSampler().sample(bqm, num_reads=0)
    with pytest.raises(ValueError, match="strategy"):
        CombOptSampler().sample(bqm, strategy="greedy")
    with pytest.raises(ValueError, match="initial_states_generator"):
        CombOptSampler().sample(bqm, initial_states_generator="zeros")


def test_training_route_sampler_solves_small_qubos():
    bqm = labelled_bqm("BINARY", n=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ss = TrainingRouteSampler().sample(bqm, num_reads=3, seed=2, strategy="tabu")
    dimod.testing.assert_sampleset_energies(ss, bqm)
    assert ss.first.energy == pytest.approx(dimod.ExactSolver().sample(bqm).first.energy)
    again = TrainingRouteSampler().sample(bqm, num_reads=3, seed=2, strategy="tabu")
    np.testing.assert_array_equal(ss.record.sample, again.record.sample)
