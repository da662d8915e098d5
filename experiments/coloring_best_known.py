"""How many published DIMACS graphs get a conflict-free colouring at their best-known k.

Runs ``combopt.coloring.color_graph`` (one read, a fixed seed) on every graph of
``$COMBOPT_DATA/coloring`` at its best-known colour count, with a time budget
per graph, for each strategy given, and prints one line per graph and the
totals. Timing figures depend on the machine's load.

Usage::

    COMBOPT_DATA=/work/shared/data python experiments/coloring_best_known.py \\
        --time-limit 10 --strategies tabucol tabu auto
"""

from __future__ import annotations

import argparse
import csv

from combopt.coloring import color_graph, load_graph
from combopt.instances import data_dir
from combopt.solver import warmup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--strategies", nargs="+", default=["tabucol", "tabu", "auto"])
    args = parser.parse_args()
    with open(data_dir() / "coloring" / "best_known.csv", newline="") as fh:
        table = [(row["instance"], int(row["best_known"])) for row in csv.DictReader(fh)]
    warmup()
    solved = {s: 0 for s in args.strategies}
    print("| graph | n | edges | k | DSATUR | " + " | ".join(
        f"{s}: conflicts (s to valid)" for s in args.strategies) + " |")
    print("|---" * (5 + len(args.strategies)) + "|")
    for name, k in table:
        graph = load_graph(name)
        cells = []
        for strategy in args.strategies:
            r = color_graph(graph, k, time_limit=args.time_limit, seed=args.seed,
                            strategy=strategy)
            solved[strategy] += r.valid
            when = f" ({r.first_valid_seconds:.2f})" if r.valid else ""
            cells.append(f"{r.conflicts}{when} [{r.strategy}]")
        print(f"| {name} | {graph.num_vertices} | {graph.edges.shape[0]} | {k} | "
              f"{r.dsatur_colors} | " + " | ".join(cells) + " |", flush=True)
    print("solved at best-known k: " + ", ".join(
        f"{s} {solved[s]}/{len(table)}" for s in args.strategies))


if __name__ == "__main__":
    main()
