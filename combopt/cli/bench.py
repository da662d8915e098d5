"""``combopt bench``: sampler sweeps streamed to JSONL, and their reports.

::

    combopt bench run --instances bqp250,G1-G21 --samplers all --seeds 1-5 \\
        --out runs.jsonl [--time-limit SEC] [--resume] [--workers K]
        [--executor dask --scheduler tcp://HOST:8786]
    combopt bench report runs.jsonl --out report/

Without ``--time-limit`` every sampler gets the wall time SA's default run
takes on each instance. ``--resume`` repairs a torn last line first (and says
so); ``SIGTERM`` or ``Ctrl-C`` stops the workers and keeps every finished run.
See ``docs/benchmarks.md``.
"""

from __future__ import annotations

import re
import sys

from combopt._validation import SEED_LIMIT
from combopt.bench.runners import SAMPLERS, available_samplers, unavailable
from combopt.cli._output import print_record

_SEEDS = re.compile(r"(\d+)(?:-(\d+))?\Z")


def parse_seeds(text: str) -> list[int]:
    """``"1-3,7"`` -> ``[1, 2, 3, 7]``; seeds are in ``[0, 2**53)`` like every seed of the package.

    Examples
    --------
    >>> parse_seeds("1-3,7")
    [1, 2, 3, 7]
    """
    seeds: list[int] = []
    for item in text.split(","):
        m = _SEEDS.match(item.strip())
        if m is None:
            raise ValueError(f"bad seed list item {item!r}: expected K or K-L")
        lo = int(m.group(1))
        hi = int(m.group(2) or lo)
        if hi < lo or hi >= SEED_LIMIT:
            raise ValueError(f"bad seed range {item!r}: seeds are integers in [0, 2**53)")
        seeds.extend(s for s in range(lo, hi + 1) if s not in seeds)
    return seeds


def parse_samplers(text: str) -> list[str]:
    """``"all"``, ``"combopt"`` (every combopt sampler) or a comma-separated list.

    The groups hold the samplers this combopt can run (``combopt-auto`` only
    where the strategy exists); naming one it cannot run is an error.

    Examples
    --------
    >>> parse_samplers("combopt-tabu,sa")
    ['combopt-tabu', 'sa']
    """
    available = available_samplers()
    if text == "all":
        return available
    out: list[str] = []
    for item in (s.strip() for s in text.split(",")):
        group = [s for s in available if s.startswith("combopt-")] if item == "combopt" else [item]
        for s in group:
            if s not in SAMPLERS:
                raise ValueError(f"unknown sampler {s!r}; choose from all, combopt, "
                                 f"{', '.join(available)}")
            if unavailable(s):
                raise ValueError(unavailable(s))
            if s not in out:
                out.append(s)
    return out


def register(subparsers) -> None:
    """Add the ``bench`` sub-command and its ``run`` / ``report`` actions."""
    p = subparsers.add_parser("bench", help="benchmark sweeps against the dimod samplers",
                              description="Sampler sweeps (JSONL) and their reports.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    actions.required = True
    run = actions.add_parser("run", help="run a sweep, appending one JSON line per run")
    run.add_argument("--instances", required=True,
                     help="comma list of names, sets (bqp250, gka, gset) or ranges (G1-G21)")
    run.add_argument("--samplers", default="all",
                     help=f"all, combopt, or a comma list of: {', '.join(SAMPLERS)}")
    run.add_argument("--seeds", default="1-5",
                     help="e.g. 1-5 or 1,4,9, in [0, 2**53) (default 1-5)")
    run.add_argument("--time-limit", type=float, metavar="SEC",
                     help="wall seconds per run; default: SA's default-run time on each instance")
    run.add_argument("--num-reads", type=int, default=1, metavar="R")
    run.add_argument("--target-gap", type=float, default=0.0, metavar="PCT",
                     help="success / time to target: within PCT%% of the best known (default 0)")
    run.add_argument("--out", required=True, metavar="FILE.jsonl")
    run.add_argument("--resume", action="store_true",
                     help="repair a torn last line, then skip runs already in --out")
    run.add_argument("--workers", type=int, metavar="K",
                     help="local processes (default: CPU count; 0 = in this process)")
    run.add_argument("--executor", choices=("local", "dask"), default="local")
    run.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler (with --executor dask)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--json", action="store_true",
                     help="print a one-line JSON summary instead of the text one")
    run.set_defaults(handler=run_sweep)
    rep = actions.add_parser("report", help="markdown table and figures from a JSONL file")
    rep.add_argument("jsonl", metavar="FILE.jsonl")
    rep.add_argument("--out", required=True, metavar="DIR")
    rep.add_argument("--no-figures", action="store_true")
    rep.add_argument("--json", action="store_true",
                     help="print {\"report\": PATH} as one JSON line")
    rep.set_defaults(handler=report)


def run_sweep(args) -> int:
    """Handler of ``combopt bench run``."""
    from combopt.bench import Sweep, Terminated
    from combopt.instances import expand

    if args.executor == "dask" and not args.scheduler:
        raise ValueError("--executor dask needs --scheduler ADDRESS")
    if args.workers is not None and args.workers < 0:
        raise ValueError(f"--workers must be >= 0, got {args.workers}")
    sweep = Sweep(expand(args.instances), parse_samplers(args.samplers), parse_seeds(args.seeds),
                  args.out, time_limit=args.time_limit, num_reads=args.num_reads,
                  target_gap=args.target_gap)
    count = []
    try:
        written = sweep.run(workers=args.workers, executor=args.executor,
                            scheduler=args.scheduler, resume=args.resume,
                            progress=not args.no_progress and sys.stderr.isatty(),
                            on_record=count.append, notify=_warn)
    except Terminated:
        print(f"combopt bench: terminated; {len(count)} runs appended to {args.out} "
              "(--resume continues)", file=sys.stderr)
        return 128 + 15
    errors = [r for r in written if r["kind"] == "error"]
    if args.json:
        print_record({"out": args.out, "appended": len(written) - len(errors),
                      "errors": [{"key": r["key"], "error": r["error"]} for r in errors]})
        return 1 if errors else 0
    print(f"{len(written) - len(errors)} runs appended to {args.out}")
    if errors:
        print(f"{len(errors)} runs failed (\"kind\": \"error\" lines, e.g. {errors[0]['key']}: "
              f"{errors[0]['error']}); --resume retries them", file=sys.stderr)
        return 1
    return 0


def report(args) -> int:
    """Handler of ``combopt bench report``."""
    from combopt.bench.report import write_report

    path = write_report(args.jsonl, args.out, figures=not args.no_figures, on_torn=_warn)
    if args.json:
        print_record({"report": str(path)})
    else:
        print(path)
    return 0


def _warn(message: str) -> None:
    print(f"combopt bench: {message}", file=sys.stderr)
