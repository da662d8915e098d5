"""Annealing variants on sparse Max-Cut at equal wall time, one read, one thread.

The tuning runs behind ``Auto``'s restarted Metropolis annealing
(docs/engine.md, "Restarts"). Every variant gets ``solve(time_limit=T)``
worth of wall time per instance and seed, in one process, interleaved per
instance, so a loaded machine slows them alike; printed: the mean gap to the
best known per instance and over all. Variants (``;``-separated):

* ``m`` -- ``strategy="metropolis"``, one anneal spanning the budget;
* ``rs:s=S`` -- ``Annealing(rule="metropolis", restart_sweeps=S)``;
* ``mr:k=K`` -- K separate ``solve`` calls of ``T / K``, the best kept;
* ``mt:f=F`` -- Metropolis for ``F T``, then ``Tabu()`` from its state for the rest;
* ``mcold:c=C`` -- Metropolis with the default cold end ``beta_cold`` scaled by C.

Usage (from the project root)::

    COMBOPT_DATA=../shared/data python experiments/maxcut_anneal.py \\
        --time-limit 1 --instances G7,G11,G13,G14,G18,G21,G46 --seeds 1-6 \\
        --variants "m;rs:s=2000;rs:s=5000"
"""

from __future__ import annotations

import argparse

import numba
import numpy as np

from combopt import Annealing, Tabu, solve
from combopt.adapters.dimod import bqm_to_objective
from combopt.cli.bench import parse_seeds
from combopt.instances import expand, load


def run(inst, variant: str, seed: int, budget: float) -> float:
    """The gap (%) of one run of ``variant`` on ``inst``."""
    objective, domain, _ = bqm_to_objective(inst.bqm)
    kind, _, spec = variant.partition(":")
    kw = dict(pair.split("=") for pair in spec.split(",") if pair)
    common = {"seed": seed}
    if kind == "m":
        result = solve(objective, domain, strategy="metropolis", time_limit=budget, **common)
    elif kind == "rs":
        strategy = Annealing(rule="metropolis", restart_sweeps=int(kw["s"]))
        result = solve(objective, domain, strategy=strategy, time_limit=budget, **common)
    elif kind == "mr":
        k = int(kw["k"])
        runs = [solve(objective, domain, strategy="metropolis", seed=100 * seed + j,
                      time_limit=budget / k) for j in range(k)]
        result = min(runs, key=lambda r: r.energy)
    elif kind == "mt":
        f = float(kw["f"])
        first = solve(objective, domain, strategy="metropolis", time_limit=f * budget, **common)
        second = solve(objective, domain, strategy=Tabu(), time_limit=(1 - f) * budget,
                       initial=first.x, **common)
        result = min((first, second), key=lambda r: r.energy)
    elif kind == "mcold":
        probe = solve(objective, domain, strategy="metropolis", max_iterations=1, **common)
        hot, cold = probe.info["beta_range"]
        strategy = Annealing(rule="metropolis", beta_range=(hot, max(hot, cold * float(kw["c"]))))
        result = solve(objective, domain, strategy=strategy, time_limit=budget, **common)
    else:
        raise SystemExit(f"unknown variant {variant!r}")
    return inst.gap_percent(inst.objective(result.energy))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", default="G7,G11,G13,G14,G18,G21,G46")
    parser.add_argument("--seeds", default="1-3")
    parser.add_argument("--time-limit", type=float, default=1.0)
    parser.add_argument("--variants", default="m;rs:s=5000")
    args = parser.parse_args(argv)
    numba.set_num_threads(1)
    variants = [v for v in args.variants.split(";") if v]
    seeds = parse_seeds(args.seeds)
    names = expand(args.instances)
    objective, domain, _ = bqm_to_objective(load(names[0]).bqm)
    for strategy in ("metropolis", Tabu()):  # compile (or load) outside the timings
        solve(objective, domain, strategy=strategy, max_iterations=1, seed=0)
    print(f"time limit {args.time_limit} s, one read, seeds {seeds}; mean gap to best known, %")
    print(f"{'instance':9s}" + "".join(f"{v[:14]:>16s}" for v in variants))
    gaps = {v: [] for v in variants}
    for name in names:
        inst = load(name)
        row = []
        for v in variants:
            g = [run(inst, v, s, args.time_limit) for s in seeds]
            gaps[v] += g
            row.append(np.mean(g))
        print(f"{name:9s}" + "".join(f"{x:16.3f}" for x in row), flush=True)
    print(f"{'mean':9s}" + "".join(f"{np.mean(gaps[v]):16.3f}" for v in variants))


if __name__ == "__main__":
    main()
