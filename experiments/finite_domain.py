"""Finite-domain problems natively against their one-hot BQM routes and OR-Tools CP-SAT.

Three parts, each instance at equal wall time per route, for every seed:

* ``coloring``: the shared DIMACS graphs at their best-known k. Routes:
  ``native`` (``combopt.coloring.color_graph``, the tabucol preset); the
  one-hot BQM (x[v, c], 1 per conflicting edge, dimod's
  ``add_linear_equality_constraint`` with multiplier 2 per vertex) through
  ``sa`` (dwave SA, sweeps calibrated to the time limit), ``tabu``
  (dwave TabuSampler) and ``combopt-bqm`` (``CombOptSampler.sample``); and
  ``cpsat`` (one integer colour per vertex, ``!=`` per edge, one worker).
  Reported: conflicts of the decoded colouring (a vertex with no or several
  colours set takes its first set colour, or colour 0), one-hot
  violations, valid, and seconds to the first valid colouring (native,
  combopt-bqm and cpsat report it; SA and Tabu return only their end state).
* ``maxcut``: max-3-cut and max-4-cut of G-set graphs. ``native``
  (``combopt.coloring.max_k_cut``) against the one-hot BQM (multiplier: the
  largest weighted degree, so that breaking a one-hot group never pays)
  through sa / tabu / combopt-bqm; the cut of the decoded partition.
* ``cqm``: ``dimod.generators`` knapsack, bin packing and multi-knapsack.
  ``native`` (``CombOptSampler.sample_cqm``), ``cpsat`` (integer data; whether
  it proved optimality) and ``dimod.cqm_to_bqm`` through sa / tabu /
  combopt-bqm. Feasible or not, and the objective of the returned state.

Every run is one JSON line appended to ``--out`` as it ends; the tables are
printed at the end (medians over seeds). Peers are optional: dwave-samplers
and ortools (``pip install combopt[samplers,fd-peers]``) are imported lazily
and their routes skipped with a note when missing. Figures taken on a loaded
machine are provisional; compile time is excluded by warming up first.

Usage (a quick run, then the full one)::

    COMBOPT_DATA=/work/shared/data python experiments/finite_domain.py --parts coloring \\
        --graphs myciel7 le450_5a --time-limits 2 --seeds 1 2 3
    COMBOPT_DATA=/work/shared/data python experiments/finite_domain.py \\
        --parts coloring maxcut cqm --out finite_domain.jsonl
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import statistics
import time

import dimod
import numpy as np

from combopt.bench import calibrate_sa
from combopt.coloring import color_graph, conflicts, load_graph, max_k_cut
from combopt.instances import data_dir
from combopt.io import read_gset
from combopt.samplers import CombOptSampler
from combopt.solver import warmup

BQM_ROUTES = ("sa", "tabu", "combopt-bqm")
_SA_CACHE: dict = {}


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def routes_available(routes):
    """The routes whose peer is installed, and a note for each one skipped."""
    needs = {"sa": "dwave.samplers", "tabu": "dwave.samplers", "cpsat": "ortools"}
    kept, notes = [], []
    for route in routes:
        module = needs.get(route)
        if module and not have(module.split(".")[0]):
            notes.append(f"{route} skipped: {module} is not installed")
        else:
            kept.append(route)
    return kept, notes


# ------------------------------------------------------------------ one-hot BQMs


def one_hot_bqm(n, edges, weights, k, multiplier):
    """x[v, c] = 1 when v takes colour / part c; weight w per edge inside a part."""
    bqm = dimod.BQM("BINARY")
    for v in range(n):
        bqm.add_linear_equality_constraint([((v, c), 1.0) for c in range(k)],
                                           lagrange_multiplier=multiplier, constant=-1.0)
    for (u, v), w in zip(edges.tolist(), weights.tolist()):
        for c in range(k):
            bqm.add_quadratic((u, c), (v, c), w)
    return bqm


def decode_one_hot(sample, n, k):
    """Each vertex's first set colour (0 when none); and the groups not exactly one-hot."""
    x = np.array([[sample[(v, c)] for c in range(k)] for v in range(n)])
    return np.argmax(x, axis=1), int(np.count_nonzero(x.sum(axis=1) != 1))


def run_bqm(route, bqm, time_limit, seed):
    """``(best sample, wall seconds, seconds to energy <= 0 or None)`` of one BQM route."""
    t0 = time.perf_counter()
    first = None
    if route == "sa":
        from dwave.samplers import SimulatedAnnealingSampler

        key = (id(bqm), time_limit)
        if key not in _SA_CACHE:
            _SA_CACHE[key] = calibrate_sa(bqm, 1, time_limit=time_limit, repeats=1,
                                          max_checks=1)["num_sweeps"]
        t0 = time.perf_counter()
        ss = SimulatedAnnealingSampler().sample(bqm, num_reads=1, num_sweeps=_SA_CACHE[key],
                                                seed=seed)
    elif route == "tabu":
        from dwave.samplers import TabuSampler

        ss = TabuSampler().sample(bqm, num_reads=1, seed=seed,
                                  timeout=max(1, round(1000 * time_limit)))
    else:
        ss = CombOptSampler().sample(bqm, num_reads=1, seed=seed, time_limit=time_limit)
        hits = [s for s, e in ss.info["trace"] if e <= 1e-9]
        first = hits[0] if hits else None
    return ss.first.sample, time.perf_counter() - t0, first


# ------------------------------------------------------------------ CP-SAT


def cpsat_coloring(n, edges, k, time_limit, seed):
    """CP-SAT colouring: ``(colours or None, seconds to the first solution or None)``."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    colour = [model.NewIntVar(0, k - 1, f"c{v}") for v in range(n)]
    for u, v in edges.tolist():
        model.Add(colour[u] != colour[v])
    solver = _cp_solver(time_limit, seed)
    t0 = time.perf_counter()
    status = solver.Solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return np.array([solver.Value(c) for c in colour]), time.perf_counter() - t0
    return None, None


def _cp_solver(time_limit, seed):
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(seed) % 2**31
    return solver


def cpsat_cqm(cqm, time_limit, seed):
    """CP-SAT on a linear CQM with integer data: ``(sample or None, status)``."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    var = {}
    for v in cqm.variables:
        if cqm.vartype(v) is dimod.BINARY:
            var[v] = model.NewBoolVar(str(v))
        elif cqm.vartype(v) is dimod.INTEGER:
            var[v] = model.NewIntVar(int(cqm.lower_bound(v)), int(cqm.upper_bound(v)), str(v))
        else:
            return None, "unsupported vartype"

    def linear(qm):
        biases = [b for _, b in qm.linear.items()] + [qm.offset]
        if qm.num_interactions or any(b != int(b) for b in biases):
            raise ValueError("quadratic or non-integer")
        return sum(int(b) * var[v] for v, b in qm.linear.items()) + int(qm.offset)

    try:
        for comparison in cqm.constraints.values():
            lhs, rhs, sense = linear(comparison.lhs), comparison.rhs, comparison.sense.name
            if rhs != int(rhs):
                return None, "non-integer rhs"
            model.Add(lhs <= int(rhs) if sense == "Le" else lhs >= int(rhs) if sense == "Ge"
                      else lhs == int(rhs))
        model.Minimize(linear(cqm.objective))
    except ValueError as exc:
        return None, str(exc)
    solver = _cp_solver(time_limit, seed)
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, solver.StatusName(status)
    return {v: solver.Value(x) for v, x in var.items()}, solver.StatusName(status)


# ------------------------------------------------------------------ the three parts


def coloring_part(args, emit):
    with open(data_dir() / "coloring" / "best_known.csv", newline="") as fh:
        table = [(r["instance"], int(r["best_known"])) for r in csv.DictReader(fh)]
    if args.graphs:
        table = [(name, k) for name, k in table if name in args.graphs]
    for name, k in table:
        graph = load_graph(name)
        n, edges = graph.num_vertices, graph.edges
        bqm = None
        for seed in args.seeds:
            for route in args.routes:
                t0 = time.perf_counter()
                rec = {"part": "coloring", "instance": name, "n": n, "k": k, "seed": seed,
                       "route": route, "time_limit": args.time_limits[-1]}
                T = args.time_limits[-1]
                if route == "native":
                    r = color_graph(graph, k, time_limit=T, seed=seed)
                    rec.update(conflicts=r.conflicts, one_hot_violations=0, valid=r.valid,
                               first_valid_seconds=r.first_valid_seconds)
                elif route == "cpsat":
                    colours, first = cpsat_coloring(n, edges, k, T, seed)
                    rec.update(conflicts=None if colours is None else conflicts(edges, colours),
                               one_hot_violations=0, valid=colours is not None,
                               first_valid_seconds=first)
                else:
                    if bqm is None:
                        bqm = one_hot_bqm(n, edges, np.ones(len(edges)), k, 2.0)
                    sample, _, first = run_bqm(route, bqm, T, seed)
                    colours, broken = decode_one_hot(sample, n, k)
                    bad = conflicts(edges, colours)
                    rec.update(conflicts=bad, one_hot_violations=broken,
                               valid=bad == 0 and broken == 0, first_valid_seconds=first)
                rec["wall_seconds"] = time.perf_counter() - t0
                emit(rec)


def gset_edges(name):
    bqm = read_gset(data_dir() / "gset" / name, vartype=dimod.SPIN)
    index = {v: k for k, v in enumerate(bqm.variables)}
    pairs = [(index[u], index[v], 2.0 * b) for (u, v), b in bqm.quadratic.items()]
    return (bqm.num_variables, np.array([(u, v) for u, v, _ in pairs], dtype=np.int64),
            np.array([w for _, _, w in pairs]))


def maxcut_part(args, emit):
    for name in args.gset or [f"G{i}" for i in range(1, 22)]:
        n, edges, weights = gset_edges(name)
        degree = np.zeros(n)
        np.add.at(degree, edges.ravel(), np.repeat(np.abs(weights), 2))
        for k in args.ks:
            bqm = None
            for T in args.time_limits:
                for seed in args.seeds:
                    for route in [r for r in args.routes if r != "cpsat"]:
                        t0 = time.perf_counter()
                        broken = 0
                        if route == "native":
                            cut, _ = max_k_cut(n, edges, weights, k, time_limit=T, seed=seed)
                        else:
                            if bqm is None:
                                bqm = one_hot_bqm(n, edges, weights, k, float(degree.max()))
                            sample, _, _ = run_bqm(route, bqm, T, seed)
                            parts, broken = decode_one_hot(sample, n, k)
                            inside = parts[edges[:, 0]] == parts[edges[:, 1]]
                            cut = float(weights[~inside].sum())
                        emit({"part": "maxcut", "instance": name, "n": n, "k": k, "seed": seed,
                              "route": route, "time_limit": T, "cut": float(cut),
                              "one_hot_violations": broken,
                              "wall_seconds": time.perf_counter() - t0})


def cqm_instances(args):
    gen = dimod.generators
    for items in args.knapsack:
        yield f"knapsack-{items}", gen.random_knapsack(items, seed=items)
    for items in args.bin_packing:
        yield f"bin_packing-{items}", gen.random_bin_packing(items, seed=items)
    for items, bins in args.multi_knapsack:
        yield f"multi_knapsack-{items}x{bins}", gen.random_multi_knapsack(items, bins, seed=items)


def cqm_part(args, emit):
    for name, cqm in cqm_instances(args):
        bqm = invert = None
        for T in args.time_limits:
            for seed in args.seeds:
                for route in args.routes:
                    t0 = time.perf_counter()
                    rec = {"part": "cqm", "instance": name, "variables": len(cqm.variables),
                           "seed": seed, "route": route, "time_limit": T}
                    if route == "native":
                        ss = CombOptSampler().sample_cqm(cqm, num_reads=1, seed=seed,
                                                         time_limit=T)
                        sample, status = ss.first.sample, None
                        rec["multipliers_max"] = max(ss.info["multipliers"].values(), default=0)
                    elif route == "cpsat":
                        sample, status = cpsat_cqm(cqm, T, seed)
                    else:
                        if bqm is None:
                            bqm, invert = dimod.cqm_to_bqm(cqm)
                        bsample, _, _ = run_bqm(route, bqm, T, seed)
                        sample, status = invert(bsample), None
                    rec["status"] = status
                    if sample is not None:
                        rec.update(feasible=bool(cqm.check_feasible(sample)),
                                   objective=float(cqm.objective.energy(sample)))
                    else:
                        rec.update(feasible=False, objective=None)
                    rec["wall_seconds"] = time.perf_counter() - t0
                    emit(rec)


# ------------------------------------------------------------------ tables


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _fmt(value, spec=".3g"):
    return "–" if value is None else format(value, spec)


def tables(records, routes):
    by = {}
    for r in records:
        by.setdefault((r["part"], r["instance"], r.get("k"), r["time_limit"]), {}).setdefault(
            r["route"], []).append(r)
    lines = []
    for part in ("coloring", "maxcut", "cqm"):
        keys = [key for key in by if key[0] == part]
        if not keys:
            continue
        ran = [route for route in routes if any(route in by[key] for key in keys)]
        head = {"coloring": "graph | k | T", "maxcut": "graph | k | T", "cqm": "instance | T"}[part]
        cell = {"coloring": "conflicts / valid / s to valid", "maxcut": "median cut",
                "cqm": "feasible / median objective"}[part]
        lines += ["", f"{part}: {cell}", "",
                  f"| {head} | " + " | ".join(ran) + " |",
                  "|---" * (len(head.split("|")) + len(ran)) + "|"]
        for key in keys:
            cells = []
            for route in ran:
                runs = by[key].get(route, [])
                if not runs:
                    cells.append("")
                elif part == "coloring":
                    valid = sum(r["valid"] for r in runs)
                    cells.append(f"{_fmt(_median(r['conflicts'] for r in runs), 'g')} / "
                                 f"{valid}/{len(runs)} / "
                                 f"{_fmt(_median(r['first_valid_seconds'] for r in runs), '.2f')}")
                elif part == "maxcut":
                    cells.append(_fmt(_median(r["cut"] for r in runs), "g"))
                else:
                    feasible = [r for r in runs if r["feasible"]]
                    proved = " (opt)" if any(r.get("status") == "OPTIMAL" for r in runs) else ""
                    cells.append(f"{len(feasible)}/{len(runs)} / "
                                 f"{_fmt(_median(r['objective'] for r in feasible), 'g')}{proved}")
            label = (f"{key[1]} | {key[2]} | {key[3]:g}" if part != "cqm"
                     else f"{key[1]} | {key[3]:g}")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["coloring", "maxcut", "cqm"],
                        choices=["coloring", "maxcut", "cqm"])
    parser.add_argument("--routes", nargs="+", default=["native", *BQM_ROUTES, "cpsat"],
                        choices=["native", *BQM_ROUTES, "cpsat"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--time-limits", nargs="+", type=float, default=None,
                        help="seconds per run (default: 10 for coloring and cqm; 1 and 10 for "
                             "maxcut; coloring uses the last one)")
    parser.add_argument("--graphs", nargs="*", help="coloring graphs (default: all 32)")
    parser.add_argument("--gset", nargs="*", help="G-set graphs (default: G1..G21)")
    parser.add_argument("--ks", nargs="+", type=int, default=[3, 4])
    parser.add_argument("--knapsack", nargs="*", type=int, default=[40, 100, 200])
    parser.add_argument("--bin-packing", nargs="*", type=int, default=[10, 20, 30])
    parser.add_argument("--multi-knapsack", nargs="*", default=["30x3", "60x4", "100x5"],
                        type=lambda s: tuple(int(p) for p in s.split("x")))
    parser.add_argument("--out", default="finite_domain.jsonl")
    args = parser.parse_args()
    args.routes, notes = routes_available(args.routes)
    for note in notes:
        print(f"note: {note}")
    t_warm = time.perf_counter()
    warmup()
    print(f"warmup (Numba compile or cache load, excluded): {time.perf_counter() - t_warm:.1f} s")
    records = []

    def emit(record):
        records.append(record)
        with open(args.out, "a") as fh:
            fh.write(json.dumps(record) + "\n")
        print(json.dumps(record), flush=True)

    for part in args.parts:
        saved = args.time_limits
        if saved is None:
            args.time_limits = [1.0, 10.0] if part == "maxcut" else [10.0]
        {"coloring": coloring_part, "maxcut": maxcut_part, "cqm": cqm_part}[part](args, emit)
        args.time_limits = saved
    print(tables(records, args.routes))


if __name__ == "__main__":
    main()
