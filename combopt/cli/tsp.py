"""``combopt tsp``: solve a TSP instance through the engine in one of its three encodings.

SOURCE is a TSPLIB ``.tsp`` file, a distance matrix file (``.npy``, ``.txt``,
``.csv``) or the name of a published TSPLIB instance (``berlin52``, looked up
in ``$COMBOPT_DATA/tsplib``). The gap is measured against the published
optimum, or Held-Karp for n <= 12.

Examples
--------
::

    combopt tsp berlin52 --time-limit 5 --seed 1 --json
    combopt tsp berlin52 --encoding permutation --time-limit 5 --seed 1
    combopt tsp ulysses16 --encoding qubo --strategy tabu --plot tour.png
"""

from __future__ import annotations

import contextlib

from combopt.cli._argtypes import integer, positive_real, seed
from combopt.cli._output import print_record, progress_bar
from combopt.strategies import STRATEGIES
from combopt.tsp.plot import save_tour_plot
from combopt.tsp.solve import ENCODINGS, solve_tsp

#: Runs at least this long (seconds) show a progress bar on a terminal.
LONG_RUN = 10.0


def register(subparsers) -> None:
    """Add the ``tsp`` sub-command."""
    p = subparsers.add_parser(
        "tsp",
        help="solve a travelling salesman instance (TSPLIB file, matrix or name)",
        description="Solve a TSP instance with the engine, in the successor (default for "
                    "symmetric instances), permutation or QUBO encoding.",
    )
    p.add_argument("source", metavar="SOURCE", help="TSPLIB .tsp file, matrix file or TSPLIB name")
    p.add_argument("--encoding", default=None, choices=ENCODINGS,
                   help="default: successor (symmetric), permutation (asymmetric)")
    p.add_argument("--strategy", choices=tuple(STRATEGIES),
                   help="default: auto = ils (successor), anneal (permutation), tabu (qubo)")
    p.add_argument("--time-limit", type=positive_real, default=5.0, metavar="SEC",
                   help="seconds of engine search (default 5)")
    p.add_argument("--num-reads", type=integer(1), default=None, metavar="R",
                   help="independent reads (default: 1 for successor, 4 otherwise)")
    p.add_argument("--seed", type=seed, default=None, metavar="K")
    p.add_argument("--lagrange", type=positive_real, default=None, metavar="W",
                   help="QUBO penalty weight (default: dimod's)")
    p.add_argument("--refine", action="store_true",
                   help="post-process with 2-opt/Or-opt (engine length reported apart)")
    p.add_argument("--json", action="store_true",
                   help="print the record as one JSON line (tour: 1-based TSPLIB city ids)")
    p.add_argument("--plot", metavar="FILE", help="draw the tour over the coordinates to FILE")
    p.set_defaults(handler=run)


@contextlib.contextmanager
def _progress(args):
    """Yield the solver callback: a bar with the best so far on a terminal for long runs."""
    if args.time_limit < LONG_RUN:
        yield None
        return
    # The QUBO's energies carry penalties; the tour encodings' energy is the length.
    label = "best energy" if args.encoding == "qubo" else "best length"
    with progress_bar(args.time_limit, "s", f"tsp {args.source}") as update:
        yield lambda p: update(round(p.seconds, 1), **{label: f"{p.best_energy:g}"})


def run(args) -> int:
    """Handle ``combopt tsp``; return the exit code."""
    if args.lagrange is not None and args.encoding != "qubo":
        raise ValueError("--lagrange applies to --encoding qubo only")
    with _progress(args) as callback:
        result = solve_tsp(args.source, args.encoding, args.strategy, time_limit=args.time_limit,
                           num_reads=args.num_reads, seed=args.seed, lagrange=args.lagrange,
                           refine=args.refine, callback=callback)
    if args.plot:
        save_tour_plot(result.instance, result.tour, args.plot)
    record = result.to_record()
    if args.json:
        print_record(record)
        return 0
    t = record["timing"]
    gap = "" if record["gap_percent"] is None else f"  gap {record['gap_percent']:.2f}%"
    print(f"{record['instance']} (n={record['n']}, {record['encoding']}, {record['strategy']}): "
          f"length {record['length']:g}{gap}  valid {record['valid']}  "
          f"feasible reads {record['feasible_reads']}/{record['num_reads']}  "
          f"search {t['search']:.2f} s (compile {t['compile']:.2f} s, total {t['total']:.2f} s)")
    if result.refined:
        engine_gap = record["engine_gap_percent"]
        extra = "" if engine_gap is None else f" (gap {engine_gap:.2f}%)"
        print(f"engine alone: {record['engine_length']:g}{extra}; refined by 2-opt/Or-opt")
    print("tour (1-based city ids): " + " ".join(str(c) for c in record["tour"]))
    return 0
