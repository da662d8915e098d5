"""``combopt color``: colour a DIMACS graph through the engine's categorical kind.

SOURCE is a ``.col`` file or the name of a published graph in
``$COMBOPT_DATA/coloring``. With ``--colors K`` the search minimises the
conflicts of a K-colouring; without it, it starts from DSATUR's colouring and
searches downwards, reporting the smallest conflict-free K found in the time.

Examples
--------
::

    combopt color queen8_8 --colors 9 --time-limit 10 --seed 1 --json
    combopt color myciel7.col --time-limit 5
"""

from __future__ import annotations

import json

from combopt.cli._argtypes import integer, positive_real
from combopt.coloring import color_graph, load_graph
from combopt.strategies import STRATEGIES


def register(subparsers) -> None:
    """Add the ``color`` sub-command."""
    p = subparsers.add_parser(
        "color",
        help="colour a DIMACS .col graph (file or published name)",
        description="Graph colouring by tabu search over each vertex's colour (no one-hot QUBO).",
    )
    p.add_argument("source", metavar="SOURCE", help=".col file or published graph name")
    p.add_argument("--colors", type=integer(1), default=None, metavar="K",
                   help="number of colours (default: search downwards from DSATUR's)")
    p.add_argument("--time-limit", type=positive_real, default=10.0, metavar="SEC",
                   help="seconds for the whole search (default 10)")
    p.add_argument("--seed", type=integer(0), default=0, metavar="S")
    p.add_argument("--strategy", choices=("tabucol", *STRATEGIES), default="tabucol",
                   help="tabucol (default): tabu tuned for colouring; or an engine strategy")
    p.add_argument("--json", action="store_true", help="print one JSON record on one line")
    p.set_defaults(handler=run)


def run(args) -> int:
    """Handle ``combopt color``; return the exit code (0 also when conflicts remain)."""
    graph = load_graph(args.source)
    result = color_graph(graph, args.colors, time_limit=args.time_limit, seed=args.seed,
                         strategy=args.strategy)
    record = result.to_record()
    if args.json:
        print(json.dumps(record, separators=(",", ":")))
        return 0
    known = "" if result.best_known is None else f"  best known {result.best_known}"
    print(f"{record['instance']} (n={record['n']}, {record['edges']} edges): "
          f"{record['colors']} colours, {record['conflicts']} conflicts, valid {record['valid']}"
          f"{known}  DSATUR {record['dsatur_colors']}  {record['strategy']}  "
          f"{record['seconds']:.2f} s")
    return 0
