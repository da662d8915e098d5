"""Kernel throughput, like for like: combopt's Metropolis annealing against dwave-samplers' SA.

Accounting, the same on both sides:

* one evaluation is one spin-flip attempt, as SA counts them: a sweep over
  ``n`` variables is ``n`` attempts (``result.evaluations == sweeps * n`` is
  checked);
* kernel time only: SA's own ``info["timing"]["sampling_ns"]`` against
  combopt's ``result.timing["solve"]`` (preprocessing, compilation and
  post-processing excluded on both sides; compile time is printed apart);
* the same schedule: SA's default ``beta_range`` for the BQM (read from
  ``info["beta_range"]`` of a first, calibration run), geometric, the same
  number of sweeps, one read, one thread (SA is single-threaded; combopt runs
  with ``numba.set_num_threads(1)``), sequential order, the Metropolis rule;
* after a warm-up run of each side on each problem, the median of
  ``--repeats`` runs (seeds 1..repeats), SA and combopt alternating.

The sweep count of each problem is chosen so that one SA run takes about
``--seconds`` (from the calibration run); both sides use it.

Problems, built here with fixed seeds (integer couplings, as G-set and
OR-Library have):

* ``torus``: toroidal ``L x L/2``-ish grids with +-1 couplings (degree 4, as
  G-set's toroidal graphs), n = 5,000, 100,000 and 1,000,000;
* ``regular3``: random near-3-regular graphs (configuration model, self-loops
  and repeated edges dropped) with +-1 couplings, the same sizes, and
  ``regular6`` at n = 5,000;
* ``bqp``: OR-Library-style QUBOs, 10% of the pairs coupled, couplings and
  linear terms uniform in -100..100, n = 1000 and 2500;
* ``dense``: the same at 100% density, n = 1000.

Tabu is reported separately, as moves per second (one move = one flip chosen
after reading every candidate), and against dwave's TabuSampler only by time
to the best-known energy on the shared OR-Library instances (``--tabu``).

    python experiments/throughput.py                      # every problem
    python experiments/throughput.py --sizes 5000 --quick # a small smoke run
    python experiments/throughput.py --json               # and one JSON line
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import dimod
import numba
import numpy as np
import scipy.sparse as sp

import combopt
from combopt import Annealing, Domain, solve
from combopt.objectives import QuadraticObjective


def torus(n: int, seed: int):
    """A toroidal grid of about ``n`` spins, +-1 couplings: ``(n, rows, cols, J)`` (COO)."""
    rows = max(2, round((n / 2) ** 0.5))
    cols = n // rows
    n = rows * cols
    idx = np.arange(n).reshape(rows, cols)
    right = np.stack([idx.ravel(), np.roll(idx, -1, axis=1).ravel()])
    down = np.stack([idx.ravel(), np.roll(idx, -1, axis=0).ravel()])
    edges = np.concatenate([right, down], axis=1)
    rng = np.random.default_rng(seed)
    return n, edges[0], edges[1], rng.choice([-1.0, 1.0], size=edges.shape[1])


def regular(n: int, degree: int, seed: int):
    """A random near-regular graph (configuration model), +-1 couplings."""
    rng = np.random.default_rng(seed)
    stubs = rng.permutation(np.repeat(np.arange(n), degree))
    if stubs.size % 2:
        stubs = stubs[:-1]
    a, b = stubs[0::2], stubs[1::2]
    keep = a != b
    pairs = np.unique(np.stack([np.minimum(a, b)[keep], np.maximum(a, b)[keep]]), axis=1)
    return n, pairs[0], pairs[1], rng.choice([-1.0, 1.0], size=pairs.shape[1])


def bqp(n: int, density: float, seed: int):
    """OR-Library-style QUBO: a ``density`` fraction of pairs, entries uniform in -100..100."""
    rng = np.random.default_rng(seed)
    rows, cols = np.triu_indices(n, 1)
    keep = rng.random(rows.size) < density
    rows, cols = rows[keep], cols[keep]
    data = rng.integers(-100, 101, size=rows.size).astype(np.float64)
    linear = rng.integers(-100, 101, size=n).astype(np.float64)
    return rows, cols, data, linear


def problems(sizes, quick: bool):
    """``(name, vartype, n, rows, cols, data, linear)`` for every benchmark problem."""
    out = []
    for n in sizes:
        m, r, c, d = torus(n, 1)
        out.append((f"torus {m}", "SPIN", m, r, c, d, np.zeros(m)))
        m, r, c, d = regular(n, 3, 2)
        out.append((f"regular3 {m}", "SPIN", m, r, c, d, np.zeros(m)))
        if n == min(sizes):
            m, r, c, d = regular(n, 6, 3)
            out.append((f"regular6 {m}", "SPIN", m, r, c, d, np.zeros(m)))
    dense_sizes = [1000] if quick else [1000, 2500]
    for n in dense_sizes:
        out.append((f"bqp10% {n}", "BINARY", n, *bqp(n, 0.1, n)))
    out.append(("dense 1000", "BINARY", 1000, *bqp(1000, 1.0, 7)))
    return out


def sa_run(bqm, beta_range, sweeps, seed):
    from dwave.samplers import SimulatedAnnealingSampler

    kwargs = {} if beta_range is None else {"beta_range": beta_range}
    ss = SimulatedAnnealingSampler().sample(
        bqm, num_reads=1, num_sweeps=sweeps, seed=seed, beta_schedule_type="geometric", **kwargs
    )
    return ss.info["timing"]["sampling_ns"] * 1e-9, tuple(float(b) for b in ss.info["beta_range"])


def combopt_run(objective, domain, beta_range, sweeps, seed):
    strategy = Annealing(beta_range=beta_range, num_sweeps=sweeps, rule="metropolis",
                         schedule="geometric", order="sequential")
    result = solve(objective, domain, strategy=strategy, max_iterations=sweeps, seed=seed,
                   polish=False)
    attempts = sweeps * objective.num_variables
    if result.evaluations != attempts:
        raise RuntimeError(f"expected {attempts} attempts, the kernel counted {result.evaluations}")
    return result.timing["solve"], result.timing["compile"]


def measure(problem, args):
    name, vartype, n, rows, cols, data, linear = problem
    bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(linear, (rows, cols, data), 0.0, vartype)
    objective = QuadraticObjective(sp.coo_array((data, (rows, cols)), shape=(n, n)), linear)
    domain = Domain.spin() if vartype == "SPIN" else Domain.binary()
    # Calibration (also SA's warm-up): its beta range and its speed on this problem.
    probe = max(5, int(2e6 // n))
    seconds, beta_range = sa_run(bqm, None, probe, 0)
    sweeps = max(5, round(args.seconds * probe / seconds))
    _, compile_seconds = combopt_run(objective, domain, beta_range, min(sweeps, 3), 0)  # warm-up
    sa_times, ours = [], []
    for seed in range(1, args.repeats + 1):
        sa_times.append(sa_run(bqm, beta_range, sweeps, seed)[0])
        ours.append(combopt_run(objective, domain, beta_range, sweeps, seed)[0])
    attempts = sweeps * n
    sa_ns = statistics.median(sa_times) / attempts * 1e9
    our_ns = statistics.median(ours) / attempts * 1e9
    return {
        "problem": name, "n": n, "couplings": int(rows.size), "sweeps": sweeps,
        "beta_range": list(beta_range), "sa_ns": sa_ns, "combopt_ns": our_ns,
        "ratio": sa_ns / our_ns, "compile_seconds": compile_seconds,
        "sa_runs_ns": [t / attempts * 1e9 for t in sa_times],
        "combopt_runs_ns": [t / attempts * 1e9 for t in ours],
    }


def tabu_section(args):
    """Our tabu's moves per second, and time to the best known against TabuSampler."""
    from dwave.samplers import TabuSampler

    from combopt.adapters.dimod import bqm_to_objective
    from combopt.instances import load

    rows = []
    for name in args.tabu:
        inst = load(name)
        target = -inst.best_known if inst.sense == "max" else inst.best_known
        objective, domain, _ = bqm_to_objective(inst.bqm)
        n = objective.num_variables
        ours, theirs, rates = [], [], []
        for seed in range(args.repeats + 1):
            # Moves per second from a fixed run of ~2e7 candidate reads (n per move).
            iterations = max(2, round(2e7 / n**2))
            fixed = solve(objective, domain, strategy="tabu", seed=seed, polish=False,
                          max_iterations=iterations)
            res = solve(objective, domain, strategy="tabu", seed=seed, target_energy=target,
                        time_limit=args.tabu_seconds)
            reached = res.stop_reason == "target"
            t0 = time.perf_counter()
            ss = TabuSampler().sample(inst.bqm, num_reads=1, seed=seed, energy_threshold=target,
                                      timeout=int(1000 * args.tabu_seconds))
            wall = time.perf_counter() - t0
            if seed == 0:
                continue  # warm-up
            ours.append(res.timing["preprocess"] + res.timing["solve"] if reached else float("inf"))
            theirs.append(wall if float(ss.first.energy) <= target else float("inf"))
            rates.append(fixed.iterations * n / fixed.timing["solve"])
        rows.append({"instance": name, "n": n,
                     "combopt_moves_per_s": statistics.median(rates),
                     "combopt_ttt": statistics.median(ours),
                     "tabusampler_ttt": statistics.median(theirs)})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 100_000, 1_000_000],
                        help="sparse problem sizes")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per figure (median)")
    parser.add_argument("--seconds", type=float, default=1.0, help="target SA run time")
    parser.add_argument("--quick", action="store_true", help="skip bqp 2500 and the tabu section")
    parser.add_argument("--tabu", nargs="*", default=["bqp250.1", "bqp500.1"],
                        help="instances for the tabu time-to-target section")
    parser.add_argument("--tabu-seconds", type=float, default=5.0)
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    args = parser.parse_args(argv)
    numba.set_num_threads(1)

    warmup = combopt.warmup()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"combopt {combopt.__version__}, numba {numba.__version__}, dimod {dimod.__version__}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, one thread, "
          f"load average {load:.1f} at start")
    print(f"combopt.warmup() (numba compile / cache load, excluded): {warmup:.1f} s\n")
    rows = []
    print(f"{'problem':18} {'couplings':>10} {'sweeps':>7} {'SA ns':>7} {'ours ns':>8} "
          f"{'x SA':>6} {'compile s':>9}")
    for problem in problems(args.sizes, args.quick):
        row = measure(problem, args)
        rows.append(row)
        print(f"{row['problem']:18} {row['couplings']:>10} {row['sweeps']:>7} {row['sa_ns']:>7.2f} "
              f"{row['combopt_ns']:>8.2f} {row['ratio']:>6.2f} {row['compile_seconds']:>9.2f}",
              flush=True)
    tabu = [] if args.quick or not args.tabu else tabu_section(args)
    if tabu:
        print(f"\ntabu: time to the best known (median of {args.repeats}, "
              f"limit {args.tabu_seconds:g} s), and combopt's moves per second")
        print(f"{'instance':10} {'n':>5} {'moves/s':>10} {'ours TTT s':>11} "
              f"{'TabuSampler TTT s':>18}")
        for t in tabu:
            print(f"{t['instance']:10} {t['n']:>5} {t['combopt_moves_per_s']:>10.3g} "
                  f"{t['combopt_ttt']:>11.4f} {t['tabusampler_ttt']:>18.4f}")
    end_load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nload average {end_load:.1f} at the end")
    if args.json:
        print(json.dumps({"warmup_seconds": warmup, "load_start": load, "load_end": end_load,
                          "anneal": rows, "tabu": tabu}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
