"""combopt.solve: every strategy against exhaustive search and the paper's Algorithm 2."""

import dataclasses

import naive
import numba
import numpy as np
import pytest
import scipy.sparse as sp

import combopt._driver
import combopt.solver
from combopt import Annealing, Domain, Paper, Tabu, discretize, solve
from combopt.objectives import CallableObjective, LeastSquaresObjective, QuadraticObjective

STRATEGIES = ["paper", "anneal", "metropolis", "tabu"]
DOMAINS = {
    "binary": [0.0, 1.0],
    "spin": [-1.0, 1.0],
    "ternary": [-1.0, 0.0, 1.0],
    "odd": [-2.5, 0.0, 0.5, 3.0],
}


def _random_problem(n, seed, integer=False):
    rng = np.random.default_rng(seed)
    if integer:
        Q = rng.integers(-5, 6, size=(n, n)).astype(float)
        return Q, rng.integers(-5, 6, size=n).astype(float)
    return rng.normal(size=(n, n)), rng.normal(size=n)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("domain_name", sorted(DOMAINS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_strategy_returns_a_local_optimum(strategy, domain_name, seed):
    n = 7 if domain_name in ("ternary", "odd") else 10
    Q, c = _random_problem(n, seed)
    objective = QuadraticObjective(Q, c, offset=1.5)
    domains = [DOMAINS[domain_name]] * n
    result = solve(
        objective, Domain(DOMAINS[domain_name]), strategy=strategy, num_reads=3, seed=seed
    )

    def energy(x):
        return naive.quadratic_energy(Q, c, 1.5, x)

    optimum = naive.exhaustive_minimum(energy, domains)
    for x, e in zip(result.samples, result.energies):
        assert set(x).issubset(DOMAINS[domain_name])
        assert e == pytest.approx(energy(x), abs=1e-9)
        assert e >= optimum - 1e-9
        assert naive.is_local_optimum(energy, domains, x)
    assert result.energy == min(result.energies)
    assert np.array_equal(result.x, result.samples[np.argmin(result.energies)])


@pytest.mark.parametrize("strategy", ["anneal", "metropolis", "tabu"])
def test_stronger_strategies_find_the_optimum_of_small_problems(strategy):
    for seed in range(5):
        Q, c = _random_problem(12, seed)
        objective = QuadraticObjective(Q, c)
        optimum = naive.exhaustive_minimum(
            lambda x, Q=Q, c=c: naive.quadratic_energy(Q, c, 0, x), [[0, 1]] * 12
        )
        result = solve(objective, Domain.binary(), strategy=strategy, num_reads=4, seed=seed)
        assert result.energy == pytest.approx(optimum, abs=1e-9)


def test_per_variable_domains():
    domains = [[0, 1], [-1, 0, 1], [-3, 3], [2.0], [-1, 0.5]]
    Q, c = _random_problem(5, 3)
    result = solve(
        QuadraticObjective(Q, c), Domain.per_variable(domains), strategy="tabu", num_reads=2, seed=0
    )

    def energy(x):
        return naive.quadratic_energy(Q, c, 0, x)

    assert result.energy == pytest.approx(naive.exhaustive_minimum(energy, domains), abs=1e-9)
    assert all(v in d for v, d in zip(result.x, domains))


@pytest.mark.parametrize("domain_name", ["binary", "ternary", "odd"])
@pytest.mark.parametrize("seed", [0, 5])
def test_paper_mode_is_algorithm_2_exactly(domain_name, seed):
    """polish=False: the same trajectory as the literal Algorithm 2 (integer data: exact ties)."""
    n = 8
    Q, c = _random_problem(n, seed, integer=True)
    omega = DOMAINS[domain_name]
    if domain_name == "odd":
        omega = [-2.0, 0.0, 1.0, 3.0]  # integers, so every energy is exact in float64
    objective = QuadraticObjective(Q, c)
    x0 = np.random.default_rng(seed).choice(omega, size=n)
    result = solve(
        objective,
        Domain(omega),
        strategy="paper",
        initial=x0,
        max_iterations=6,
        polish=False,
        seed=seed,
    )
    rng_state = int(np.random.SeedSequence(seed, spawn_key=(0, 1)).generate_state(1, np.uint64)[0])
    x_ref, errors = naive.paper_algorithm2(
        lambda x: naive.quadratic_energy(Q, c, 0, x), [omega] * n, x0, rng_state, 6
    )
    assert result.x.tolist() == x_ref.tolist()
    assert result.trace[0].tolist() == errors
    assert result.evaluations == 6 * n * (len(omega) - 1)


@pytest.mark.parametrize("seed", range(4))
def test_paper_mode_never_increases_the_error(seed):
    Q, c = _random_problem(30, seed)
    result = solve(
        QuadraticObjective(Q, c),
        Domain.ternary(),
        strategy="paper",
        num_reads=3,
        seed=seed,
        max_iterations=20,
    )
    assert result.trace.shape == (3, 20)
    assert result.trace_iterations.tolist() == list(range(1, 21))
    assert np.all(np.diff(result.trace, axis=1) <= 1e-9)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_same_seed_same_result_and_reads_do_not_depend_on_their_number(strategy):
    Q, c = _random_problem(25, 9)
    objective = QuadraticObjective(Q, c)
    a = solve(objective, Domain.spin(), strategy=strategy, num_reads=4, seed=123, max_iterations=30)
    b = solve(objective, Domain.spin(), strategy=strategy, num_reads=4, seed=123, max_iterations=30)
    two = solve(
        objective, Domain.spin(), strategy=strategy, num_reads=2, seed=123, max_iterations=30
    )
    # Exact by construction: each read runs the same serial kernel code on its own state
    # and random stream (no BLAS, no reduction across reads), whatever the number of reads.
    assert np.array_equal(a.samples, b.samples) and np.array_equal(a.trace, b.trace)
    assert np.array_equal(a.samples[:2], two.samples)
    assert a.seed == 123 and a.evaluations == b.evaluations


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_results_do_not_depend_on_the_thread_count_or_the_chunking(strategy, monkeypatch):
    Q, c = _random_problem(25, 10)
    objective = QuadraticObjective(Q, c)
    kwargs = {"strategy": strategy, "num_reads": 3, "seed": 7, "max_iterations": 40}
    reference = solve(objective, Domain.ternary(), **kwargs)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        single = solve(objective, Domain.ternary(), **kwargs)
    finally:
        numba.set_num_threads(threads)
    monkeypatch.setattr(combopt._driver, "_CHUNK_SECONDS", 0.0)  # every chunk is one iteration
    chunked = solve(objective, Domain.ternary(), **kwargs)
    # Exact by construction (float data notwithstanding): a read is one serial kernel
    # whose whole state lives in ReadState, so threads only change which worker runs it
    # and chunking only where it pauses; the operations and their order are the same.
    for other in (single, chunked):
        assert np.array_equal(reference.samples, other.samples)
        assert np.array_equal(reference.trace, other.trace)
        assert reference.evaluations == other.evaluations


def test_the_flip_scan_does_not_depend_on_the_chunking_on_real_data(monkeypatch):
    """run_tabu_flips keeps its accumulated deltas across chunks: a run cut into
    one-iteration chunks computes bit for bit what one chunk does, real couplings too
    (recomputing them at every chunk start used to differ in the last bits)."""
    rng = np.random.default_rng(3)
    Q = rng.normal(size=(40, 40))
    objective = QuadraticObjective(Q, rng.normal(size=40), representation="dense")
    kwargs = {"strategy": Tabu(tenure=4, restart_after=60), "num_reads": 2, "seed": 9,
              "max_iterations": 25, "polish": False}
    whole = solve(objective, Domain.spin(), **kwargs)
    assert whole.info["moves"] == "scan"
    monkeypatch.setattr(combopt._driver, "_CHUNK_SECONDS", 0.0)  # every chunk is one iteration
    chunked = solve(objective, Domain.spin(), **kwargs)
    assert np.array_equal(whole.trace, chunked.trace)
    assert np.array_equal(whole.samples, chunked.samples)
    assert np.array_equal(whole.energies, chunked.energies)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_callable_objective_runs_the_same_search(strategy):
    Q, c = _random_problem(6, 2, integer=True)
    compiled = QuadraticObjective(Q, c)
    slow = CallableObjective(lambda x: float(x @ Q @ x + c @ x), 6)
    kwargs = {"strategy": strategy, "num_reads": 2, "seed": 3, "max_iterations": 4}
    a = solve(compiled, Domain.ternary(), **kwargs)
    b = solve(slow, Domain.ternary(), **kwargs)
    # Integer data: every energy and delta is an exact integer in either evaluation order.
    assert np.array_equal(a.samples, b.samples)
    assert a.evaluations == b.evaluations


@pytest.mark.parametrize("representation", ["dense", "sparse"])
@pytest.mark.parametrize("domain_name", ["binary", "spin"])
def test_flip_kernel_makes_the_moves_of_the_generic_tabu_search(
    representation, domain_name, monkeypatch
):
    """Two-valued quadratic problems run tabu on kept-up-to-date flip deltas; on integer
    data (exact ties) it must make the generic kernel's moves, ties and restarts."""
    Q, c = _random_problem(30, 4, integer=True)
    objective = QuadraticObjective(Q, c, representation=representation)
    domain = Domain(DOMAINS[domain_name])
    kwargs = {
        "strategy": Tabu(tenure=5, restart_after=40),
        "num_reads": 3,
        "seed": 11,
        "max_iterations": 30,
        "polish": False,
    }

    def generic_kernel_called(*args):
        raise AssertionError("the two-valued quadratic problem did not use run_tabu_flips")

    with monkeypatch.context() as patch:
        patch.setattr(combopt.solver.jit_kernels, "run_tabu", generic_kernel_called)
        fast = solve(objective, domain, **kwargs)
    monkeypatch.setattr(combopt._driver, "FLIP_KINDS", set())
    generic = solve(objective, domain, **kwargs)
    assert np.array_equal(fast.samples, generic.samples)
    assert np.array_equal(fast.trace, generic.trace)
    assert fast.evaluations == generic.evaluations
    assert np.unique(generic.trace).size > 10  # a real search: many distinct energies


def test_least_squares_reaches_the_exhaustive_optimum():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(15, 4)), rng.normal(size=(15, 2))
    objective = LeastSquaresObjective(X, Y)
    domains = [[-1.0, 0.0, 1.0]] * 8
    optimum = naive.exhaustive_minimum(lambda w: naive.least_squares_energy(X, Y, w), domains)
    result = solve(objective, Domain.ternary(), strategy="anneal", num_reads=4, seed=0)
    assert result.energy == pytest.approx(optimum, rel=1e-12)
    assert objective.weights(result.x).shape == (4, 2)


def test_pretrained_weights_are_discretised_by_algorithm_1():
    Q, c = _random_problem(6, 0)
    w = np.array([-0.7, -0.5, 0.2, 0.5, 3.0, -9.0])
    result = solve(
        QuadraticObjective(Q, c), Domain.ternary(), pretrained=w, max_iterations=0, polish=False
    )
    assert result.x.tolist() == discretize(w, [-1, 0, 1]).tolist() == [-1, -1, 0, 0, 1, -1]


def test_stopping_rules():
    Q, c = _random_problem(200, 1)
    objective = QuadraticObjective(Q, c)
    timed = solve(objective, Domain.binary(), strategy="anneal", time_limit=0.3, seed=0)
    assert timed.stop_reason == "time_limit"
    assert 0.3 <= timed.timing["solve"] < 2.0
    small_Q, small_c = _random_problem(10, 1)
    optimum = naive.exhaustive_minimum(
        lambda x: naive.quadratic_energy(small_Q, small_c, 0, x), [[0, 1]] * 10
    )
    target = solve(
        QuadraticObjective(small_Q, small_c),
        Domain.binary(),
        strategy="tabu",
        target_energy=optimum + 1e-9,
        time_limit=30.0,
        seed=0,
    )
    assert target.stop_reason == "target" and target.energy <= optimum + 1e-9
    stalled = solve(
        objective, Domain.binary(), strategy="paper", max_stall=2, max_iterations=10_000, seed=0
    )
    assert stalled.stop_reason == "stall" and stalled.iterations < 10_000
    seen = []
    stopped = solve(
        objective,
        Domain.binary(),
        strategy="anneal",
        seed=0,
        callback=lambda p: seen.append(p) or True,
    )
    assert stopped.stop_reason == "callback" and len(seen) == 1 and seen[0].iteration >= 1


def test_best_trace_is_decreasing_and_ends_at_the_best():
    Q, c = _random_problem(80, 2)
    result = solve(
        QuadraticObjective(Q, c),
        Domain.binary(),
        strategy="anneal",
        num_reads=2,
        seed=1,
        polish=False,
    )
    seconds, energies = zip(*result.best_trace)
    assert list(seconds) == sorted(seconds) and list(energies) == sorted(energies, reverse=True)
    assert energies[-1] == pytest.approx(result.energy, abs=1e-8)


def test_result_is_immutable():
    result = solve(QuadraticObjective(np.eye(3)), Domain.binary(), seed=0)
    with pytest.raises(ValueError):
        result.samples[0, 0] = 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.energy = 0.0
    with pytest.raises(TypeError):
        result.timing["solve"] = 0.0


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"num_reads": 0}, ValueError, "num_reads must be an integer >= 1"),
        ({"num_reads": 10**6}, ValueError, "num_reads must be an integer in 1..100000"),
        ({"num_reads": 2.0}, TypeError, "num_reads must be an integer"),
        ({"num_reads": True}, TypeError, "num_reads must be an integer"),
        ({"time_limit": -1.0}, ValueError, "time_limit must be a finite number >= 0"),
        ({"time_limit": "5"}, TypeError, "time_limit must be a real number"),
        ({"time_limit": float("nan")}, ValueError, "time_limit must be finite"),
        ({"seed": -1}, ValueError, r"seed must be an integer in \[0, 2\*\*53\)"),
        ({"seed": 2**53}, ValueError, r"seed must be an integer in \[0, 2\*\*53\)"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"strategy": "greedy"}, ValueError, "strategy must be one of"),
        ({"initial": [0.0, 0.5, 1.0]}, ValueError, "not in its variable's domain"),
        ({"initial": [0.0, 1.0]}, ValueError, "initial states must have shape"),
        (
            {"initial": [0, 1, 0], "pretrained": [0, 1, 0]},
            ValueError,
            "either initial or pretrained",
        ),
        ({"max_iterations": -3}, ValueError, "max_iterations must be an integer >= 0"),
        ({"max_iterations": 2.5}, TypeError, "max_iterations must be an integer"),
        ({"target_energy": float("inf")}, ValueError, "target_energy must be finite"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        solve(QuadraticObjective(np.eye(3)), Domain.binary(), **kwargs)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: QuadraticObjective(np.ones((2, 3))), "square"),
        (lambda: QuadraticObjective([[np.nan]]), "NaN"),
        (lambda: QuadraticObjective(np.eye(2), linear=[1.0]), r"linear must have shape \(2,\)"),
        (lambda: QuadraticObjective.from_coo([0], [2], [1.0], 2), "cols hold an index outside"),
        (lambda: QuadraticObjective.from_coo([0.5], [1], [1.0], 2), "rows must be integers"),
        (lambda: QuadraticObjective.from_coo([0, 1], [1], [1.0], 2), "must have one shape"),
        (lambda: QuadraticObjective.from_coo([0], [1], [np.nan], 2), "NaN"),
        (lambda: QuadraticObjective.from_coo([], [], [], 0), "n must be an integer >= 1"),
        (lambda: LeastSquaresObjective(np.eye(2), [1.0, 2.0, 3.0]), "Y has 3 rows but X has 2"),
        (lambda: LeastSquaresObjective(np.eye(2), [1.0, np.inf]), "NaN"),
        (
            lambda: solve(QuadraticObjective(np.eye(2)), Domain.per_variable([[0, 1]])),
            "defines 1 variables",
        ),
        (lambda: Tabu(perturbation=2.0), "perturbation"),
        (lambda: Annealing(beta_range=(2.0, 1.0)), "beta_range"),
    ],
)
def test_bad_problems_are_refused(build, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build()


def test_from_coo_is_the_scipy_coo_objective():
    rng = np.random.default_rng(4)
    rows, cols = rng.integers(0, 30, 200), rng.integers(0, 30, 200)  # repeats add up
    data, linear = rng.normal(size=200), rng.normal(size=30)
    reference = QuadraticObjective(sp.coo_array((data, (rows, cols)), shape=(30, 30)), linear, 0.5)
    triplets = QuadraticObjective.from_coo(rows, cols, data, 30, linear, 0.5)
    points = rng.integers(0, 2, (7, 30)).astype(float)
    # The two sum the same products in different orders: equal to rounding.
    np.testing.assert_allclose(triplets.energy(points), reference.energy(points), rtol=1e-12)
    a = solve(triplets, Domain.binary(), strategy="tabu", max_iterations=5, seed=3)
    b = solve(reference, Domain.binary(), strategy="tabu", max_iterations=5, seed=3)
    assert a.x.tolist() == b.x.tolist()
    assert (triplets.Q.toarray() == reference.Q.toarray()).all()


def test_strategy_instances_are_accepted_and_reported():
    Q, c = _random_problem(20, 0)
    result = solve(
        QuadraticObjective(Q, c),
        Domain.spin(),
        strategy=Annealing(beta_range=(0.1, 5.0), num_sweeps=50),
        seed=0,
    )
    assert result.strategy == "anneal" and result.info["beta_range"] == (0.1, 5.0)
    assert result.iterations == 50
    result = solve(
        QuadraticObjective(Q, c), Domain.spin(), strategy=Tabu(tenure=3), seed=0, max_iterations=2
    )
    assert result.info["tenure"] == 3
    result = solve(QuadraticObjective(Q, c), Domain.spin(), strategy=Paper(), seed=0)
    assert result.strategy == "paper"


def test_warmup_reaches_every_compiled_kind():
    """warmup() lowers to every kernel kind the package defines, and to both tabu kernels."""
    import collections

    from combopt import _kernels
    from combopt._kernels.protocol import FLIP_KINDS
    from combopt.solver import _warmup_runs

    defined = {
        obj
        for module in vars(_kernels).values()
        if isinstance(module, type(_kernels))
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, tuple) and hasattr(obj, "_fields")
        and obj.__module__ == module.__name__
        # the strategy kernels' own records (read state, tabu parameters, anneal2's
        # lowered couplings) are not objective kinds
        and module.__name__.rsplit(".", 1)[1] not in ("strategies", "tabu_tree", "anneal2")
    }
    assert len(defined) >= 5
    seen = collections.defaultdict(set)
    for objective, domain in _warmup_runs():
        domain = domain or objective.default_domain()
        problem, _ = objective._lower()
        _, offsets = domain.lower(objective.num_variables)
        seen[type(problem)].add(bool(np.all(np.diff(offsets) == 2)))
    assert set(seen) == defined
    for kind in FLIP_KINDS:  # the flip-delta tabu (two values) and the generic one (more)
        assert seen[kind] == {True, False}, kind.__name__
