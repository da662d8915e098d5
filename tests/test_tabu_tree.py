"""The tournament-tree tabu kernel against the from-scratch reference of tests/naive.py."""

import dataclasses

import naive
import naive_search
import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import combopt._driver
import combopt.solver
from combopt import Domain, Tabu, solve
from combopt._kernels import tabu_tree
from combopt.objectives import QuadraticObjective

PAIRS = {"binary": [0.0, 1.0], "spin": [-1.0, 1.0], "odd": [-2.0, 3.0]}


def _integer_problem(n, seed, density=0.3):
    rng = np.random.default_rng(seed)
    Q = rng.integers(-5, 6, size=(n, n)).astype(float) * (rng.random((n, n)) < density)
    return Q, rng.integers(-5, 6, size=n).astype(float)


def _reference(Q, c, pair, x0, strategy, seed, iterations):
    n = len(x0)
    p = strategy.parameters(n, sparse=True)
    breakout = (*p["jump"], p["omega_limit"], p["p_directed"]) if p["adaptive"] else None
    rng_state = int(np.random.SeedSequence(seed, spawn_key=(0, 1)).generate_state(1, np.uint64)[0])
    return naive_search.tabu_flips(lambda x: naive.quadratic_energy(Q, c, 0, x), [pair] * n, x0,
                            rng_state, iterations, p["tenure"], breakout)


@given(
    n=st.integers(2, 12),
    seed=st.integers(0, 2**16),
    pair=st.sampled_from(sorted(PAIRS)),
    adaptive=st.booleans(),
    tenure=st.sampled_from([None, 0, 2, (0, 3), (1, 6)]),
    representation=st.sampled_from(["sparse", "dense"]),
    moves=st.sampled_from(["tree", "scan"]),
)
def test_every_move_is_the_references_move(n, seed, pair, adaptive, tenure, representation, moves):
    """Integer data (exact ties): the same moves, ties, tenures and perturbations as the
    reference, which recomputes every flip's delta from scratch at every move; the trees
    and the scans of run_tabu_tree make the same choices from the same draws."""
    Q, c = _integer_problem(n, seed)
    x0 = np.random.default_rng(seed + 1).choice(PAIRS[pair], size=n)
    if adaptive:
        strategy = Tabu(tenure=tenure, perturbation="adaptive", moves=moves)
    else:  # a classic scan with a fixed tenure is run_tabu_flips, whose tie draws differ
        strategy = Tabu(tenure=tenure, restart_after=0, perturbation=0.1, moves="tree")
    result = solve(QuadraticObjective(Q, c, representation=representation), Domain(PAIRS[pair]),
                   strategy=strategy, initial=x0, max_iterations=5, polish=False, seed=seed)
    best_x, trace = _reference(Q, c, PAIRS[pair], x0, strategy, seed, 5)
    assert result.info["moves"] == strategy.moves
    assert result.trace[0].tolist() == trace
    # The kernel saves a best lazily (before the next uphill move), so after level
    # moves it may keep a different state of the same energy.
    assert result.energy == naive.quadratic_energy(Q, c, 0, best_x)


@pytest.mark.parametrize("adaptive", [False, True])
def test_real_data_energies_match_a_recomputation(adaptive):
    rng = np.random.default_rng(3)
    n = 60
    Q = rng.normal(size=(n, n)) * (rng.random((n, n)) < 0.1)
    c = rng.normal(size=n)
    objective = QuadraticObjective(Q, c, representation="sparse")
    strategy = Tabu(perturbation="adaptive" if adaptive else 0.2, restart_after=300, moves="tree")
    result = solve(objective, Domain.spin(), strategy=strategy, num_reads=2, max_iterations=40,
                   polish=False, seed=5)
    for x, e in zip(result.samples, result.energies):
        assert e == pytest.approx(naive.quadratic_energy(Q, c, 0, x), abs=1e-9)
    assert np.unique(result.trace).size > 20  # a real search


def _kernel_run(problem, values, offsets, state, memory, prm, n_iters):
    trace = np.full((state.x_idx.shape[0], n_iters), np.nan)
    tabu_tree.run_tabu_tree(problem, values, offsets, state, 0, state.x_idx.shape[0], n_iters, prm,
                            -np.inf, 0, trace, memory)
    return trace


def _kernel_setup(n, reads, seed, adaptive):
    rng = np.random.default_rng(seed)
    Q = rng.normal(size=(n, n)) * (rng.random((n, n)) < 4.0 / n)  # real data: no exact ties
    objective = QuadraticObjective(Q, rng.normal(size=n), representation="sparse")
    problem, cache_length = objective._lower()
    values, offsets = Domain.spin().lower(n)
    state = combopt.solver._new_state(rng.integers(0, 2, size=(reads, n)), cache_length, seed)
    combopt.solver.jit_kernels.initialize(problem, values, offsets, state, 0, reads)
    strategy = Tabu(perturbation="adaptive" if adaptive else 0.1, restart_after=500)
    params = strategy.parameters(n, True)
    prm = tabu_tree.TreeTabuParams(
        *params["tenure"], params["restart_after"], params["perturb_count"], int(adaptive), 1,
        *params.get("jump", (1, 1)), params.get("omega_limit", 1),
        float(params.get("p_directed", 1)),
    )
    memory = np.zeros((reads, tabu_tree.MEMORY_WIDTH), dtype=np.int64)
    return problem, values, offsets, state, memory, prm


@pytest.mark.parametrize("adaptive", [False, True])
def test_k_iterations_twice_are_2k_once_on_real_data(adaptive):
    """The deltas are recomputed from the cached fields, so rebuilding the trees at a chunk
    boundary reproduces them bit for bit, even with real couplings."""
    once = _kernel_setup(300, 2, 7, adaptive)
    twice = _kernel_setup(300, 2, 7, adaptive)
    full = _kernel_run(*once, 6)
    halves = np.concatenate([_kernel_run(*twice, 3), _kernel_run(*twice, 3)], axis=1)
    assert np.array_equal(full, halves)
    for a, b in zip(once[3], twice[3]):
        assert np.array_equal(a, b)
    assert np.array_equal(once[4], twice[4])


def test_a_set_stop_flag_ends_the_read_before_its_next_move():
    problem, values, offsets, state, memory, prm = _kernel_setup(200, 1, 2, True)
    x_before = state.x_idx.copy()
    state.stop[0] = 2  # the driver's time limit
    trace = _kernel_run(problem, values, offsets, state, memory, prm, 5)
    assert np.all(np.isnan(trace)) and state.clock[0] == 0
    assert np.array_equal(state.x_idx, x_before)
    state.stop[0] = 0
    _kernel_run(problem, values, offsets, state, memory, prm, 1)
    assert state.clock[0] == 200


@pytest.mark.parametrize("perturbation", ["auto", 0.1])
def test_results_do_not_depend_on_the_thread_count_or_the_chunking(perturbation, monkeypatch):
    rng = np.random.default_rng(4)
    n = 400
    Q = rng.normal(size=(n, n)) * (rng.random((n, n)) < 5.0 / n)
    objective = QuadraticObjective(Q, rng.normal(size=n))
    kwargs = {"strategy": Tabu(perturbation=perturbation, moves="tree"), "num_reads": 3,
              "seed": 9, "max_iterations": 12}
    reference = solve(objective, Domain.binary(), **kwargs)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        single = solve(objective, Domain.binary(), **kwargs)
    finally:
        numba.set_num_threads(threads)
    monkeypatch.setattr(combopt._driver, "_CHUNK_SECONDS", 0.0)  # every chunk is one iteration
    chunked = solve(objective, Domain.binary(), **kwargs)
    for other in (single, chunked):
        assert np.array_equal(reference.samples, other.samples)
        assert np.array_equal(reference.trace, other.trace)
        assert reference.evaluations == other.evaluations


def test_the_tree_is_chosen_on_sparse_couplings_and_the_scan_on_dense_ones():
    rng = np.random.default_rng(0)
    n = 2000
    sparse_Q = rng.normal(size=(n, n)) * (rng.random((n, n)) < 3.0 / n)
    sparse = solve(QuadraticObjective(sparse_Q), Domain.spin(), strategy="tabu", max_iterations=1,
                   seed=0)
    assert sparse.info["moves"] == "tree" and sparse.info["adaptive"]
    dense_Q = rng.normal(size=(200, 200))
    dense = solve(QuadraticObjective(dense_Q), Domain.spin(), strategy="tabu", max_iterations=1,
                  seed=0)
    assert dense.info["moves"] == "scan" and not dense.info["adaptive"]
    assert dense.info["tenure"] == 20 and dense.info["perturb_count"] == 20


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Tabu(tenure=(5, 2)), "lo <= hi"),
        (lambda: Tabu(tenure=(1, 2, 3)), "pair"),
        (lambda: Tabu(moves="heap"), "moves must be"),
        (lambda: Tabu(perturbation="breakout"), "perturbation must be"),
        (lambda: solve(QuadraticObjective(np.eye(3)), Domain.ternary(),
                       strategy=Tabu(perturbation="adaptive"), max_iterations=1), "two-valued"),
    ],
)
def test_bad_tabu_parameters_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_strategy_is_a_frozen_dataclass_with_its_defaults():
    strategy = Tabu()
    assert (strategy.perturbation, strategy.moves) == ("auto", "auto")
    with pytest.raises(dataclasses.FrozenInstanceError):
        strategy.moves = "scan"
