"""Issue 4's performance comparison: combopt against SA and Tabu at SA's budget.

Every sampler gets, on each instance, the wall time dwave-samplers'
``SimulatedAnnealingSampler`` needs for its default run (1000 sweeps, one
read); the sweep is streamed to a JSONL file (resumable) and summarised per
instance class, side by side:

* mean gap to best known of the best combopt strategy, of SA and of Tabu
  (target: combopt <= both, class by class);
* median time to reach the best known, as a ratio to TabuSampler's
  (target: <= 0.5 on bqp250 and bqp500).

Usage (from the project root; needs the published data)::

    COMBOPT_DATA=../shared/data python experiments/bench_performance.py \\
        --out docs/benchmarks/sa_budget.jsonl --report docs/benchmarks [--resume]
        [--instances bqp250,bqp500,G1-G21] [--seeds 1-5] [--workers 2]

The defaults are the full sweep of the issue (bqp250, bqp500, G1-G21, every
sampler, five seeds). Compile time never enters a measured run (each worker
warms the kernels first).
"""

from __future__ import annotations

import argparse
import os
import sys

from combopt.bench import SAMPLERS, Sweep, read_records
from combopt.bench.report import summarise, write_report
from combopt.cli.bench import parse_samplers, parse_seeds
from combopt.instances import expand

COMBOPT = [s for s in SAMPLERS if s.startswith("combopt-")]


def side_by_side(records) -> list[str]:
    """Rows ``class | best combopt (gap) | SA gap | Tabu gap | TTT ratio | verdicts``."""
    _, per_class = summarise(records)
    rows = []
    for cls in sorted({c for c, _ in per_class}):
        ours = {s: per_class[(cls, s)] for s in COMBOPT if (cls, s) in per_class
                and per_class[(cls, s)]["mean_gap"] is not None}
        sa, tabu = per_class.get((cls, "sa")), per_class.get((cls, "tabu"))
        if not ours or sa is None or tabu is None:
            continue
        best = min(ours, key=lambda s: ours[s]["mean_gap"])
        gap = ours[best]["mean_gap"]
        ratio = ours[best]["ttt_ratio_to_tabu"]
        gap_ok = gap <= sa["mean_gap"] and gap <= tabu["mean_gap"]
        ratio_txt = "n/a" if ratio is None else f"{ratio:.2f}"
        ttt_ok = "n/a" if ratio is None else ("yes" if ratio <= 0.5 else "no")
        rows.append(
            f"{cls:8s} {best:16s} gap {gap:7.3f}%  SA {sa['mean_gap']:7.3f}%  "
            f"Tabu {tabu['mean_gap']:7.3f}%  gap target {'met' if gap_ok else 'MISSED':6s}  "
            f"TTT/Tabu {ratio_txt:>5s} (<= 0.5: {ttt_ok})  "
            f"success {100 * ours[best]['success']:.0f}% vs Tabu {100 * tabu['success']:.0f}%"
        )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", default="bqp250,bqp500,G1-G21")
    parser.add_argument("--samplers", default="all")
    parser.add_argument("--seeds", default="1-5")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", default="bench_sa_budget.jsonl")
    parser.add_argument("--report", default=None, help="directory for report.md and figures")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    if not os.environ.get("COMBOPT_DATA"):
        print("set COMBOPT_DATA to the published data (e.g. ../shared/data)", file=sys.stderr)
        return 2
    sweep = Sweep(expand(args.instances), parse_samplers(args.samplers), parse_seeds(args.seeds),
                  args.out)
    written = sweep.run(workers=args.workers, resume=args.resume, progress=sys.stderr.isatty())
    print(f"{len(written)} new runs in {args.out}")
    records = read_records(args.out)
    for row in side_by_side(records):
        print(row)
    if args.report:
        print(write_report(args.out, args.report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
