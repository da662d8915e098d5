"""The annealing kernels make the moves of the naive annealing, move for move.

:class:`naive_search.Annealing` recomputes every energy from scratch and draws each
value from the reference distributions of ``tests/naive.py`` with the same
random numbers as the kernels. The kernels run one sweep per call on a
one-read :class:`ReadState` built as the solver builds it, on an objective
wrapped in the recording kind of ``kernel_harness``. On integer data the
deltas are exact and the two must make the same moves; only a uniform number
falling within one rounding of a probability (about 1e-16 per draw) could
separate them. (That the probabilities themselves are right is the business of
``test_random_choices.py``.)
"""

from functools import partial

import naive
import naive_search
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_harness import recorded, uncached_strategy_kernels

from combopt import Domain
from combopt._kernels import strategies as kernels
from combopt.objectives import QuadraticObjective
from combopt.solver import _new_state


def _run_anneal(problem, values, offsets, state, beta, sequential, metropolis, trace):
    kernels.run_anneal(problem, values, offsets, state, 0, 1, np.array([beta]), sequential,
                       metropolis, -np.inf, 0, trace)


#: Annealing kernels under test: ``(name, call, two_valued_only)``; ``call(problem,
#: values, offsets, state, beta, sequential, metropolis, trace)`` runs one sweep of
#: read 0 at ``beta``. Add a new kernel here.
ANNEAL_KERNELS = [("run_anneal", _run_anneal, False)]


@pytest.fixture(scope="module", autouse=True)
def _no_cache_entries_for_test_types():
    with uncached_strategy_kernels():
        yield


DOMAINS = {
    "binary": [[0.0, 1.0]],
    "spin": [[-1.0, 1.0]],
    "ternary": [[-1.0, 0.0, 1.0]],
    "mixed": [[0.0, 1.0], [-2.0, 0.0, 1.0, 3.0], [5.0]],  # a one-value variable too
}


@st.composite
def anneal_cases(draw, two_valued):
    n = draw(st.integers(1, 7))
    name = draw(st.sampled_from(["binary", "spin"] if two_valued else list(DOMAINS)))
    domains = [DOMAINS[name][i % len(DOMAINS[name])] for i in range(n)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    Q = rng.integers(-3, 4, size=(n, n)).astype(float)
    c = rng.integers(-3, 4, size=n).astype(float)
    x0 = [draw(st.integers(0, len(d) - 1)) for d in domains]
    # Hot to frozen: beta * delta from ~0.1 to past the cut-off of 40.
    betas = draw(st.lists(st.sampled_from([0.05, 0.3, 1.0, 2.5, 60.0]), min_size=1, max_size=6))
    rule = draw(st.sampled_from(["heat_bath", "metropolis"]))
    sequential = draw(st.booleans())
    return Q, c, domains, x0, betas, rule, sequential, draw(st.integers(0, 2**32 - 1))


@pytest.mark.parametrize("name,call,two_valued", ANNEAL_KERNELS, ids=[k[0] for k in ANNEAL_KERNELS])
@settings(max_examples=40)
@given(data=st.data())
def test_annealing_kernel_moves_equal_the_naive_annealing(name, call, two_valued, data):
    Q, c, domains, x0, betas, rule, sequential, seed = data.draw(anneal_cases(two_valued))
    n = len(domains)
    values, offsets = Domain.per_variable(domains).lower(n)
    inner, length = QuadraticObjective(Q, c, representation="dense")._lower()
    state = _new_state(np.array([x0], dtype=np.int64), length, seed)
    problem = recorded(inner, n, len(betas) * n)
    kernels.initialize(problem, values, offsets, state, 0, 1)
    energy = partial(naive.quadratic_energy, Q, c, 0.0)
    ref = naive_search.Annealing(energy, domains, x0, int(state.rng[0]), rule, sequential)
    assert state.energy[0] == ref.energy
    trace = np.zeros((1, 1))
    for beta in betas:
        done = int(problem.count[0])
        call(problem, values, offsets, state, beta, sequential, rule == "metropolis", trace)
        made = ref.sweep(beta)
        logged = range(done, int(problem.count[0]))
        assert [tuple(problem.moves[t]) for t in logged] == [move for move, _ in made]
        assert [list(problem.states[t]) for t in logged] == [x for _, x in made]
        assert list(state.x_idx[0]) == ref.x
        assert state.energy[0] == ref.energy == trace[0, 0]
        assert state.best_energy[0] == ref.best
        assert state.stall[0] == ref.stall
        assert state.evaluations[0] == ref.evaluations
        assert int(state.rng[0]) == ref.rng.state  # the same random numbers drawn
    kernels.finish(problem, values, offsets, state, 0, 1, False, 0)
    best = energy([d[k] for d, k in zip(domains, state.best_idx[0])])
    assert best == state.best_energy[0] == ref.best
