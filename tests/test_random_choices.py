"""The random choices of the kernels draw from the distributions they claim.

Over many draws with a fixed seed, the frequencies of each choice are compared
with the reference probabilities of ``tests/naive.py`` by Pearson's chi-square
test. A case fails when its p-value is below ``P_MIN = 1e-6``: a correct
implementation fails a given case with probability 1e-6 (under 1e-4 over the
whole file), and the fixed seeds make every run give the same verdict.

A chi-square test is only worth something if a wrong rule would fail it. For
every case the same counts are also tested against the probabilities of a
plausible mistake, the acceptance weight ``exp(-beta * delta / 2)`` (a
temperature off by a factor of two), and must reject it at ``P_MIN`` too.
:func:`_power` computes, before looking at the counts, the probability that
the test rejects that mistake at this sample size (noncentral chi-square with
``lambda = draws * sum (p_wrong - p)^2 / p``); it is asserted to be above
``1 - P_MIN``, so the choice of ``DRAWS`` is justified by the test itself.
These checks call the choice functions directly and the annealing kernel on
one variable, with the solver's closing polish out of the way, so a wrong
acceptance probability cannot hide. (Checked by hand: with the weight halved in
the binary heat bath, the general heat bath or the Metropolis rule, every case
of that rule here fails.)
"""

import math

import naive
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import njit
from scipy import stats

from combopt import Domain, solve
from combopt._kernels import strategies as kernels
from combopt._kernels.rng import next_below, next_float, next_u64, random_indices
from combopt._kernels.strategies import _heat_bath_choice, _metropolis_choice
from combopt.objectives import QuadraticObjective
from combopt.solver import _new_state

P_MIN = 1e-6
DRAWS = 1_000_000


def _run_anneal(problem, values, offsets, st, betas, metropolis, trace):
    kernels.run_anneal(
        problem, values, offsets, st, 0, 1, betas, True, metropolis, -np.inf, 0, trace
    )


#: Annealing kernels checked through a one-variable problem: ``(name, call)``,
#: ``call(problem, values, offsets, state, betas, metropolis, trace)`` runs one
#: sweep per entry of ``betas`` on read 0 and writes its energy after each sweep
#: to ``trace[0]``. A new kernel is checked by adding its adapter here (with the
#: domain sizes it supports).
ANNEAL_KERNELS = [("run_anneal", _run_anneal, (2, 3, 4))]


# ------------------------------------------------------------------ the statistics


def _chi_square_p(counts, p):
    """Pearson's p-value of ``counts`` under probabilities ``p``.

    Values of probability 0 must never be drawn; they are left out of the
    statistic (and asserted to have count 0).
    """
    counts = np.asarray(counts)
    p = np.asarray(p, dtype=float)
    impossible = p == 0.0
    assert np.all(counts[impossible] == 0), f"drew an impossible value: {counts}, {p}"
    counts, p = counts[~impossible], p[~impossible]
    if counts.size == 1:
        return 1.0
    return stats.chisquare(counts, counts.sum() * p / p.sum()).pvalue


def _power(p, p_wrong, draws):
    """Probability that the chi-square test at ``P_MIN`` rejects when the truth is ``p_wrong``."""
    keep = np.asarray(p) > 0
    df = int(keep.sum()) - 1
    noncentrality = draws * np.sum((p_wrong[keep] - p[keep]) ** 2 / p[keep])
    critical = stats.chi2.isf(P_MIN, df)
    return stats.ncx2.sf(critical, df, noncentrality)


def _check(counts, p, p_wrong):
    """``counts`` fit ``p``; and they reject ``p_wrong``, which the sample size guarantees."""
    draws = int(np.sum(counts))
    assert _chi_square_p(counts, p) > P_MIN, (counts, draws * p)
    assert _power(p, p_wrong, draws) > 1.0 - P_MIN
    assert _chi_square_p(counts, p_wrong) < P_MIN


# ------------------------------------------------------------------ the choice functions


@njit
def _heat_bath_counts(out, m, current, beta, seed, draws):
    counts = np.zeros(m, dtype=np.int64)
    rng = np.uint64(seed)
    for _ in range(draws):
        rng, k = _heat_bath_choice(out, m, current, beta, rng)
        counts[k] += 1
    return counts


@njit
def _metropolis_counts(out, m, current, beta, seed, draws):
    counts = np.zeros(m, dtype=np.int64)
    rng = np.uint64(seed)
    for _ in range(draws):
        rng, k = _metropolis_choice(out, m, current, beta, rng)
        counts[k] += 1
    return counts


def _case_id(case):
    deltas, current, beta = case
    return f"m{len(deltas)}-from{current}-beta{beta}-" + "_".join(f"{d:g}" for d in deltas)


def _deltas_buffer(deltas):
    """The kernels' ``out`` row: the deltas, then junk the choice must not read."""
    return np.array([*deltas, -1e9, 1e9], dtype=float)


# Each case: (deltas, current value, beta); deltas[current] == 0 as obj_deltas guarantees.
# Downhill, uphill and level moves, at cold, warm and hot betas; every probability is
# at least ~1e-3, so every cell expects hundreds of draws.
BINARY_CASES = [
    ([0.0, 1.5], 0, 0.1),
    ([0.0, 1.5], 0, 1.0),
    ([0.0, 1.5], 0, 3.0),
    ([-0.7, 0.0], 1, 0.1),
    ([-0.7, 0.0], 1, 2.0),
    ([0.0, 2.5], 0, 2.0),
    ([4.0, 0.0], 1, 0.5),
]
MULTI_CASES = [
    ([0.0, 0.5, -1.0], 0, 0.3),
    ([0.0, 0.5, -1.0], 0, 1.5),
    ([1.0, -0.5, 0.0, 2.0], 2, 1.0),
    ([0.0, 0.5, -1.0, 2.0, 0.5], 0, 2.0),
    ([2.0, 1.0, 3.0, 0.0, 1.5], 3, 0.7),
]


@pytest.mark.parametrize(
    "deltas,current,beta", BINARY_CASES + MULTI_CASES, ids=map(_case_id, BINARY_CASES + MULTI_CASES)
)
def test_heat_bath_frequencies_follow_the_boltzmann_weights(deltas, current, beta):
    m = len(deltas)  # m == 2 takes the binary fast path
    seed = 1000 + 17 * len(deltas) + int(100 * beta)
    counts = _heat_bath_counts(_deltas_buffer(deltas), m, current, beta, seed, DRAWS)
    p = naive.heat_bath_probabilities(deltas, beta)
    _check(counts, p, naive.heat_bath_probabilities(deltas, beta / 2))


UPHILL_CASES = [c for c in BINARY_CASES + MULTI_CASES if max(c[0]) > 0.0]  # a move to weigh


@pytest.mark.parametrize("deltas,current,beta", UPHILL_CASES, ids=map(_case_id, UPHILL_CASES))
def test_metropolis_frequencies_follow_the_acceptance_rule(deltas, current, beta):
    m = len(deltas)
    seed = 2000 + 17 * len(deltas) + int(100 * beta)
    counts = _metropolis_counts(_deltas_buffer(deltas), m, current, beta, seed, DRAWS)
    p = naive.metropolis_probabilities(deltas, current, beta)
    _check(counts, p, naive.metropolis_probabilities(deltas, current, beta / 2))


@pytest.mark.parametrize("choose", [_heat_bath_counts, _metropolis_counts])
def test_choices_without_randomness(choose):
    """Far downhill or far uphill (beta * delta beyond 40), and beta = inf, are deterministic."""
    assert choose(_deltas_buffer([0.0, -50.0]), 2, 0, 1.0, 1, 1000).tolist() == [0, 1000]
    assert choose(_deltas_buffer([0.0, 50.0]), 2, 0, 1.0, 1, 1000).tolist() == [1000, 0]
    # beta = inf is the paper's rule: the lowest delta, the last of equal ones in domain order.
    assert choose(_deltas_buffer([0.0, -1.0, -1.0]), 3, 0, np.inf, 1, 10).tolist() == [0, 0, 10]
    assert choose(_deltas_buffer([0.0]), 1, 0, 1.0, 1, 10).tolist() == [10]


def test_metropolis_downhill_moves_are_always_accepted():
    # Proposals are uniform over the other values; none is ever refused.
    counts = _metropolis_counts(_deltas_buffer([0.0, -0.1, -2.0, -0.5]), 4, 0, 1.0, 5, 300_000)
    assert counts[0] == 0
    assert _chi_square_p(counts, [0.0, 1 / 3, 1 / 3, 1 / 3]) > P_MIN


# ------------------------------------------------------------------ through the kernels


def _one_variable_chain(call, energies, beta, metropolis, sweeps, seed):
    """Run an annealing kernel on one variable whose values have these energies.

    Returns the value index after each sweep (the energies are distinct) and
    the starting index.
    """
    m = len(energies)
    objective = QuadraticObjective(np.zeros((1, 1)), [1.0])  # energy = x
    values, offsets = Domain(list(energies)).lower(1)
    problem, length = objective._lower()
    state = _new_state(np.zeros((1, 1), dtype=np.int64), length, seed)
    kernels.initialize(problem, values, offsets, state, 0, 1)
    trace = np.full((1, sweeps), np.nan)
    call(problem, values, offsets, state, np.full(sweeps, beta), metropolis, trace)
    order = np.argsort(values)
    visited = order[np.searchsorted(values[order], trace[0])]
    assert np.array_equal(values[visited], trace[0]) and m == values.size
    return visited


@pytest.mark.parametrize("name,call,sizes", ANNEAL_KERNELS, ids=[k[0] for k in ANNEAL_KERNELS])
@pytest.mark.parametrize("rule", ["heat_bath", "metropolis"])
@pytest.mark.parametrize(
    "energies,beta",
    [([0.0, 1.0], 1.2), ([0.0, -0.8], 0.5), ([0.0, 1.0, -0.5], 1.0), ([0.5, -1.0, 0.0, 1.5], 0.8)],
    ids=["m2-uphill", "m2-downhill", "m3", "m4"],
)
def test_annealing_kernel_transitions_follow_the_rule(name, call, sizes, rule, energies, beta):
    """From each value, the next sweep's value is drawn from the rule's distribution.

    A sweep of a one-variable problem is one step of a Markov chain; given the
    value before a step, the value after it is an independent draw, so the
    transitions out of each value are tested as a multinomial sample.
    """
    if len(energies) not in sizes:
        pytest.skip(f"{name} does not run domains of {len(energies)} values")
    metropolis = rule == "metropolis"
    sweeps = 400_000
    visited = _one_variable_chain(call, energies, beta, metropolis, sweeps, seed=len(energies))
    e = np.array(energies)
    # The domain is sorted when lowered; index the energies the same way.
    e = np.sort(e)
    previous = np.concatenate([[0], visited[:-1]])
    for a in range(len(e)):
        counts = np.bincount(visited[previous == a], minlength=len(e))
        deltas = list(e - e[a])
        if metropolis:
            p = naive.metropolis_probabilities(deltas, a, beta)
            wrong = naive.metropolis_probabilities(deltas, a, beta / 2)
        else:
            p = naive.heat_bath_probabilities(deltas, beta)
            wrong = naive.heat_bath_probabilities(deltas, beta / 2)
        if np.allclose(p, wrong):  # e.g. Metropolis from the top value: every move downhill
            assert _chi_square_p(counts, p) > P_MIN
        else:
            _check(counts, p, wrong)


# ------------------------------------------------------------------ the generator


@njit
def _below_draws(n, seed, draws):
    out = np.empty(draws, dtype=np.int64)
    rng = np.uint64(seed)
    for t in range(draws):
        rng, out[t] = next_below(rng, n)
    return out


@njit
def _float_draws(seed, draws):
    out = np.empty(draws)
    rng = np.uint64(seed)
    for t in range(draws):
        rng, out[t] = next_float(rng)
    return out


@njit
def _stream(seed, draws):
    """(u64, float, below(1000)) from three copies of the same state, ``draws`` steps each."""
    a = np.empty(draws, dtype=np.uint64)
    f = np.empty(draws)
    b = np.empty(draws, dtype=np.int64)
    s1 = s2 = s3 = np.uint64(seed)
    for t in range(draws):
        s1, a[t] = next_u64(s1)
        s2, f[t] = next_float(s2)
        s3, b[t] = next_below(s3, 1000)
    return a, f, b


@given(st.integers(0, 2**64 - 1))
def test_generator_equals_the_reference_splitmix64(seed):
    a, f, b = _stream(np.uint64(seed), 20)
    ref = naive.SplitMix64(seed)
    assert [int(v) for v in a] == [ref.next_u64() for _ in range(20)]
    ref = naive.SplitMix64(seed)
    assert f.tolist() == [ref.uniform() for _ in range(20)]
    ref = naive.SplitMix64(seed)
    assert b.tolist() == [ref.below(1000) for _ in range(20)]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 1000])
def test_coordinate_choice_is_uniform(n):
    # At 10^6 draws the test rejects a value drawn 2% too often when n = 7
    # (noncentrality 10^6 / 7 * 0.02^2 = 57 against a critical value of 24).
    draws = _below_draws(n, 77 + n, DRAWS)
    assert draws.min() >= 0 and draws.max() < n
    counts = np.bincount(draws, minlength=n)
    assert _chi_square_p(counts, np.full(n, 1.0 / n)) > P_MIN
    if n > 1:  # consecutive draws are independent: pairs are uniform over n^2 cells
        width = min(n, 10)
        pairs = draws[:-1] % width * width + draws[1:] % width
        cells = np.bincount(pairs, minlength=width * width)
        expected = np.outer(*(2 * [np.bincount(np.arange(n) % width) / n])).ravel()
        assert _chi_square_p(cells, expected) > P_MIN


def test_uniform_floats():
    u = _float_draws(12345, DRAWS)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert np.all(u * 2.0**53 == np.floor(u * 2.0**53))  # 53 random bits, exactly
    counts = np.histogram(u, bins=1000, range=(0.0, 1.0))[0]
    assert _chi_square_p(counts, np.full(1000, 1e-3)) > P_MIN
    assert stats.kstest(u, "uniform").pvalue > P_MIN
    # Successive floats are uncorrelated (the standard error of the correlation is 1e-3).
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 5.3e-3  # 5.3 sigma: p < 1e-7
    assert math.isclose(u.mean(), 0.5, abs_tol=5.3 * math.sqrt(1 / 12 / DRAWS))


@given(st.lists(st.integers(1, 9), min_size=1, max_size=12), st.integers(0, 2**64 - 1))
def test_starting_points_equal_the_reference(sizes, seed):
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    rng = np.array([seed, seed ^ 0xABCDEF], dtype=np.uint64)
    x_idx = np.zeros((2, len(sizes)), dtype=np.int64)
    random_indices(offsets, rng, x_idx)
    for r in range(2):
        expected, state = naive.random_indices(sizes, seed if r == 0 else seed ^ 0xABCDEF)
        assert x_idx[r].tolist() == expected and int(rng[r]) == state


def test_starting_points_are_uniform_and_those_of_solve():
    domain = Domain.per_variable([[0, 1], [-1, 0, 1], [0, 1, 2, 3, 4]])
    values, offsets = domain.lower(3)
    result = solve(QuadraticObjective(np.zeros((3, 3))), domain, strategy="paper", num_reads=4,
                   seed=5, max_iterations=0, polish=False)
    state = _new_state(np.zeros((4, 3), dtype=np.int64), 0, 5)
    random_indices(offsets, state.rng, state.x_idx)
    assert result.samples.tolist() == values[offsets[:-1] + state.x_idx].tolist()
    # 10^5 reads: each variable's values against uniform.
    state = _new_state(np.zeros((100_000, 3), dtype=np.int64), 0, 11)
    random_indices(offsets, state.rng, state.x_idx)
    for column, m in enumerate((2, 3, 5)):
        counts = np.bincount(state.x_idx[:, column], minlength=m)
        assert stats.chisquare(counts).pvalue > P_MIN
