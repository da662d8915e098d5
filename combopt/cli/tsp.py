"""``combopt tsp``: solve a TSP instance through the engine in either encoding.

SOURCE is a TSPLIB ``.tsp`` file, a distance matrix file (``.npy``, ``.txt``,
``.csv``) or the name of a published TSPLIB instance (``berlin52``, looked up
in ``$COMBOPT_DATA/tsplib``). The gap is measured against the published
optimum, or Held-Karp for n <= 12.

Examples
--------
::

    combopt tsp berlin52 --encoding permutation --time-limit 5 --seed 1 --json
    combopt tsp ulysses16 --encoding qubo --strategy tabu --plot tour.png
"""

from __future__ import annotations

import json
import math

from combopt.strategies import STRATEGIES
from combopt.tsp.plot import save_tour_plot
from combopt.tsp.solve import ENCODINGS, solve_tsp


def _number(option: str, kind, text: str, *, minimum: float, strict: bool):
    """Parse ``text`` as ``kind`` (int or float), at least (or above) ``minimum``."""
    what = "an integer" if kind is int else "a number"
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{option} must be {what}, got {text!r}") from None
    if not math.isfinite(value) or value < minimum or (strict and value == minimum):
        relation = ">" if strict else ">="
        raise ValueError(f"{option} must be a finite number {relation} {minimum:g}, got {text}")
    return value


def register(subparsers) -> None:
    """Add the ``tsp`` sub-command."""
    p = subparsers.add_parser(
        "tsp",
        help="solve a travelling salesman instance (TSPLIB file, matrix or name)",
        description="Solve a TSP instance with the engine, in the permutation or QUBO encoding.",
    )
    p.add_argument("source", metavar="SOURCE", help="TSPLIB .tsp file, matrix file or TSPLIB name")
    p.add_argument("--encoding", default="permutation", choices=ENCODINGS)
    p.add_argument("--strategy", choices=tuple(STRATEGIES),
                   help="default: anneal (permutation), tabu (qubo)")
    p.add_argument("--time-limit", type=str, default="5", metavar="SEC",
                   help="seconds of engine search (default 5)")
    p.add_argument("--num-reads", type=str, default="4", metavar="R")
    p.add_argument("--seed", type=str, default=None, metavar="K")
    p.add_argument("--lagrange", type=str, default=None, metavar="W",
                   help="QUBO penalty weight (default: dimod's)")
    p.add_argument("--refine", action="store_true",
                   help="post-process with 2-opt/Or-opt (engine length reported apart)")
    p.add_argument("--json", action="store_true", help="print one JSON record")
    p.add_argument("--plot", metavar="FILE", help="draw the tour over the coordinates to FILE")
    p.set_defaults(handler=run)


def run(args) -> int:
    """Handle ``combopt tsp``; return the exit code."""
    time_limit = _number("--time-limit", float, args.time_limit, minimum=0.0, strict=True)
    num_reads = _number("--num-reads", int, args.num_reads, minimum=1, strict=False)
    seed = None if args.seed is None else _number("--seed", int, args.seed, minimum=0,
                                                  strict=False)
    lagrange = None if args.lagrange is None else _number("--lagrange", float, args.lagrange,
                                                          minimum=0.0, strict=True)
    if lagrange is not None and args.encoding != "qubo":
        raise ValueError("--lagrange applies to --encoding qubo only")
    result = solve_tsp(args.source, args.encoding, args.strategy, time_limit=time_limit,
                       num_reads=num_reads, seed=seed, lagrange=lagrange, refine=args.refine)
    if args.plot:
        save_tour_plot(result.instance, result.tour, args.plot)
    record = result.to_record()
    if args.json:
        print(json.dumps(record))
        return 0
    gap = "" if record["gap_percent"] is None else f"  gap {record['gap_percent']:.2f}%"
    print(f"{record['instance']} (n={record['n']}, {record['encoding']}, {record['strategy']}): "
          f"length {record['length']:g}{gap}  valid {record['valid']}  "
          f"feasible reads {record['feasible_reads']}/{record['num_reads']}  "
          f"{record['seconds']:.2f} s")
    if result.refined:
        engine_gap = record["engine_gap_percent"]
        extra = "" if engine_gap is None else f" (gap {engine_gap:.2f}%)"
        print(f"engine alone: {record['engine_length']:g}{extra}; refined by 2-opt/Or-opt")
    print("tour: " + " ".join(str(c + 1) for c in record["tour"]))
    return 0
