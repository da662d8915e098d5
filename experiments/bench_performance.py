"""Quality at equal wall time: combopt against dwave's SA and TabuSampler (issue 11, item 4).

For each time limit (default 1 s and 10 s) every sampler gets that wall time
per run, one read, one thread, on each instance and seed: combopt through
``solve(time_limit=T)``, SA with its sweeps fitted so that its wall time,
preprocessing included, is ``T`` (``combopt.bench.calibrate``; the fit is
checked at ``T`` and recorded), TabuSampler with ``timeout = T``. Every run
is streamed to one JSONL file as it finishes (resumable with ``--resume``)
and records the wall time it achieved. Printed per time limit and instance
class, side by side:

* the mean gap to the best known of every sampler;
* for each combopt sampler, its mean gap as a ratio to SA's and its median
  time to the best known as a ratio to TabuSampler's, with the issue's
  targets (G-set: gap <= 0.5x SA's; bqp and gka: gap <= SA's and <= Tabu's,
  time to target <= 0.5x Tabu's);
* the median achieved wall time of every sampler, with the number of its
  runs that missed the time limit by more than 10% (runs that stopped at the
  target do not count).

Usage (from the project root; needs the published data)::

    COMBOPT_DATA=../shared/data python experiments/bench_performance.py \\
        --time-limits 1,10 --seeds 1-5 --workers 2 \\
        --out docs/benchmarks/equal_time.jsonl --report docs/benchmarks/equal_time [--resume]

The defaults are the issue's set: G-set G1-G21 and G43-G47, bqp250, bqp500
and the GKA sets, samplers combopt-tabu, combopt-metropolis (and
combopt-auto where ``solve`` has it), sa and tabu, seeds 1-5. Compile time
never enters a measured run (each worker warms the kernels first).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

from combopt.bench import Sweep, read_records
from combopt.bench.report import summarise, write_report
from combopt.bench.runners import unavailable
from combopt.cli.bench import parse_samplers, parse_seeds
from combopt.instances import expand

DEFAULT_INSTANCES = "G1-G21,G43-G47,bqp250,bqp500,gka"
DEFAULT_SAMPLERS = ["combopt-tabu", "combopt-metropolis", "combopt-auto", "sa", "tabu"]


def _cell(value, spec=".3f", width=10):
    if value is None:
        return f"{'–':>{width}}"
    if value == float("inf"):
        return f"{'∞':>{width}}"
    return f"{value:>{width}{spec}}"


def _gap_ratio(ours, sa):
    if ours is None or sa is None:
        return None
    if sa == 0:
        return 1.0 if ours == 0 else float("inf")
    return ours / sa


def tables(records, source: str) -> list[str]:
    """The printed tables for the runs at one time limit (``time_limit_source``)."""
    runs = [r for r in records if r.get("time_limit_source") == source]
    _, per_class = summarise(runs)
    classes = sorted({c for c, _ in per_class})
    samplers = list(dict.fromkeys(r["sampler"] for r in runs))
    ours = [s for s in samplers if s.startswith("combopt-")]
    head = f"{'class':8s}" + "".join(f"{s[:18]:>20s}" for s in samplers)
    lines = [f"== time limit {source} ==", "", "mean gap to best known, %", head]
    for cls in classes:
        lines.append(f"{cls:8s}" + "".join(
            _cell(per_class.get((cls, s), {}).get("mean_gap"), width=20) for s in samplers))
    lines += ["", "median achieved wall time, s (runs off the time limit by > 10%)", head]
    for cls in classes:
        cells = []
        for s in samplers:
            m = per_class.get((cls, s))
            cells.append(f"{'–':>20s}" if m is None else
                         f"{m['median_wall']:>14.3f} ({m['off_time_limit']:>3d})")
        lines.append(f"{cls:8s}" + "".join(cells))
    lines += ["", (f"{'class':8s} {'sampler':20s} {'gap / SA':>9s} {'TTT / Tabu':>11s} "
                   f"{'success %':>10s}  targets")]
    for cls in classes:
        sa, tabu = per_class.get((cls, "sa")), per_class.get((cls, "tabu"))
        for s in ours:
            m = per_class.get((cls, s))
            if m is None:
                continue
            ratio = _gap_ratio(m["mean_gap"], sa and sa["mean_gap"])
            ttt = m["ttt_ratio_to_tabu"]
            lines.append(f"{cls:8s} {s:20s} {_cell(ratio, '.2f', 9)} {_cell(ttt, '.2f', 11)} "
                         f"{100 * m['success']:>10.0f}  {_verdict(cls, m, sa, tabu, ratio)}")
    return [*lines, ""]


def _verdict(cls, m, sa, tabu, ratio) -> str:
    """The issue's targets for this class, met or missed."""
    if ratio is None:
        return "n/a (no SA runs)"
    if cls == "gset":
        return f"gap <= 0.5x SA: {'met' if ratio <= 0.5 else 'MISSED'}"
    if tabu is None or m["mean_gap"] is None:
        return "n/a (no Tabu runs)"
    gap_ok = ratio <= 1.0 and m["mean_gap"] <= tabu["mean_gap"]
    ttt = m["ttt_ratio_to_tabu"]
    ttt_txt = "n/a" if ttt is None else ("met" if ttt <= 0.5 else "MISSED")
    return f"gap <= SA and Tabu: {'met' if gap_ok else 'MISSED'}; TTT <= 0.5x Tabu: {ttt_txt}"


def _time_limits(text: str) -> list[float]:
    try:
        limits = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ValueError(f"--time-limits must be a comma list of seconds, got {text!r}") from None
    if not limits or not all(0 < t < float("inf") for t in limits):
        raise ValueError(f"--time-limits must be positive, finite seconds, got {text!r}")
    return limits


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limits", default="1,10", metavar="SEC[,SEC...]")
    parser.add_argument("--instances", default=DEFAULT_INSTANCES)
    parser.add_argument("--samplers", default=None,
                        help=f"default: {','.join(DEFAULT_SAMPLERS)} (those this combopt has)")
    parser.add_argument("--seeds", default="1-5")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes, one single-threaded run each (default: CPU count)")
    parser.add_argument("--out", default="bench_equal_time.jsonl")
    parser.add_argument("--report", default=None, help="directory for report.md and figures")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    if not os.environ.get("COMBOPT_DATA"):
        print("set COMBOPT_DATA to the published data (e.g. ../shared/data)", file=sys.stderr)
        return 2
    try:
        limits = _time_limits(args.time_limits)
        samplers = (parse_samplers(args.samplers) if args.samplers
                    else [s for s in DEFAULT_SAMPLERS if unavailable(s) is None])
        instances, seeds = expand(args.instances), parse_seeds(args.seeds)
    except ValueError as exc:
        print(f"bench_performance: error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(instances)} instances x {len(samplers)} samplers ({', '.join(samplers)}) x "
          f"{len(seeds)} seeds at {limits} s -> {args.out}", flush=True)

    def notify(message: str) -> None:
        print(f"note: {message}", file=sys.stderr, flush=True)

    for k, limit in enumerate(limits):
        sweep = Sweep(instances, samplers, seeds, args.out, time_limit=limit)
        # The file holds every time limit: after the first, each sweep continues it.
        written = sweep.run(workers=args.workers, resume=args.resume or k > 0,
                            progress=sys.stderr.isatty(), notify=notify)
        print(f"{limit:g} s: {len(written)} new runs in {args.out}", flush=True)
    records = read_records(args.out, on_torn=notify)
    calib = [r for r in records if r.get("kind") == "calibration" and r.get("time_limit")]
    for limit in limits:
        checks = [r["checks"][-1][1] for r in calib if r["time_limit"] == limit]
        if checks:
            print(f"SA calibration at {limit:g} s: check runs took "
                  f"{statistics.median(checks):.3f} s (median of {len(checks)} instances)")
    for limit in limits:
        print("\n".join(tables(records, f"{limit}s")))
    if args.report:
        print(write_report(args.out, args.report, on_torn=notify))
    return 0


if __name__ == "__main__":
    sys.exit(main())
