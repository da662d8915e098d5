"""Max-k-cut on G-set graphs through the categorical kind (no one-hot encoding).

For each graph and each k, one read of ``combopt.coloring.max_k_cut`` with a
fixed time budget; prints the cut (and, for positive weights, the fraction of the total weight cut).
No peer is run here: experiments/finite_domain.py compares the one-hot BQM routes.
Timing figures depend on the machine's load.

Usage::

    COMBOPT_DATA=/work/shared/data python experiments/max_k_cut_gset.py \\
        --graphs G1 G2 G3 --ks 3 4 --time-limit 1
"""

from __future__ import annotations

import argparse

import dimod
import numpy as np

from combopt.coloring import max_k_cut
from combopt.instances import data_dir
from combopt.io import read_gset
from combopt.solver import warmup


def gset_edges(name: str) -> tuple[int, np.ndarray, np.ndarray]:
    """``(n, edges, weights)`` of a G-set graph (its SPIN BQM holds ``w / 2`` per edge)."""
    bqm = read_gset(data_dir() / "gset" / name, vartype=dimod.SPIN)
    index = {v: k for k, v in enumerate(bqm.variables)}
    pairs = [(index[u], index[v], 2.0 * b) for (u, v), b in bqm.quadratic.items()]
    edges = np.array([(u, v) for u, v, _ in pairs], dtype=np.int64)
    return bqm.num_variables, edges, np.array([w for _, _, w in pairs])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", nargs="+", default=[f"G{i}" for i in range(1, 22)])
    parser.add_argument("--ks", nargs="+", type=int, default=[3, 4])
    parser.add_argument("--time-limit", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--strategy", default="auto")
    args = parser.parse_args()
    warmup()
    print("| graph | n | edges | " + " | ".join(f"k={k}: cut" for k in args.ks) + " |")
    print("|---" * (3 + len(args.ks)) + "|")
    for name in args.graphs:
        n, edges, weights = gset_edges(name)
        cells = []
        for k in args.ks:
            cut, _ = max_k_cut(n, edges, weights, k, time_limit=args.time_limit, seed=args.seed,
                               strategy=args.strategy)
            share = f" ({cut / weights.sum():.3f})" if np.all(weights > 0) else ""
            cells.append(f"{cut:g}{share}")
        print(f"| {name} | {n} | {edges.shape[0]} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
