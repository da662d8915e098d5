"""Time limits hold at any size, a cut run keeps a correct best, and Ctrl-C stops a run.

The solver's kernels poll a stop flag at every coordinate step (every move for
tabu) that the waiting main thread raises at the deadline, so one iteration of
``n`` steps, however long, cannot overrun the limit. The bound checked is the
documented one: search plus closing polish within 10% + 50 ms of the limit.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import scipy.sparse as sp

import combopt._driver
from combopt import Domain, solve
from combopt.objectives import CallableObjective, QuadraticObjective
from combopt.strategies import STRATEGIES

LIMIT = 2.0
SLACK = 0.1 * LIMIT + 0.05
# ils runs on successor tours only; tests/test_tsp_successor.py holds its time limit.
QUBO_STRATEGIES = sorted(set(STRATEGIES) - {"ils"})


def sparse_ising(n, degree=3, seed=0):
    """A random sparse +-1 Ising coupling matrix with about ``degree * n / 2`` couplings."""
    rng = np.random.default_rng(seed)
    m = degree * n // 2
    i, j = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = i != j
    data = rng.choice([-1.0, 1.0], int(keep.sum()))
    return sp.coo_matrix((data, (i[keep], j[keep])), shape=(n, n)).tocsr()


@pytest.fixture(scope="module")
def large():
    return QuadraticObjective(sparse_ising(200_000))


@pytest.mark.parametrize("strategy", QUBO_STRATEGIES)
def test_time_limit_holds_at_200k_variables(large, strategy):
    # Compile (or load) first, so that the figures below are the run's own.
    solve(QuadraticObjective(sparse_ising(50)), Domain.spin(), strategy=strategy, max_iterations=1)
    result = solve(large, Domain.spin(), strategy=strategy, time_limit=LIMIT, seed=3)
    assert result.stop_reason == "time_limit"
    assert result.timing["solve"] + result.timing["polish"] <= LIMIT + SLACK
    # The best so far is that of a real assignment, even when cut mid-iteration.
    assert result.energy == pytest.approx(float(large.energy(result.x)), abs=1e-6)
    assert result.energy <= float(np.min(result.trace)) + 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("strategy", QUBO_STRATEGIES)
def test_time_limit_holds_at_a_million_variables(strategy):
    objective = QuadraticObjective(sparse_ising(1_000_000, seed=1))
    solve(QuadraticObjective(sparse_ising(50)), Domain.spin(), strategy=strategy, max_iterations=1)
    result = solve(objective, Domain.spin(), strategy=strategy, time_limit=LIMIT, seed=3)
    assert result.stop_reason == "time_limit"
    assert result.timing["solve"] + result.timing["polish"] <= LIMIT + SLACK


def test_time_limit_cuts_an_interpreted_iteration():
    # A slow Python objective: one iteration (n full calls per step) takes far longer than
    # the limit.
    n = 400

    def energy(x):
        time.sleep(1e-4)
        return float(np.sum(x))

    result = solve(
        CallableObjective(energy, n), Domain.binary(), strategy="paper", time_limit=1.0, seed=0
    )
    assert result.stop_reason == "time_limit"
    assert result.timing["solve"] + result.timing["polish"] <= 1.0 + 0.1 * 1.0 + 0.05


def test_trace_is_bounded_and_thinned(monkeypatch):
    # With room for 64 values, 8 reads keep 8 per-iteration columns, then thinned chunk ends.
    monkeypatch.setattr(combopt._driver, "_TRACE_ENTRIES", 64)
    objective = QuadraticObjective(np.array([[1.0, -2.0], [0.0, 1.0]]))
    result = solve(objective, Domain.binary(), strategy="paper", num_reads=8, max_iterations=5000)
    assert result.trace.shape[0] == 8
    assert result.trace.shape[1] <= 2 * 8 + 1
    assert np.array_equal(result.trace_iterations[:8], np.arange(1, 9))
    assert result.trace_iterations[-1] == 5000
    assert np.all(np.diff(result.trace_iterations) > 0)


CTRL_C = textwrap.dedent(
    """
    import sys, time
    import numpy as np, scipy.sparse as sp
    from combopt import Domain, solve, solver
    from combopt.objectives import QuadraticObjective
    rng = np.random.default_rng(0)
    n = 300_000
    i, j = rng.integers(0, n, 450_000), rng.integers(0, n, 450_000)
    Q = sp.coo_matrix((np.ones(450_000), (i, j)), shape=(n, n)).tocsr()
    Q.setdiag(0)
    small = QuadraticObjective(Q[:50, :50])
    solve(small, Domain.spin(), strategy="tabu", max_iterations=1)
    big = QuadraticObjective(Q)
    print("ready", flush=True)
    try:
        solve(big, Domain.spin(), strategy="tabu", time_limit=600, seed=1)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(7)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery to a child process")
def test_ctrl_c_stops_a_tabu_run_within_a_second():
    child = subprocess.Popen(
        [sys.executable, "-c", CTRL_C], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(1.0)  # the run is inside its first tabu iteration (300,000 moves)
        sent = time.perf_counter()
        child.send_signal(signal.SIGINT)
        line = child.stdout.readline().strip()  # printed once solve has raised
        reaction = time.perf_counter() - sent
        child.wait(timeout=30)
    finally:
        child.kill()
    assert line == "interrupted", child.stderr.read()
    assert child.returncode == 7
    assert reaction < 1.0


FORK = textwrap.dedent(
    """
    import multiprocessing as mp
    import numpy as np
    from combopt import Domain, solve
    from combopt.objectives import QuadraticObjective
    def job(seed):
        objective = QuadraticObjective(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([-1.0, -1.0]))
        return solve(objective, Domain.binary(), num_reads=2, seed=seed, time_limit=0.05).energy
    if __name__ == "__main__":
        job(0)  # the parent's worker threads exist now; a forked child has none of them
        with mp.get_context("fork").Pool(2) as pool:
            print(pool.map(job, range(4)), flush=True)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="fork start method")
def test_a_forked_child_solves_after_its_parent():
    # The worker pool is kept across calls; a child forked from a parent that has used it
    # must make its own, or its first solve waits forever on threads that were not copied.
    out = subprocess.run(
        [sys.executable, "-c", FORK], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[-1.0, -1.0, -1.0, -1.0]"
