"""combopt's tabu search against dwave SA (and TabuSampler) at equal wall time, one read.

For every instance and seed, each combopt variant runs ``solve(time_limit=T)``
(the BQM -> arrays conversion counted, compile time excluded: the kernels are
warmed first) and SA runs with ``num_sweeps`` scaled to fill the same wall
time: it is calibrated on each instance from two run lengths (fixed cost +
cost per sweep), and every SA run's achieved wall time is printed so a budget
missed by more than 10% shows. Single thread on both sides.

With ``--ttt`` the runs also stop at the best known and report the time to
reach it (ours: from the best-so-far trace plus the set-up; TabuSampler with
``energy_threshold``: its wall time), as median ratios to TabuSampler's.

Usage (from the project root)::

    COMBOPT_DATA=../shared/data python experiments/maxcut_tabu.py \\
        --instances G1-G21,G43-G47 --seeds 1-3 --time-limit 1 \\
        [--variants "tabu;adaptive=perturbation:adaptive;scan=perturbation:0.1,moves:scan"] [--ttt]
    python experiments/maxcut_tabu.py --speed 20000     # CPU time per move, trees vs scans

A variant is ``label=key:value,key:value`` (``Tabu`` parameters; a tenure
range as ``tenure:3-80``); a bare label ``tabu`` is the default ``Tabu()``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numba
import numpy as np

from combopt import Tabu, solve
from combopt.adapters.dimod import bqm_to_objective
from combopt.cli.bench import parse_seeds
from combopt.instances import expand, load


def parse_variants(text: str) -> dict[str, Tabu]:
    """``label=key:value,...;label2=...`` -> ``{label: Tabu(...)}``."""
    variants = {}
    for item in filter(None, (s.strip() for s in text.split(";"))):
        label, _, spec = item.partition("=")
        kwargs = {}
        for pair in filter(None, spec.split(",")):
            key, _, value = pair.partition(":")
            if key == "tenure" and "-" in value:
                lo, hi = value.split("-")
                kwargs[key] = (int(lo), int(hi))
            elif key == "jump":
                lo, hi = value.split("-")
                kwargs[key] = (float(lo), float(hi))
            elif key == "p_directed":
                kwargs[key] = float(value)
            elif key in ("tenure", "restart_after", "stagnation"):
                kwargs[key] = int(value)
            elif key == "perturbation" and value not in ("auto", "adaptive"):
                kwargs[key] = float(value)
            else:
                kwargs[key] = value
        variants[label] = Tabu(**kwargs)
    return variants


def run_ours(inst, strategy, seed, budget, target):
    t0 = time.perf_counter()
    objective, domain, _ = bqm_to_objective(inst.bqm)
    adapter = time.perf_counter() - t0
    res = solve(objective, domain, strategy=strategy, seed=seed, time_limit=budget,
                target_energy=target)
    wall = time.perf_counter() - t0 - res.timing["compile"]
    ttt = None
    if target is not None:
        hits = [t for t, e in res.best_trace if e <= target + 1e-9]
        if hits:
            ttt = hits[0] + adapter + res.timing["preprocess"]
    return inst.gap_percent(inst.objective(res.energy)), wall, ttt


def calibrate_sa(bqm, budget, seed):
    """SA's sweeps filling ``budget`` seconds: fixed cost and cost per sweep from two runs."""
    from dwave.samplers import SimulatedAnnealingSampler

    sampler = SimulatedAnnealingSampler()
    sampler.sample(bqm, num_reads=1, num_sweeps=10, seed=seed)  # warm caches
    times = {}
    for sweeps in (300, 3000):  # the quicker of two runs: a loaded machine only adds time
        runs = []
        for _ in range(2):
            t0 = time.perf_counter()
            sampler.sample(bqm, num_reads=1, num_sweeps=sweeps, seed=seed)
            runs.append(time.perf_counter() - t0)
        times[sweeps] = min(runs)
    per_sweep = max((times[3000] - times[300]) / 2700, 1e-9)
    fixed = max(times[300] - 300 * per_sweep, 0.0)
    return max(1, int((budget - fixed) / per_sweep))


def run_sa(inst, sweeps, seed):
    from dwave.samplers import SimulatedAnnealingSampler

    t0 = time.perf_counter()
    ss = SimulatedAnnealingSampler().sample(inst.bqm, num_reads=1, num_sweeps=sweeps, seed=seed)
    return inst.gap_percent(inst.objective(ss.first.energy)), time.perf_counter() - t0


def run_tabu_sampler(inst, seed, budget, target):
    from dwave.samplers import TabuSampler

    t0 = time.perf_counter()
    ss = TabuSampler().sample(inst.bqm, num_reads=1, seed=seed, timeout=round(1000 * budget),
                              energy_threshold=target)
    wall = time.perf_counter() - t0
    energy = float(ss.first.energy)
    reached = target is not None and energy <= target + 1e-9
    return inst.gap_percent(inst.objective(energy)), wall, wall if reached else None


def move_speed(n: int, iterations: int) -> None:
    """Print CPU time per tabu move, trees against scans, on a random ±1 graph of degree ~6."""
    import scipy.sparse as sp

    from combopt import Domain
    from combopt.objectives import QuadraticObjective

    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, n, size=(2, 3 * n))
    Q = sp.coo_array((rng.choice([-1.0, 1.0], size=3 * n), (rows, cols)), shape=(n, n))
    objective = QuadraticObjective(Q)
    variants = {"tree, restarts": Tabu(perturbation=0.1, moves="tree"),
                "tree, breakout": Tabu(perturbation="adaptive", moves="tree"),
                "scan, restarts": Tabu(perturbation=0.1, moves="scan")}
    print(f"n = {n}, {3 * n} couplings; CPU microseconds per move (median of 3)")
    for label, strategy in variants.items():
        if strategy.moves == "scan" and n > 100_000:
            print(f"  {label:16s} skipped: n moves of n reads each")
            continue
        its = iterations if strategy.moves == "tree" else max(1, iterations * 1000 // n)
        solve(objective, Domain.spin(), strategy=strategy, max_iterations=1, seed=0)  # compile
        cpu = []
        for seed in range(3):
            t0 = time.process_time()
            solve(objective, Domain.spin(), strategy=strategy, max_iterations=its, seed=seed)
            cpu.append(time.process_time() - t0)
        print(f"  {label:16s} {1e6 * statistics.median(cpu) / (its * n):10.3f}  ({its} iterations)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", default="G1-G21,G43-G47")
    parser.add_argument("--seeds", default="1-3")
    parser.add_argument("--time-limit", type=float, default=1.0)
    parser.add_argument("--variants", default="tabu")
    parser.add_argument("--no-sa", action="store_true", help="skip SA (e.g. when tuning)")
    parser.add_argument("--ttt", action="store_true",
                        help="stop at the best known; compare time to target with TabuSampler")
    parser.add_argument("--speed", type=int, metavar="N",
                        help="only time moves on a random sparse problem of N variables")
    args = parser.parse_args(argv)
    numba.set_num_threads(1)
    if args.speed:
        move_speed(args.speed, 5)
        return
    variants = parse_variants(args.variants)
    seeds = parse_seeds(args.seeds)
    names = expand(args.instances)
    budget = args.time_limit
    first = load(names[0])
    for strategy in variants.values():  # compile (or load) the kernels outside the timings
        o, d, _ = bqm_to_objective(first.bqm)
        solve(o, d, strategy=strategy, max_iterations=1, seed=0)
    peers = ([] if args.no_sa else ["SA"]) + (["TabuSampler"] if args.ttt else [])
    columns = list(variants) + peers
    print(f"budget {budget} s, one read, seeds {seeds}; gap to best known in %")
    print(f"{'instance':10s}" + "".join(f"{c:>14s}" for c in columns) + "   SA sweeps / wall")
    gaps = {c: [] for c in columns}
    ttts = {c: [] for c in columns}
    for name in names:
        inst = load(name)
        target = inst.target_energy if args.ttt else None
        row = {c: [] for c in columns}
        sa_note = ""
        for label, strategy in variants.items():
            for seed in seeds:
                gap, _, ttt = run_ours(inst, strategy, seed, budget, target)
                row[label].append(gap)
                ttts[label].append(ttt)
        if "SA" in columns:
            sweeps = calibrate_sa(inst.bqm, budget, seeds[0])
            walls = []
            for seed in seeds:
                gap, wall = run_sa(inst, sweeps, seed)
                row["SA"].append(gap)
                walls.append(wall)
            off = max(abs(w - budget) / budget for w in walls)
            sa_note = f"   {sweeps} / {statistics.median(walls):.2f} s"
            sa_note += " (>10% off)" if off > 0.1 else ""
        if "TabuSampler" in columns:
            for seed in seeds:
                gap, _, ttt = run_tabu_sampler(inst, seed, budget, target)
                row["TabuSampler"].append(gap)
                ttts["TabuSampler"].append(ttt)
        for c in columns:
            gaps[c].extend(row[c])
        cells = "".join(f"{np.mean(row[c]):14.3f}" for c in columns)
        print(f"{name:10s}{cells}{sa_note}", flush=True)
    print(f"{'mean':10s}" + "".join(f"{np.mean(gaps[c]):14.3f}" for c in columns))
    if "SA" in columns:
        sa = max(np.mean(gaps["SA"]), 1e-12)
        print(f"{'/ SA':10s}" + "".join(f"{np.mean(gaps[c]) / sa:14.2f}" for c in columns))
    if args.ttt:
        for c in columns:
            hit = [t for t in ttts[c] if t is not None]
            med = statistics.median(t if t is not None else np.inf for t in ttts[c])
            print(f"TTT {c:12s} reached {len(hit)}/{len(ttts[c])}, median {med:.4f} s")


if __name__ == "__main__":
    main()
