"""QUBO encoding on the TSPLIB instances with n <= 30: engine vs dwave-samplers.

The position one-hot QUBO of each instance (``combopt.tsp.build_qubo``, the
model ``dimod.generators.traveling_salesperson`` builds, offset restored) is
solved under the same wall-clock budget by

* the engine (``combopt.tsp.solve_tsp(..., encoding="qubo")``), one read;
* ``dwave.samplers.TabuSampler`` with ``timeout`` = the budget, one read;
* ``dwave.samplers.SimulatedAnnealingSampler``: batches of reads with its
  default schedule until the budget is spent;

and every sample of every solver is decoded by the same decoder
(``combopt.tsp.decode``), which repairs infeasible samples into tours and
counts the feasible ones. No 2-opt or other post-processing is applied.
``--lagrange-factors`` sweeps the penalty weight as multiples of dimod's
default. Records stream to a JSON-lines file.

Usage::

    COMBOPT_DATA=../shared/data python experiments/tsp_qubo.py \
        --time-limit 2 --seeds 1 2 3 --out results/tsp_qubo.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import dimod
from dwave.samplers import SimulatedAnnealingSampler, TabuSampler

from combopt import provenance
from combopt.tsp import build_qubo, decode_sampleset, load_instance, solve_tsp
from combopt.tsp.sources import best_known, tsplib_names


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--time-limit", type=float, default=2.0, help="seconds per solver and run")
    p.add_argument("--strategy", default="tabu", choices=("paper", "anneal", "tabu"))
    p.add_argument("--seeds", type=int, nargs="+", default=[1])
    p.add_argument("--max-n", type=int, default=30)
    p.add_argument("--instances", nargs="*", help="subset of instance names")
    p.add_argument("--lagrange-factors", type=float, nargs="+", default=[1.0],
                   help="penalty weights as multiples of dimod's default")
    p.add_argument("--no-sa", action="store_true", help="skip SimulatedAnnealingSampler")
    p.add_argument("--out", type=Path, default=Path("results/tsp_qubo.jsonl"))
    return p.parse_args(argv)


def run_tabu_sampler(qubo, seconds, seed):
    t0 = time.perf_counter()
    ss = TabuSampler().sample(qubo.bqm, timeout=int(seconds * 1000), num_reads=1, seed=seed)
    return decode_sampleset(ss, qubo), time.perf_counter() - t0


def run_sa_sampler(qubo, seconds, seed):
    """Batches of default-schedule reads, doubling, until the budget is spent."""
    t0 = time.perf_counter()
    sets, batch = [], 1
    while not sets or time.perf_counter() - t0 < seconds:
        sets.append(SimulatedAnnealingSampler().sample(qubo.bqm, num_reads=batch,
                                                       seed=seed + len(sets)))
        elapsed = time.perf_counter() - t0
        per_read = elapsed / sum(len(s) for s in sets)
        # Never plan past the budget: the next batch is what still fits.
        batch = max(1, min(2 * batch, int((seconds - elapsed) / per_read)))
    return decode_sampleset(dimod.concatenate(sets), qubo), time.perf_counter() - t0


def main(argv=None) -> int:
    args = parse_args(argv)
    if not os.environ.get("COMBOPT_DATA"):
        print("set COMBOPT_DATA to the published data folder", file=sys.stderr)
        return 2
    names = args.instances or tsplib_names(max_n=args.max_n)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = provenance.versions()
    # Compile (or load) the kernels once so no run pays it inside its budget.
    solve_tsp(load_instance(names[0]), "qubo", args.strategy, max_iterations=1, num_reads=1,
              seed=0)
    gaps: dict[str, dict[str, list[float]]] = {}
    print(f"{'instance':<10} {'n':>3} {'lagr':>5} {'seed':>4} {'solver':<12} {'length':>8} "
          f"{'gap%':>7} {'feasible':>9} {'sec':>5}")
    with open(args.out, "a") as out:
        for name in names:
            inst = load_instance(name)
            optimum = best_known(name)
            for factor in args.lagrange_factors:
                base = build_qubo(inst)
                qubo = build_qubo(inst, base.lagrange * factor)
                for seed in args.seeds:
                    rows = []
                    res = solve_tsp(inst, "qubo", args.strategy, time_limit=args.time_limit,
                                    num_reads=1, seed=seed, lagrange=qubo.lagrange)
                    rows.append(("engine", res.engine_length, res.feasible_reads, 1, res.valid,
                                 res.seconds))
                    dec, sec = run_tabu_sampler(qubo, args.time_limit, seed)
                    rows.append(("TabuSampler", dec.lengths.min(), dec.feasible_reads,
                                 len(dec.lengths), True, sec))
                    if not args.no_sa:
                        dec, sec = run_sa_sampler(qubo, args.time_limit, seed)
                        rows.append(("SA-sampler", dec.lengths.min(), dec.feasible_reads,
                                     len(dec.lengths), True, sec))
                    for solver, length, feasible, reads, valid, sec in rows:
                        gap = 100.0 * (length - optimum) / optimum
                        key = f"{name}@{factor:g}"
                        gaps.setdefault(key, {}).setdefault(solver, []).append(gap)
                        out.write(json.dumps(dict(
                            meta, experiment="tsp_qubo", instance=name, n=inst.n, solver=solver,
                            lagrange=qubo.lagrange, lagrange_factor=factor, seed=seed,
                            length=float(length), optimum=optimum, gap_percent=gap,
                            valid=bool(valid), feasible_reads=int(feasible), num_reads=reads,
                            seconds=sec, time_limit=args.time_limit,
                            load=os.getloadavg()[0])) + "\n")
                        print(f"{name:<10} {inst.n:>3} {factor:>5g} {seed:>4} {solver:<12} "
                              f"{length:>8g} {gap:>7.2f} {feasible:>4}/{reads:<4} {sec:>5.2f}",
                              flush=True)
                    out.flush()
    print("\nmedian gap % per instance (engine vs TabuSampler):")
    wins = 0
    for key, by_solver in gaps.items():
        med = {s: statistics.median(v) for s, v in by_solver.items()}
        wins += med["engine"] <= med["TabuSampler"]
        print(f"  {key:<16} " + "  ".join(f"{s} {g:7.2f}" for s, g in med.items()))
    print(f"engine median gap <= TabuSampler's on {wins}/{len(gaps)} instance/penalty pairs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
