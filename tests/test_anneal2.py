"""The two-valued annealing kernels (combopt/_kernels/anneal2.py) against references.

* Metropolis: the slow sweep of ``tests/naive.py`` (full energy evaluations,
  the same random stream, sequential sweeps in the colour-class order of the
  lowering) on integer data, where every delta is exact; the colouring itself
  (no coupling inside a class, every variable in one class).
* Heat bath: the generic kernel, which makes the same draws.
* Both: results independent of the thread count and the chunking, fields
  stored as integers only when that is exact, and the Boltzmann distribution
  at a fixed temperature.
"""

import itertools

import naive
import numba
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import combopt._driver
import combopt.solver
from combopt import Annealing, Domain, solve
from combopt._kernels import anneal2, flip_classes
from combopt.objectives import QuadraticObjective

PAIRS = [(0.0, 1.0), (-1.0, 1.0), (-2.0, 3.0)]


def _read_rng(seed, read=0):
    return int(np.random.SeedSequence(seed, spawn_key=(read, 1)).generate_state(1, np.uint64)[0])


def _generic(monkeypatch):
    """Make the solver use the generic annealing kernel."""
    init = combopt._driver._Runner.__init__

    def without_flips(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.anneal_flips = None

    monkeypatch.setattr(combopt._driver._Runner, "__init__", without_flips)


@st.composite
def integer_cases(draw):
    n = draw(st.integers(1, 8))
    Q = draw(hnp.arrays(np.float64, (n, n), elements=st.integers(-4, 4).map(float)))
    Q[draw(hnp.arrays(np.bool_, (n, n)))] = 0.0  # sparse rows half the time
    linear = draw(hnp.arrays(np.float64, (n,), elements=st.integers(-4, 4).map(float)))
    domains = [list(draw(st.sampled_from(PAIRS))) for _ in range(n)]
    x0 = [d[draw(st.integers(0, 1))] for d in domains]
    return Q, linear, domains, x0


@given(
    integer_cases(),
    st.sampled_from(["dense", "sparse"]),
    st.sampled_from(["sequential", "random"]),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_metropolis_makes_the_moves_of_the_slow_reference(
    case, representation, order, by_class, seed
):
    Q, linear, domains, x0 = case
    objective = QuadraticObjective(Q, linear, representation=representation)
    strategy = Annealing(beta_range=(0.05, 3.0), num_sweeps=12, rule="metropolis", order=order)
    with pytest.MonkeyPatch.context() as m:
        # Classes of any size swept a class at a time, or one attempt at a time.
        m.setattr(anneal2, "MIN_CLASS_SIZE", 1 if by_class else 10**9)
        result = solve(objective, Domain.per_variable(domains), strategy=strategy, initial=x0,
                       seed=seed, polish=False)

    def energy(x):
        return naive.quadratic_energy(Q, linear, 0.0, x)

    sequential = order == "sequential"
    energies, states, _ = naive.metropolis_two_valued(
        energy, domains, x0, _read_rng(seed), strategy.betas(0.05, 3.0), sequential,
        _sweep_order(objective, domains) if sequential else None,
    )
    assert result.trace[0].tolist() == energies
    # The saved best is the state after the first sweep that reached the lowest energy.
    best, best_x = energy(x0), np.array(x0)
    for e, x in zip(energies, states):
        if e < best - 1e-12 * max(1.0, abs(best)):
            best, best_x = e, x
    assert result.samples[0].tolist() == best_x.tolist()


@pytest.mark.parametrize("density", [0.05, 1.0])  # CSR rows and dense rows
@pytest.mark.parametrize("order", ["sequential", "random"])
@pytest.mark.parametrize("scale", [1, 5])  # small deltas: a table at every sweep; larger: cold ones
def test_heat_bath_makes_the_moves_of_the_generic_kernel(density, order, scale, monkeypatch):
    rng = np.random.default_rng(3)
    n = 120
    Q = rng.integers(-scale, scale + 1, size=(n, n)) * (rng.random((n, n)) < density)
    linear = rng.integers(-scale, scale + 1, size=n).astype(float)
    objective = QuadraticObjective(Q.astype(float), linear)
    kwargs = {"strategy": Annealing(num_sweeps=60, order=order), "num_reads": 2, "seed": 5,
              "polish": False}
    for domain in (Domain.binary(), Domain.spin(), Domain([-2.0, 3.0])):
        flips = solve(objective, domain, **kwargs)
        with monkeypatch.context() as m:
            _generic(m)
            generic = solve(objective, domain, **kwargs)
        assert np.array_equal(flips.samples, generic.samples)
        assert np.array_equal(flips.trace, generic.trace)
        assert flips.evaluations == generic.evaluations


@pytest.mark.parametrize("rule", ["metropolis", "heat-bath"])
@pytest.mark.parametrize("data", ["real", "integer"])  # float64 fields; tables (class sweeps)
def test_results_do_not_depend_on_the_thread_count_or_the_chunking(rule, data, monkeypatch):
    rng = np.random.default_rng(4)
    Q = sp.random(300, 300, density=0.02, random_state=4) * 7.3  # real data: float64 fields
    linear = rng.normal(size=300)
    if data == "integer":
        Q, linear = Q.ceil(), np.round(linear)
    objective = QuadraticObjective(Q, linear)
    kwargs = {"strategy": Annealing(rule=rule, num_sweeps=30), "num_reads": 3, "seed": 7}
    reference = solve(objective, Domain.spin(), **kwargs)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        single = solve(objective, Domain.spin(), **kwargs)
    finally:
        numba.set_num_threads(threads)
    monkeypatch.setattr(combopt._driver, "_CHUNK_SECONDS", 0.0)  # every chunk is one iteration
    chunked = solve(objective, Domain.spin(), **kwargs)
    for other in (single, chunked):
        assert np.array_equal(reference.samples, other.samples)
        assert np.array_equal(reference.trace, other.trace)
        assert reference.evaluations == other.evaluations


def _lowered(Q, linear, pairs, colour=False, representation="auto"):
    objective = QuadraticObjective(Q, linear, representation=representation)
    values, offsets = Domain.per_variable(pairs).lower(len(pairs))
    return anneal2.lower_flips(objective._lower()[0], values, offsets, colour)


def _sweep_order(objective, domains):
    """The variables in the order a sequential Metropolis sweep of the solver visits them."""
    values, offsets = Domain.per_variable(domains).lower(len(domains))
    return anneal2.lower_flips(objective._lower()[0], values, offsets, colour=True).order


def _integer_model(n, density, seed, scale=3):
    """A random sparse integer QUBO/Ising objective (CSR rows below 8% density)."""
    rng = np.random.default_rng(seed)
    Q = sp.random(n, n, density=density, random_state=seed,
                  data_rvs=lambda k: rng.integers(-scale, scale + 1, k).astype(float))
    linear = rng.integers(-scale, scale + 1, n).astype(float)
    return QuadraticObjective(Q, linear), Q.toarray(), linear


@given(
    st.integers(1, 40),
    st.floats(0.0, 1.0),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_colour_classes_partition_the_variables_into_independent_sets(n, density, dense, seed):
    rng = np.random.default_rng(seed)
    A = np.triu(rng.random((n, n)) < density, 1)
    A = (A | A.T).astype(np.int8)
    if dense:
        order, starts = flip_classes.colour_classes(A)
    else:
        np.fill_diagonal(A, rng.integers(0, 2, n))  # a stored diagonal entry is no edge
        csr = sp.csr_array(A)
        order, starts = flip_classes.colour_classes((csr.indptr, csr.indices))
        np.fill_diagonal(A, 0)
    assert sorted(order.tolist()) == list(range(n))
    assert starts[0] == 0 and starts[-1] == n and np.all(np.diff(starts) > 0)
    for c in range(starts.shape[0] - 1):
        members = order[starts[c]:starts[c + 1]]
        assert np.all(np.diff(members) > 0)
        assert not A[np.ix_(members, members)].any()
    # Greedy: a variable's class is the smallest none of its earlier-coloured neighbours hold,
    # so it has a neighbour in every lower class, and there are at most max degree + 1 classes.
    colour = np.empty(n, dtype=np.int64)
    for c in range(starts.shape[0] - 1):
        colour[order[starts[c]:starts[c + 1]]] = c
    assert starts.shape[0] - 1 <= A.sum(axis=1).max(initial=0) + 1
    for v in range(n):
        assert set(colour[A[v] != 0]) >= set(range(colour[v]))


@pytest.mark.parametrize(
    ("n", "density", "scale"), [(2600, 0.0005, 3), (600, 0.1, 50)]  # CSR rows, dense rows
)
@pytest.mark.parametrize("domain", [[0.0, 1.0], [-1.0, 1.0]])
def test_class_sweeps_make_the_moves_of_the_slow_reference_on_large_classes(
    n, density, scale, domain
):
    # n = 2600 at 0.05% density: classes of 1167, 1060, 365 and 8, two longer than a poll
    # block; n = 600 at 10%: dense rows, about 25 classes (the rows four at a time), and
    # deltas too large for a table in the hot sweeps (the exp test).
    objective, Q, linear = _integer_model(n, density, 11, scale)
    domains = [domain] * n
    order = _sweep_order(objective, domains)
    values, offsets = Domain.per_variable(domains).lower(n)
    lowered = anneal2.lower_flips(objective._lower()[0], values, offsets, colour=True)
    assert lowered.starts.shape[0] > 1
    assert isinstance(lowered.couplings, anneal2.FlipDense) == (density == 0.1)
    x0 = np.random.default_rng(1).choice(domain, (3, n))
    strategy = Annealing(beta_range=(0.1, 2.0), num_sweeps=3, rule="metropolis")
    result = solve(objective, Domain.per_variable(domains), strategy=strategy, initial=x0, seed=9,
                   polish=False, num_reads=3)  # three reads on the thread pool
    sparse_Q = sp.csr_array(Q)

    def energy(x):  # exact on integer data: every partial sum is a small integer
        return float(x @ (sparse_Q @ x) + linear @ x)

    for r in range(3):
        energies, states, _ = naive.metropolis_two_valued(
            energy, domains, x0[r], _read_rng(9, r), strategy.betas(0.1, 2.0), order=order
        )
        assert result.trace[r].tolist() == energies
        assert result.samples[r].tolist() == states[int(np.argmin(energies))].tolist()


def test_class_sweeps_stop_right_after_the_flip_that_reaches_the_target():
    objective, Q, linear = _integer_model(1500, 0.002, 12)
    domains = [[-1.0, 1.0]] * 1500
    order = _sweep_order(objective, domains)
    x0 = np.ones(1500)
    strategy = Annealing(beta_range=(0.5, 3.0), num_sweeps=6, rule="metropolis")
    betas = strategy.betas(0.5, 3.0)
    sparse_Q = sp.csr_array(Q)

    def energy(x):
        return float(x @ (sparse_Q @ x) + linear @ x)

    full, _, _ = naive.metropolis_two_valued(energy, domains, x0, _read_rng(4), betas, order=order)
    target = (full[2] + full[3]) / 2  # reached mid-sweep, in the fourth sweep
    energies, states, attempts = naive.metropolis_two_valued(
        energy, domains, x0, _read_rng(4), betas, order=order, target=target
    )
    assert 3 * 1500 < attempts < 4 * 1500
    for chunk in (None, 0.0):  # one call, and a call per sweep
        with pytest.MonkeyPatch.context() as m:
            if chunk is not None:
                m.setattr(combopt._driver, "_CHUNK_SECONDS", chunk)
            result = solve(objective, Domain.spin(), strategy=strategy, initial=x0, seed=4,
                           polish=False, target_energy=target)
        assert result.evaluations == attempts
        assert result.energies[0] == energies[-1] <= target
        assert result.samples[0].tolist() == states[-1].tolist()


def test_fields_are_integers_only_when_every_sum_is_an_exact_integer():
    Q = np.array([[1.0, 3.0], [0.0, -2.0]])
    exact = _lowered(Q, [1.0, 0.0], [[0.0, 1.0], [-1.0, 1.0]])
    assert exact.integral and exact.dtype is np.int16
    assert exact.couplings.couplings.dtype == np.int8
    # K = S w_i w_j = 3 * 1 * 2; L_i = w_i (c_i + sum_j S_ij a_j + Q_ii (2 a_i + w_i)):
    # L_0 = 1 (1 - 3 + 1), L_1 = 2 (0 + 0 - 2 * 0)
    assert exact.couplings.couplings.tolist() == [[0, 6], [6, 0]]
    assert exact.linear.tolist() == [-1.0, 0.0]
    assert exact.bound == 0.0 + 3.0 * 2.0 * 2.0  # max_i |L_i| + sum_j |S_ij| w_i max w
    wide = _lowered(Q * 100, [1.0, 0.0], [[0.0, 1.0], [-1.0, 1.0]])
    assert wide.dtype is np.int32 and wide.couplings.couplings.dtype == np.int32
    deep = _lowered(Q * 21, [1.0, 0.0], [[0.0, 1.0], [-1.0, 1.0]])  # |K| = 126, bound 252
    assert deep.dtype is np.int16 and deep.couplings.couplings.dtype == np.int8
    star = np.zeros((300, 300))
    star[0, 1:] = 127.0  # bound 299 * 127 >= 2**15: int32 fields, int8 couplings
    tall = _lowered(star, np.zeros(300), [[0.0, 1.0]] * 300)
    assert tall.dtype is np.int32 and tall.couplings.data.dtype == np.int8
    large = _lowered(Q * 2.0**29, [1.0, 0.0], [[0.0, 1.0], [-1.0, 1.0]])
    assert large.integral and large.dtype is np.float64  # bound 12 * 2**29 >= 2**31
    real = _lowered(Q, [0.5, 0.0], [[0.0, 1.0], [0.0, 1.0]])
    assert not real.integral and real.dtype is np.float64


@pytest.mark.parametrize("density", [0.03, 0.5])  # CSR rows and dense rows
def test_a_coloured_lowering_relabels_the_couplings_class_by_class(density):
    _, Q, linear = _integer_model(200, density, 5)
    pairs = [[0.0, 1.0]] * 200
    plain, coloured = _lowered(Q, linear, pairs), _lowered(Q, linear, pairs, colour=True)
    assert plain.order.tolist() == list(range(200)) and plain.starts.size == 0
    order = coloured.order

    def matrix(model):
        if isinstance(model.couplings, anneal2.FlipDense):
            return model.couplings.couplings
        K = model.couplings
        return sp.csr_array((K.data, K.indices, K.indptr), shape=(200, 200)).toarray()

    assert np.array_equal(matrix(coloured), matrix(plain)[np.ix_(order, order)])
    assert np.array_equal(coloured.linear, plain.linear[order])
    classes, starts = flip_classes.colour_classes(matrix(plain))
    assert np.array_equal(order, classes)
    # Sparse couplings sweep by classes (a mean class size of 25); near-dense ones do not.
    short = anneal2.MIN_CLASS_SIZE * (starts.shape[0] - 1) > 200
    assert coloured.starts.tolist() == ([] if short else starts.tolist())
    assert short == (density == 0.5)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(anneal2, "MAX_CLASS_N", 199)  # large problems keep their own order
        large = _lowered(Q, linear, pairs, colour=True)
    assert large.order.tolist() == list(range(200)) and large.starts.size == 0


def test_dense_rows_from_the_density_threshold_up():
    pairs = [[0.0, 1.0]] * 100
    full = _lowered(np.triu(np.ones((100, 100)), 1), np.zeros(100), pairs)
    chain = _lowered(np.diag(np.ones(99), 1), np.zeros(100), pairs)  # 2% of the pairs
    assert isinstance(full.couplings, anneal2.FlipDense)
    assert isinstance(chain.couplings, anneal2.FlipSparse)
    assert chain.couplings.indices.dtype == np.int32 and chain.couplings.data.dtype == np.int8


@pytest.mark.parametrize("rule", ["metropolis", "heat-bath"])
def test_a_fixed_temperature_samples_the_boltzmann_distribution(rule):
    Q = np.array([[0, 1, -2, 0], [0, 0, 1, 1], [0, 0, 0, -1], [0, 0, 0, 0]], dtype=float)
    linear = np.array([0.5, -1.0, 0.0, 1.0])
    beta = 0.7
    objective = QuadraticObjective(Q, linear)
    result = solve(objective, Domain.spin(), seed=2, polish=False, max_iterations=40_000,
                   strategy=Annealing(beta_range=(beta, beta), num_sweeps=40_000, rule=rule))
    states = np.array(list(itertools.product([-1.0, 1.0], repeat=4)))
    levels, weights = np.unique(objective.energy(states), return_counts=True)
    exact = weights * np.exp(-beta * levels)
    exact /= exact.sum()
    seen = np.array([np.mean(result.trace[0] == e) for e in levels])
    assert seen.sum() == pytest.approx(1.0)
    assert 0.5 * np.abs(seen - exact).sum() < 0.02  # total variation (seeded: deterministic)
