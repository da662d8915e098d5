"""Gap to the optimum of the default TSP route (successor encoding, ``ils``) on TSPLIB.

Public API only (:func:`combopt.tsp.solve_tsp`). Each instance is solved once
per seed at the given wall-clock budget of engine search (compile time is
excluded from the budget and reported apart); the table gives the mean and
worst gap over the seeds. Needs ``COMBOPT_DATA`` (``$COMBOPT_DATA/tsplib``).

Usage::

    python experiments/tsp_successor.py small --time-limit 5 --seeds 3
    python experiments/tsp_successor.py mid --time-limit 30 --seeds 3
    python experiments/tsp_successor.py large --time-limit 60 --seeds 3
    python experiments/tsp_successor.py eil51 pr299 --time-limit 2 --seeds 1

Classes: ``small`` (the 20 instances with n <= 76), ``mid`` (pr299 ... pr1002),
``large`` (pcb1173, pr2392). Figures taken on a loaded machine are provisional.
"""

from __future__ import annotations

import argparse
import statistics

from combopt.tsp import load_instance, solve_tsp

CLASSES = {
    "small": ["burma14", "ulysses16", "gr17", "gr21", "ulysses22", "gr24", "fri26", "bayg29",
              "bays29", "dantzig42", "swiss42", "att48", "gr48", "hk48", "eil51", "berlin52",
              "brazil58", "st70", "eil76", "pr76"],
    "mid": ["pr299", "lin318", "rd400", "pcb442", "att532", "rat783", "pr1002"],
    "large": ["pcb1173", "pr2392"],
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="instance names or classes: small, mid, large")
    parser.add_argument("--time-limit", type=float, default=5.0)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--num-reads", type=int, default=1)
    args = parser.parse_args(argv)
    names = [m for name in args.names for m in CLASSES.get(name, [name])]
    print(f"successor encoding, default strategy; {args.time_limit:g} s, "
          f"{args.num_reads} read(s), seeds 1..{args.seeds}")
    print(f"{'instance':<10} {'n':>5} {'mean gap %':>10} {'worst %':>8} {'compile s':>9}  gaps")
    means = []
    for name in names:
        instance = load_instance(name)
        gaps, compile_seconds = [], 0.0
        for seed in range(1, args.seeds + 1):
            res = solve_tsp(instance, time_limit=args.time_limit, num_reads=args.num_reads,
                            seed=seed)
            gaps.append(res.gap_percent)
            compile_seconds = max(compile_seconds, res.timing["compile"])
        means.append(statistics.mean(gaps))
        listed = " ".join(f"{g:.2f}" for g in gaps)
        print(f"{name:<10} {instance.n:>5} {means[-1]:>10.3f} {max(gaps):>8.2f} "
              f"{compile_seconds:>9.2f}  {listed}", flush=True)
    print(f"mean over {len(names)} instances: {statistics.mean(means):.3f}%")


if __name__ == "__main__":
    main()
