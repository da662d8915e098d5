"""Solve the OR-Library bqp instances through network training vs directly, same run.

For every instance and strategy, two runs with the same engine settings (seed,
reads, iterations per read):

* **training route**: QUBO -> training set (Cholesky reduction) -> box-
  constrained least-squares relaxation (``scipy.optimize.lsq_linear``) ->
  Algorithm 1 -> CoNNTrA on the least-squares objective
  (:func:`combopt.training_route.solve_qubo_via_training`);
* **direct**: CoNNTrA on the QUBO itself (``QuadraticObjective``), from
  uniformly random starts.

Prints, per set and strategy, how many instances reached the published
optimum, the median and mean gap to it (percent of the best known, in the
instance's own sense), and median seconds (search only, and end to end with
the reduction and relaxation; compilation is paid once by ``combopt.warmup``
and reported apart).  ``--out`` writes every run as JSON lines.

Usage::

    COMBOPT_DATA=../shared/data python experiments/reductions_bqp.py \\
        --sets bqp50,bqp100 --strategies tabu,paper --num-reads 4 --max-iterations 100
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time

import combopt
from combopt import Domain, provenance, solve
from combopt.instances import load, names
from combopt.objectives import QuadraticObjective
from combopt.training_route import qubo_from_bqm, solve_qubo_via_training


def run_direct(q, strategy, num_reads, seed, max_iterations):
    """CoNNTrA on the QUBO itself; returns (QUBO energy, search seconds, total seconds)."""
    t0 = time.perf_counter()
    res = solve(QuadraticObjective(q.A, linear=q.b, offset=q.c), Domain.binary(),
                strategy=strategy, num_reads=num_reads, seed=seed, max_iterations=max_iterations)
    total = time.perf_counter() - t0 - float(res.timing.get("compile", 0.0))
    return float(q.energy(res.x)), float(res.timing["solve"]), total


def run_route(q, strategy, num_reads, seed, max_iterations):
    """The training route; returns (QUBO energy, search seconds, total seconds, start energy)."""
    res = solve_qubo_via_training(q, strategy=strategy, num_reads=num_reads, seed=seed,
                                  max_iterations=max_iterations)
    total = res.timing["total"] - res.timing["compile"]
    return res.energy, res.timing["solve"], total, res.initial_energy


def main(argv=None) -> int:
    """Run the comparison and print the table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sets", default="bqp50,bqp100", help="comma-separated OR-Library sets")
    p.add_argument("--strategies", default="tabu,paper", help="comma-separated CoNNTrA strategies")
    p.add_argument("--num-reads", type=int, default=4)
    p.add_argument("--max-iterations", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write every run as JSON lines to this file")
    args = p.parse_args(argv)

    compile_seconds = combopt.warmup()
    versions = provenance.versions()
    print(f"# compile/cache load {compile_seconds:.2f} s (excluded below); {versions}")
    print(f"# reads={args.num_reads} iterations/read={args.max_iterations} seed={args.seed}")
    header = (f"{'set':8} {'strategy':8} {'method':9} {'optimum':>7} {'med gap%':>9} "
              f"{'mean gap%':>9} {'med search s':>12} {'med total s':>11}")
    print(header)
    sink = open(args.out, "w") if args.out else contextlib.nullcontext()  # noqa: SIM115
    with sink as out:
        for set_name in args.sets.split(","):
            for strategy in args.strategies.split(","):
                rows = {"route": [], "direct": []}
                for k, name in enumerate(names(set_name)):
                    inst = load(name)
                    q, _ = qubo_from_bqm(inst.bqm)
                    seed = args.seed + k
                    e_r, s_r, t_r, start = run_route(q, strategy, args.num_reads, seed,
                                                     args.max_iterations)
                    e_d, s_d, t_d = run_direct(q, strategy, args.num_reads, seed,
                                               args.max_iterations)
                    for method, e, s, t in (("route", e_r, s_r, t_r), ("direct", e_d, s_d, t_d)):
                        gap = inst.gap_percent(inst.objective(e))
                        rows[method].append((gap, s, t))
                        if out:
                            routed = method == "route"
                            out.write(json.dumps({
                                "instance": name, "strategy": strategy, "method": method,
                                "objective": inst.objective(e), "best_known": inst.best_known,
                                "gap_percent": gap, "search_seconds": s, "total_seconds": t,
                                "start_objective": inst.objective(start) if routed else None,
                                "seed": seed, "num_reads": args.num_reads,
                                "max_iterations": args.max_iterations, **versions}) + "\n")
                for method, rs in rows.items():
                    gaps = [g for g, _, _ in rs]
                    solved = sum(g == 0 for g in gaps)
                    print(f"{set_name:8} {strategy:8} {method:9} {solved:>4}/{len(gaps):<2} "
                          f"{statistics.median(gaps):9.3f} {statistics.mean(gaps):9.3f} "
                          f"{statistics.median(s for _, s, _ in rs):12.4f} "
                          f"{statistics.median(t for _, _, t in rs):11.4f}")
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
