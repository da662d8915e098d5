"""The tabu kernels make the moves of the naive tabu search, move for move.

:class:`naive_search.TabuSearch` recomputes every candidate's energy from scratch and
states the rule plainly (tenure, aspiration, uniform ties by reservoir
sampling). The kernels run one iteration (``n`` moves) per call on a one-read
:class:`ReadState` built as the solver builds it, with restarts off, on an
objective wrapped in the recording kind of ``kernel_harness``, which logs the
assignment after every move. On integer data every delta is exact, so the two
must agree exactly: the same assignment after every move, the same move
counter, tabu list, energies, counters and random state after every iteration.
"""

from functools import partial

import naive
import naive_search
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_harness import recorded, uncached_strategy_kernels
from scipy import stats

from combopt import Domain
from combopt._kernels import strategies as kernels
from combopt.objectives import LeastSquaresObjective, QuadraticObjective
from combopt.solver import _new_state


def _tabu_kernel(kernel, kept_deltas=False):
    def call(problem, values, offsets, state, n_iters, tenure, trace):
        reads, n = state.x_idx.shape
        kept = (np.zeros((reads, n)), np.zeros((reads, n)), np.zeros(reads, np.int64))
        kernel(problem, values, offsets, state, 0, reads, n_iters, tenure, 0, 0,
               -np.inf, 0, trace, *(kept if kept_deltas else ()))

    return call


#: Tabu kernels under test: ``(name, call, two_valued_only)``; ``call(problem,
#: values, offsets, state, n_iters, tenure, trace)`` runs ``n_iters`` iterations
#: of every read of ``state`` with restarts off. Add a new kernel here.
TABU_KERNELS = [
    ("run_tabu", _tabu_kernel(kernels.run_tabu), False),
    ("run_tabu_flips", _tabu_kernel(kernels.run_tabu_flips, kept_deltas=True), True),
]
KERNEL_IDS = [k[0] for k in TABU_KERNELS]


@pytest.fixture(scope="module", autouse=True)
def _no_cache_entries_for_test_types():
    with uncached_strategy_kernels():
        yield


DOMAINS = {
    "binary": [[0.0, 1.0]],
    "spin": [[-1.0, 1.0]],
    "ternary": [[-1.0, 0.0, 1.0]],
    "mixed": [[0.0, 1.0], [-2.0, 0.0, 1.0, 3.0], [-1.0, 1.0]],  # cycled over the variables
}


@st.composite
def tabu_cases(draw, two_valued, kinds):
    n = draw(st.integers(2, 7))
    names = ["binary", "spin"] if two_valued else list(DOMAINS)
    name = draw(st.sampled_from(names))
    domains = [DOMAINS[name][i % len(DOMAINS[name])] for i in range(n)]
    kind = draw(st.sampled_from([k for k in kinds if not (two_valued and k == "lstsq")]))
    # Small integers: many exact ties, so the tie-breaking is exercised at most moves.
    ints = st.integers(-2, 2)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "lstsq":
        # N = 2 rows keep the mean (a division by 2) exact in floating point.
        X = rng.integers(-2, 3, size=(2, n)).astype(float)
        Y = rng.integers(-2, 3, size=2).astype(float)
        objective = LeastSquaresObjective(X, Y)
        energy = partial(naive.least_squares_energy, X, Y)
    else:
        Q = rng.integers(-2, 3, size=(n, n)).astype(float)
        Q[rng.random((n, n)) < 0.3] = 0.0
        c = np.array([draw(ints) for _ in range(n)], dtype=float)
        objective = QuadraticObjective(Q, c, 1.0, representation=kind)
        energy = partial(naive.quadratic_energy, Q, c, 1.0)
    x0 = [draw(st.integers(0, len(d) - 1)) for d in domains]
    tenure = draw(st.integers(0, n))
    iterations = draw(st.integers(1, 5))
    return objective, energy, domains, x0, tenure, iterations, seed


def _lowered(objective, domains, x0, seed):
    values, offsets = Domain.per_variable(domains).lower(len(domains))
    problem, length = objective._lower()
    state = _new_state(np.array([x0], dtype=np.int64), length, seed)
    return values, offsets, problem, state


def _point(domains, x_idx):
    return [d[k] for d, k in zip(domains, x_idx)]


def _compare_move_for_move(call, case):
    objective, energy, domains, x0, tenure, iterations, seed = case
    n = len(domains)
    values, offsets, inner, state = _lowered(objective, domains, x0, seed)
    problem = recorded(inner, n, iterations * n)
    kernels.initialize(problem, values, offsets, state, 0, 1)
    ref = naive_search.TabuSearch(energy, domains, x0, tenure, int(state.rng[0]))
    assert state.energy[0] == ref.energy
    trace = np.zeros((1, 1))
    at_best = {tuple(ref.x)}  # every assignment visited at the best energy
    for _ in range(iterations):
        done = int(problem.count[0])
        call(problem, values, offsets, state, 1, tenure, trace)
        made = ref.iteration()
        logged = range(done, int(problem.count[0]))
        # Every move and the assignment after it (no move is logged when all are tabu).
        assert [tuple(problem.moves[t]) for t in logged] == [move for move, _ in made]
        assert [list(problem.states[t]) for t in logged] == [x for _, x in made]
        assert list(state.x_idx[0]) == ref.x
        best = ref.best
        at_best = {x for x in at_best if energy(_point(domains, x)) == best}
        at_best.update(tuple(x) for _, x in made if energy(_point(domains, x)) == best)
        # The bookkeeping after every iteration.
        assert state.clock[0] == ref.clock
        assert list(state.tabu_until[0]) == ref.tabu_until
        assert state.energy[0] == ref.energy == trace[0, 0]
        assert state.best_energy[0] == ref.best
        assert state.moves_since_best[0] == ref.moves_since_best
        assert state.stall[0] == ref.stall
        assert state.evaluations[0] == ref.evaluations
        assert int(state.rng[0]) == ref.rng.state  # the same random numbers drawn
    kernels.finish(problem, values, offsets, state, 0, 1, False, 0)
    # The kernels copy the best assignment lazily, before the first uphill move
    # that leaves it: the saved one is the last of a plateau at the best energy.
    assert tuple(state.best_idx[0]) in at_best


@pytest.mark.parametrize("name,call,two_valued", TABU_KERNELS, ids=KERNEL_IDS)
@settings(max_examples=40)
@given(data=st.data())
def test_tabu_kernel_moves_equal_the_naive_tabu_search(name, call, two_valued, data):
    # Dense couplings only: each objective kind costs a ~10 s compile (the recording
    # kind cannot use numba's cache); the other kinds are the slow test below.
    _compare_move_for_move(call, data.draw(tabu_cases(two_valued, ["dense"])))


@pytest.mark.slow
@pytest.mark.parametrize("name,call,two_valued", TABU_KERNELS, ids=KERNEL_IDS)
@settings(max_examples=100)
@given(data=st.data())
def test_tabu_kernel_moves_on_every_kind(name, call, two_valued, data):
    _compare_move_for_move(call, data.draw(tabu_cases(two_valued, ["dense", "sparse", "lstsq"])))


def test_every_move_tabu_leaves_the_state_and_advances_the_clock():
    # One variable, tenure 3: after its move it is tabu for 3 moves and no move
    # aspirates (the other value is the old, not better, energy).
    objective = QuadraticObjective(np.zeros((1, 1)), [1.0], representation="dense")
    energy = partial(naive.quadratic_energy, [[0.0]], [1.0], 0.0)
    for name, call, _ in TABU_KERNELS:
        values, offsets, inner, state = _lowered(objective, [[0.0, 1.0]], [1], 3)
        problem = recorded(inner, 1, 10)
        kernels.initialize(problem, values, offsets, state, 0, 1)
        ref = naive_search.TabuSearch(energy, [[0.0, 1.0]], [1], 3, int(state.rng[0]))
        for _ in range(6):
            call(problem, values, offsets, state, 1, 3, np.zeros((1, 1)))
            ref.iteration()
        assert [tuple(m) for m in problem.moves[: problem.count[0]]] == [(0, 0), (0, 1)], name
        assert state.clock[0] == ref.clock == 6 and list(state.tabu_until[0]) == ref.tabu_until


@pytest.mark.parametrize("name,call,two_valued", TABU_KERNELS, ids=KERNEL_IDS)
def test_tied_moves_are_chosen_uniformly(name, call, two_valued):
    """On a flat landscape every move ties; with tenure 0 each move is a uniform choice.

    Over 4 binary variables and 20,000 reads x 4 moves, the moved variable is
    tested against the uniform distribution (chi-square, p > 1e-6). A rule that
    kept the first or the last tied move would put every move on one variable.
    """
    n, reads = 4, 20_000
    objective = QuadraticObjective(np.zeros((n, n)), representation="dense")
    values, offsets = Domain.binary().lower(n)
    inner, length = objective._lower()
    state = _new_state(np.zeros((reads, n), dtype=np.int64), length, 99)
    problem = recorded(inner, n, reads * n)
    kernels.initialize(problem, values, offsets, state, 0, reads)
    call(problem, values, offsets, state, 1, 0, np.zeros((reads, 1)))
    counts = np.bincount(problem.moves[:, 0], minlength=n)
    assert counts.sum() == reads * n
    assert stats.chisquare(counts).pvalue > 1e-6


def test_generic_kernel_ties_over_many_values_are_uniform():
    # Two variables of four values: 6 tied moves at every step, cells (variable, value offset).
    n, reads = 2, 20_000
    objective = QuadraticObjective(np.zeros((n, n)), representation="dense")
    values, offsets = Domain([-1.0, 0.0, 1.0, 2.0]).lower(n)
    inner, length = objective._lower()
    state = _new_state(np.zeros((reads, n), dtype=np.int64), length, 5)
    problem = recorded(inner, n, reads * n)
    kernels.initialize(problem, values, offsets, state, 0, reads)
    TABU_KERNELS[0][1](problem, values, offsets, state, 1, 0, np.zeros((reads, 1)))
    before = np.vstack([np.zeros((1, n), dtype=np.int64), problem.states[:-1]])
    before[::n] = 0  # every read starts at index 0
    i, k = problem.moves[:, 0], problem.moves[:, 1]
    cells = i * 3 + (k - before[np.arange(before.shape[0]), i]) % 4 - 1
    counts = np.bincount(cells, minlength=6)
    assert counts.sum() == reads * n
    assert stats.chisquare(counts).pvalue > 1e-6

