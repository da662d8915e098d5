"""Coordinate evaluations per second: every combopt strategy against dwave-samplers' SA.

Two problems, built here with a fixed seed:

* dense: a 1000-variable QUBO with every coupling drawn uniformly from
  -100..100 (the Beasley/OR-Library recipe at full density);
* sparse: a 10,000-variable QUBO on a random graph of average degree 6 (30,000
  edges, weights -100..100).

combopt's figure is ``evaluations / solve seconds`` (candidate values tried
other than the current one; one per visit of a binary coordinate). SA's figure
is ``num_reads * num_sweeps * n / seconds``, its spin-update attempts, with the
seconds taken from its own ``info["timing"]["sampling_ns"]`` when present (the
kindest reading for SA) and otherwise from the wall clock. Every sampler is
warmed up first; numba's compile/cache-load time is printed separately. Each
figure is the median of ``--repeats`` runs, all in this one process.

    python experiments/throughput.py            # both problems, all strategies
    python experiments/throughput.py --json results/throughput.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import dimod
import numba
import numpy as np
import scipy.sparse as sp

import combopt
from combopt import Domain, solve
from combopt.objectives import QuadraticObjective


def dense_qubo(n: int, seed: int) -> np.ndarray:
    """Upper-triangular dense QUBO matrix with integer entries in -100..100."""
    rng = np.random.default_rng(seed)
    return np.triu(rng.integers(-100, 101, size=(n, n))).astype(np.float64)


def sparse_qubo(n: int, degree: float, seed: int) -> sp.csr_array:
    """Upper-triangular sparse QUBO on a random graph with average degree ``degree``."""
    rng = np.random.default_rng(seed)
    m = int(n * degree / 2)
    edges = set()
    while len(edges) < m:
        i, j = rng.integers(n, size=2)
        if i != j:
            edges.add((min(i, j), max(i, j)))
    rows, cols = np.array(sorted(edges)).T
    data = rng.integers(-100, 101, size=m).astype(np.float64)
    diag = rng.integers(-100, 101, size=n).astype(np.float64)
    Q = sp.coo_array((data, (rows, cols)), shape=(n, n)) + sp.diags_array(diag)
    return sp.csr_array(Q)


def to_bqm(Q) -> dimod.BinaryQuadraticModel:
    Q = sp.coo_array(Q)
    return dimod.BinaryQuadraticModel.from_qubo(
        {(int(i), int(j)): float(v) for i, j, v in zip(Q.row, Q.col, Q.data)}
    )


def sa_rate(bqm, num_reads: int, num_sweeps: int, seed: int) -> float:
    from dwave.samplers import SimulatedAnnealingSampler

    start = time.perf_counter()
    sampleset = SimulatedAnnealingSampler().sample(bqm, num_reads=num_reads, num_sweeps=num_sweeps, seed=seed)
    wall = time.perf_counter() - start
    sampling_ns = sampleset.info.get("timing", {}).get("sampling_ns")
    seconds = sampling_ns * 1e-9 if sampling_ns else wall
    return num_reads * num_sweeps * bqm.num_variables / seconds


def combopt_rate(objective, strategy: str, num_reads: int, iterations: int, seed: int) -> float:
    result = solve(objective, Domain.binary(), strategy=strategy, num_reads=num_reads,
                   max_iterations=iterations, seed=seed, polish=False)
    return result.evaluations / result.timing["solve"]


def measure(name, Q, args, iterations):
    bqm = to_bqm(Q)
    objective = QuadraticObjective(Q)
    n = bqm.num_variables
    rows = []
    sa_runs = [sa_rate(bqm, args.num_reads, args.sweeps, seed) for seed in range(args.repeats + 1)][1:]
    sa = statistics.median(sa_runs)
    rows.append({"problem": name, "n": n, "sampler": "dwave SA", "threads": 1, "rate": sa, "ratio": 1.0})
    all_threads = numba.get_num_threads()
    for strategy, iters in iterations.items():
        for threads in sorted({1, all_threads}):
            numba.set_num_threads(threads)
            try:
                runs = [combopt_rate(objective, strategy, args.num_reads, iters, seed)
                        for seed in range(args.repeats + 1)][1:]
            finally:
                numba.set_num_threads(all_threads)
            rate = statistics.median(runs)
            rows.append({"problem": name, "n": n, "sampler": f"combopt {strategy}", "threads": threads,
                         "rate": rate, "ratio": rate / sa})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per figure (median)")
    parser.add_argument("--num-reads", type=int, default=2)
    parser.add_argument("--sweeps", type=int, default=1000, help="SA sweeps per read")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    compile_seconds = combopt.warmup()
    print(f"combopt {combopt.__version__}, numba {numba.__version__}, dimod {dimod.__version__}, "
          f"{platform.processor() or platform.machine()}, {numba.get_num_threads()} threads")
    print(f"numba compile / cache load (warm-up, excluded from every figure): {compile_seconds:.1f} s\n")
    rows = measure("dense", dense_qubo(1000, 0), args, {"paper": 200, "anneal": 200, "tabu": 10})
    rows += measure("sparse", sparse_qubo(10_000, 6.0, 0), args, {"paper": 100, "anneal": 100, "tabu": 1})
    print(f"{'problem':8} {'n':>6} {'sampler':16} {'threads':>7} {'evals/s':>12} {'x SA':>7}")
    for row in rows:
        print(f"{row['problem']:8} {row['n']:>6} {row['sampler']:16} {row['threads']:>7} "
              f"{row['rate']:>12.3e} {row['ratio']:>7.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"compile_seconds": compile_seconds, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
