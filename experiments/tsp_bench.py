"""TSP at equal wall time: combopt beside OR-Tools, fast-tsp, elkai (LKH) and python-tsp.

Every instance of the chosen size classes runs once per peer and seed at its
class's budget; each finished run is appended to a JSON-lines file at once
(instance, n, class, peer, seed, time_limit (the budget), wall seconds achieved, length, gap to
the published optimum, valid), and the tables at the end are computed from
that file, so ``--resume`` continues an interrupted sweep and ``--report``
redraws the tables without running anything.

Size classes (TSPLIB instances in ``$COMBOPT_DATA/tsplib``) and budgets:

=========  ==============  ======
class      n               budget
=========  ==============  ======
small      n <= 76         5 s
mid        77 <= n <= 280  10 s
large      281 <= n <= 1002 30 s
xl         n > 1002        60 s
=========  ==============  ======

combopt runs ``combopt.tsp.solve_tsp(inst, time_limit=T, seed=s)`` with its
default encoding (add others with ``--encodings``); its kernels are compiled
before the first timed run. The peers are described in
``experiments/tsp_peers.py``; a missing peer is skipped with a one-line note.
**elkai wraps LKH, whose licence is non-commercial**; it has no time limit
(``--elkai-runs`` bounds it) and its achieved wall time is what to compare.

Usage (the machine is shared: a few instances at a time)::

    COMBOPT_DATA=../shared/data python experiments/tsp_bench.py \
        --classes small --seeds 1 2 3 --out results/tsp_bench.jsonl
    python experiments/tsp_bench.py --instances pr299 pcb442 --peers fast-tsp ortools \
        --seeds 1 --resume --out results/tsp_bench.jsonl
    python experiments/tsp_bench.py --report --out results/tsp_bench.jsonl
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from tsp_peers import PEERS, available, run_peer

from combopt import provenance
from combopt.bench.records import append_record, read_records, repair_tail
from combopt.tsp import best_known, load_instance, solve_tsp
from combopt.tsp.sources import tsplib_names

#: class -> (smallest n, largest n, default budget in seconds)
CLASSES = {"small": (1, 76, 5.0), "mid": (77, 280, 10.0), "large": (281, 1002, 30.0),
           "xl": (1003, 10**9, 60.0)}
ALL_PEERS = ("combopt", *PEERS)
#: What ``solve_tsp`` runs when no encoding is given.
DEFAULT_ENCODING = inspect.signature(solve_tsp).parameters["encoding"].default


def size_class(n: int) -> str:
    """The size class of an n-city instance."""
    return next(name for name, (lo, hi, _) in CLASSES.items() if lo <= n <= hi)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--classes", nargs="+", choices=tuple(CLASSES), default=["small"])
    p.add_argument("--instances", nargs="+", metavar="NAME",
                   help="instead of --classes: these instances (class from n)")
    p.add_argument("--budget", nargs="+", default=[], metavar="CLASS=SEC",
                   help="override a class budget, e.g. small=2 large=10")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--peers", nargs="+", choices=ALL_PEERS, default=list(ALL_PEERS))
    p.add_argument("--encodings", nargs="+", metavar="ENC",
                   help="combopt encodings to run (default: solve_tsp's default only)")
    p.add_argument("--elkai-runs", type=int, default=10, metavar="R")
    p.add_argument("--out", type=Path, default=Path("results/tsp_bench.jsonl"))
    p.add_argument("--resume", action="store_true",
                   help="skip runs already in --out (else --out must not exist)")
    p.add_argument("--json", action="store_true", help="print each record as a JSON line")
    p.add_argument("--report", action="store_true", help="only print the tables of --out")
    return p.parse_args(argv)


def budgets(overrides) -> dict:
    out = {name: spec[2] for name, spec in CLASSES.items()}
    for item in overrides:
        name, _, sec = item.partition("=")
        if name not in CLASSES or not sec:
            raise SystemExit(f"--budget: expected CLASS=SEC with CLASS in {tuple(CLASSES)}, "
                             f"got {item!r}")
        out[name] = float(sec)
    return out


def instance_names(args) -> list[str]:
    if args.instances:
        return list(args.instances)
    names = []
    for cls in args.classes:
        lo, hi, _ = CLASSES[cls]
        smaller = set(tsplib_names(max_n=lo - 1))
        found = [name for name in tsplib_names(max_n=hi) if name not in smaller]
        if not found:
            print(f"note: no instance of class {cls} in $COMBOPT_DATA/tsplib", file=sys.stderr)
        names += found
    return names


def runners(args) -> list[tuple[str, dict]]:
    """``(peer, options)`` for every requested and importable peer."""
    out = []
    for peer in args.peers:
        if peer == "combopt":
            for enc in args.encodings or [None]:
                out.append(("combopt", {"encoding": enc}))
        elif available(peer):
            out.append((peer, {"runs": args.elkai_runs} if peer == "elkai" else {}))
        else:
            print(f"note: {peer} is not installed, skipped "
                  "(pip install 'combopt[tsp-peers]')", file=sys.stderr)
    return out


def run_combopt(inst, seconds, seed, encoding):
    kwargs = {} if encoding is None else {"encoding": encoding}
    res = solve_tsp(inst, time_limit=seconds, seed=seed, **kwargs)
    extra = {"encoding": res.encoding, "num_reads": res.num_reads,
             "search_seconds": res.timing["search"], "compile_seconds": res.timing["compile"]}
    return res.tour, extra


def warm_up(encodings) -> None:
    """Compile (or load) combopt's kernels once so no timed run pays for it."""
    tiny = load_instance(np.array([[0, 3, 4, 5], [3, 0, 5, 4], [4, 5, 0, 3], [5, 4, 3, 0.0]]))
    for enc in encodings or [None]:
        run_combopt(tiny, 0.2, 0, enc)


def one_run(inst, peer, options, seconds, seed) -> dict:
    t0 = time.perf_counter()
    if peer == "combopt":
        tour, extra = run_combopt(inst, seconds, seed, options["encoding"])
    else:
        tour, extra = run_peer(peer, inst, seconds, seed, **options)
    wall = time.perf_counter() - t0
    tour = np.asarray(tour)
    valid = bool(tour.shape == (inst.n,) and np.array_equal(np.sort(tour), np.arange(inst.n)))
    length = inst.tour_length(tour) if valid else None
    optimum = best_known(inst.name)
    gap = None if (length is None or optimum is None) else 100.0 * (length - optimum) / optimum
    label = peer if peer != "combopt" else f"combopt/{extra['encoding']}"
    return {"experiment": "tsp_bench", "instance": inst.name, "n": inst.n,
            "class": size_class(inst.n), "peer": label, "seed": seed, "time_limit": seconds,
            "wall_seconds": wall, "length": length, "optimum": optimum, "gap_percent": gap,
            "valid": valid, **extra}


def _key(rec) -> tuple:
    return rec["instance"], rec["peer"], rec["seed"], rec["time_limit"]


def _label(peer, options) -> str:
    """The record's peer label, known before the run (what ``--resume`` matches)."""
    if peer != "combopt":
        return peer
    return f"combopt/{options['encoding'] or DEFAULT_ENCODING}"


def sweep(args) -> None:
    if args.out.exists() and not args.resume:
        raise SystemExit(f"{args.out} exists: pass --resume to continue it, or another --out")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if args.out.exists():
        note = repair_tail(args.out)
        if note:
            print(f"note: {note}", file=sys.stderr)
        done = {_key(r) for r in read_records(args.out) if r.get("experiment") == "tsp_bench"}
    limits = budgets(args.budget)
    plan = runners(args)
    if any(peer == "combopt" for peer, _ in plan):
        warm_up(args.encodings)
    meta = {**provenance.versions(), "cpus": os.cpu_count()}
    print(f"{'instance':<10} {'n':>5} {'peer':<22} {'seed':>4} {'budget':>6} {'wall':>6} "
          f"{'length':>10} {'gap%':>7}")
    for name in instance_names(args):
        inst = load_instance(name)
        seconds = limits[size_class(inst.n)]
        for peer, options in plan:
            for seed in args.seeds:
                label = _label(peer, options)
                if (inst.name, label, seed, seconds) in done:
                    continue
                rec = one_run(inst, peer, options, seconds, seed)
                rec.update(meta, load=os.getloadavg()[0])
                append_record(args.out, rec)
                if args.json:
                    print(json.dumps(rec), flush=True)
                else:
                    gap = "-" if rec["gap_percent"] is None else f"{rec['gap_percent']:.2f}"
                    length = "invalid" if rec["length"] is None else f"{rec['length']:g}"
                    print(f"{name:<10} {inst.n:>5} {rec['peer']:<22} {seed:>4} {seconds:>6g} "
                          f"{rec['wall_seconds']:>6.1f} {length:>10} {gap:>7}", flush=True)


def summary(records) -> dict:
    """``{class: {peer: {instance: [gaps]}}}`` of the valid runs with a known optimum."""
    out = {}
    for r in records:
        if r.get("experiment") == "tsp_bench" and r["valid"] and r["gap_percent"] is not None:
            cls = out.setdefault(r["class"], {})
            cls.setdefault(r["peer"], {}).setdefault(r["instance"], []).append(r["gap_percent"])
    return out


def _mean_gap(per_instance, names=None) -> float:
    names = per_instance if names is None else names
    return statistics.mean(statistics.mean(per_instance[k]) for k in names)


def report(path: Path) -> list[str]:
    records = read_records(path)
    table = summary(records)
    walls = {}
    for r in records:
        if r.get("experiment") == "tsp_bench":
            walls.setdefault((r["class"], r["peer"]), []).append(r["wall_seconds"])
    lines = ["| class | budget | peer | instances | runs | mean gap % | worst run % | "
             "median wall s |", "|---|---|---|---|---|---|---|---|"]
    for cls in (c for c in CLASSES if c in table):
        budget = statistics.median(r["time_limit"] for r in records
                                   if r.get("experiment") == "tsp_bench" and r["class"] == cls)
        for peer, per in sorted(table[cls].items()):
            runs = sum(len(v) for v in per.values())
            worst = max(max(v) for v in per.values())
            lines.append(f"| {cls} | {budget:g} s | {peer} | {len(per)} | {runs} | "
                         f"{_mean_gap(per):.2f} | {worst:.2f} | "
                         f"{statistics.median(walls[cls, peer]):.1f} |")
    lines += ["", "| class | combopt run | vs | common instances | combopt gap - peer gap "
              "(points) |", "|---|---|---|---|---|"]
    for cls in (c for c in CLASSES if c in table):
        for ours in (p for p in sorted(table[cls]) if p.startswith("combopt/")):
            for peer in ("fast-tsp", "ortools"):
                if peer not in table[cls]:
                    continue
                common = sorted(set(table[cls][ours]) & set(table[cls][peer]))
                if common:
                    diff = (_mean_gap(table[cls][ours], common)
                            - _mean_gap(table[cls][peer], common))
                    lines.append(f"| {cls} | {ours} | {peer} | {len(common)} | {diff:+.2f} |")
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    if not os.environ.get("COMBOPT_DATA") and not args.report:
        print("set COMBOPT_DATA to the published data folder", file=sys.stderr)
        return 2
    if not args.report:
        sweep(args)
    if not args.out.exists():
        print(f"{args.out}: no runs recorded", file=sys.stderr)
        return 2 if args.report else 0
    print("\n".join(report(args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
