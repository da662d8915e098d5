"""Permutation encoding on every published TSPLIB instance with n <= 76.

Runs ``combopt.tsp.solve_tsp(..., encoding="permutation", refine=True)`` on
each instance in ``$COMBOPT_DATA/tsplib`` and reports, side by side, the gap
of the engine's own tour and the gap after the 2-opt/Or-opt post-processing
(the two are never merged). Every record (seed, timings, versions, load) is
appended to a JSON-lines file as it is produced.

Usage::

    COMBOPT_DATA=../shared/data python experiments/tsp_permutation.py \
        --time-limit 4 --seeds 1 2 3 --out results/tsp_permutation.jsonl

The figures in docs/tsp.md come from this command.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from combopt import provenance
from combopt.tsp import load_instance, solve_tsp
from combopt.tsp.sources import tsplib_names


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--time-limit", type=float, default=4.0,
                   help="engine seconds per run (the whole run must stay <= 5 s)")
    p.add_argument("--num-reads", type=int, default=4)
    p.add_argument("--strategy", default="anneal", choices=("paper", "anneal", "tabu"))
    p.add_argument("--seeds", type=int, nargs="+", default=[1])
    p.add_argument("--max-n", type=int, default=76)
    p.add_argument("--instances", nargs="*", help="subset of instance names")
    p.add_argument("--python-tsp", action="store_true",
                   help="also run python-tsp's simulated annealing at the same budget "
                        "(reference point; pip install --no-deps python-tsp)")
    p.add_argument("--out", type=Path, default=Path("results/tsp_permutation.jsonl"))
    return p.parse_args(argv)


def python_tsp_gap(inst, seconds, seed, optimum):
    """python-tsp's simulated annealing (2-opt moves) on the same budget: (gap %, seconds)."""
    from python_tsp.heuristics import solve_tsp_simulated_annealing

    np.random.seed(seed)  # noqa: NPY002 - python-tsp draws from numpy's global generator
    t0 = time.perf_counter()
    _, length = solve_tsp_simulated_annealing(inst.distances, max_processing_time=seconds)
    return 100.0 * (length - optimum) / optimum, time.perf_counter() - t0


def main(argv=None) -> int:
    args = parse_args(argv)
    if not os.environ.get("COMBOPT_DATA"):
        print("set COMBOPT_DATA to the published data folder", file=sys.stderr)
        return 2
    names = args.instances or tsplib_names(max_n=args.max_n)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {**provenance.versions(), "cpus": os.cpu_count()}
    # Compile (or load) the kernels once so no run pays it inside its budget.
    solve_tsp(load_instance(names[0]), strategy=args.strategy, time_limit=0.2,
              num_reads=args.num_reads, seed=0, refine=True)
    print(f"{'instance':<10} {'n':>3} {'optimum':>8} {'seed':>4} {'engine':>8} {'gap%':>6} "
          f"{'refined':>8} {'gap%':>6} {'sec':>5} {'iters':>6}"
          + ("  python-tsp gap% sec" if args.python_tsp else ""))
    engine_gaps, refined_gaps, reference_gaps, seconds = {}, {}, {}, []
    with open(args.out, "a") as out:
        for name in names:
            inst = load_instance(name)
            for seed in args.seeds:
                res = solve_tsp(inst, "permutation", args.strategy, time_limit=args.time_limit,
                                num_reads=args.num_reads, seed=seed, refine=True)
                if not res.valid:
                    raise RuntimeError(f"{name}: invalid tour returned")
                rec = res.to_record()
                rec.update(meta, experiment="tsp_permutation", time_limit=args.time_limit,
                           iterations=res.solve_result.iterations,
                           timing=dict(res.solve_result.timing), load=os.getloadavg()[0])
                extra = ""
                if args.python_tsp:
                    gap, sec = python_tsp_gap(inst, res.seconds, seed, res.optimum)
                    rec.update(python_tsp_gap_percent=gap, python_tsp_seconds=sec)
                    reference_gaps.setdefault(name, []).append(gap)
                    extra = f"  {gap:>14.2f} {sec:>4.1f}"
                out.write(json.dumps(rec) + "\n")
                out.flush()
                engine_gaps.setdefault(name, []).append(res.engine_gap_percent)
                refined_gaps.setdefault(name, []).append(res.gap_percent)
                seconds.append(res.seconds)
                print(f"{name:<10} {inst.n:>3} {res.optimum:>8g} {seed:>4} "
                      f"{res.engine_length:>8g} {res.engine_gap_percent:>6.2f} {res.length:>8g} "
                      f"{res.gap_percent:>6.2f} {res.seconds:>5.2f} "
                      f"{res.solve_result.iterations:>6}{extra}", flush=True)
    summaries = [("engine alone", engine_gaps), ("engine + 2-opt/Or-opt", refined_gaps)]
    if reference_gaps:
        summaries.append(("python-tsp SA", reference_gaps))
    for label, gaps in summaries:
        per_instance = [statistics.mean(v) for v in gaps.values()]
        worst = max(gaps, key=lambda k: max(gaps[k]))
        print(f"{label:<22} mean gap {statistics.mean(per_instance):.2f}%  "
              f"worst run {max(gaps[worst]):.2f}% ({worst})  "
              f"instances with mean gap <= 5%: "
              f"{sum(g <= 5 for g in per_instance)}/{len(per_instance)}")
    print(f"seconds per run: median {statistics.median(seconds):.2f}, max {max(seconds):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
