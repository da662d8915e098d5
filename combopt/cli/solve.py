"""``combopt solve``: solve one QUBO/Ising instance given by name or file.

SOURCE is a published instance name (``bqp250.3``, ``gka4d``, ``G14``; see
:mod:`combopt.instances`) or a file in any format :mod:`combopt.io` reads
(``FILE#K`` or ``--index K`` picks instance K of an OR-Library file). The
answer is reported in the instance's own sense (a maximum for OR-Library and
G-set, a minimum otherwise) with its gap to the best-known value.

Examples
--------
::

    combopt solve bqp50.1 --strategy tabu --seed 1 --json
    combopt solve model.coo --format coo --vartype SPIN --num-reads 8 --sample
"""

from __future__ import annotations

import json
import os
import time

from combopt.cli._argtypes import integer, positive_real
from combopt.instances import Instance, from_file, load
from combopt.io import FORMATS
from combopt.provenance import versions
from combopt.solver import solve
from combopt.strategies import STRATEGIES


def register(subparsers) -> None:
    """Add the ``solve`` sub-command."""
    p = subparsers.add_parser(
        "solve",
        help="solve a QUBO/Ising instance (name or file)",
        description="Solve one instance: a published name (bqp250.3, gka4d, G14) or a file.",
    )
    p.add_argument("source", metavar="SOURCE", help="instance name, FILE or FILE#K")
    p.add_argument("--format", default="auto", choices=("auto",) + FORMATS)
    p.add_argument("--index", type=integer(1), metavar="K",
                   help="instance K (1-based) of an OR-Library file")
    p.add_argument("--vartype", choices=("SPIN", "BINARY"),
                   help="vartype of a COO file without header; cut encoding for G-set")
    p.add_argument("--strategy", default="tabu", choices=tuple(STRATEGIES))
    p.add_argument("--num-reads", type=integer(1), default=1, metavar="R")
    p.add_argument("--time-limit", type=positive_real, metavar="SEC",
                   help="seconds of search (compile time excluded)")
    p.add_argument("--max-iterations", type=integer(1), metavar="T")
    p.add_argument("--seed", type=integer(0), metavar="K")
    p.add_argument("--json", action="store_true", help="print one JSON record")
    p.add_argument("--sample", action="store_true", help="include the best assignment")
    p.set_defaults(handler=run)


def resolve_source(source: str, fmt: str = "auto", index: int | None = None,
                   vartype: str | None = None) -> Instance:
    """Return the :class:`Instance` a SOURCE argument names.

    An existing file (or ``FILE#K`` of one) is read; otherwise SOURCE must be
    an instance name. Raises ``ValueError``/``OSError`` with a one-line message.
    """
    path_part = source.rpartition("#")[0] if "#" in source else source
    if os.path.exists(source) or (path_part and os.path.isfile(path_part)):
        return from_file(source, fmt, index=index, vartype=vartype)
    if fmt != "auto" or index is not None or os.sep in source:
        raise OSError(f"no such file: {source}")
    try:
        return load(source, vartype=vartype)
    except ValueError as exc:
        if str(exc).startswith("unknown instance name"):
            raise ValueError(f"{source!r} is neither a file nor an instance name "
                             "(bqpN.K, gkaXY, Gk)") from None
        raise


def record(instance: Instance, result, labels, wall: float, with_sample: bool) -> dict:
    """The JSON record of one solve (see the module docstring)."""
    objective = instance.objective(result.energy)
    rec = {
        "instance": instance.name,
        "n": instance.n,
        "strategy": result.strategy,
        "objective": objective,
        "sense": instance.sense,
        "best_known": instance.best_known,
        "gap_percent": instance.gap_percent(objective),
        "energy": result.energy,
        "seconds": wall,
        "evaluations": result.evaluations,
        "seed": result.seed,
        "num_reads": len(result.energies),
        "stop_reason": result.stop_reason,
        "timing": dict(result.timing),
        "versions": versions(),
    }
    if with_sample:
        values = [int(v) for v in result.x]
        rec["sample"] = values
        if labels != list(range(len(labels))):
            rec["variables"] = [v if isinstance(v, (int, str)) else str(v) for v in labels]
    return rec


def run(args) -> int:
    """Handler of ``combopt solve``."""
    instance = resolve_source(args.source, args.format, args.index, args.vartype)
    if instance.n == 0:
        raise ValueError(f"{instance.name}: the model has no variables")
    objective, domain, labels = instance.to_objective()
    t0 = time.perf_counter()
    result = solve(
        objective,
        domain,
        strategy=args.strategy,
        num_reads=args.num_reads,
        seed=args.seed,
        time_limit=args.time_limit,
        max_iterations=args.max_iterations,
        target_energy=None,
    )
    wall = time.perf_counter() - t0 - result.timing["compile"]
    rec = record(instance, result, labels, wall, args.sample)
    if args.json:
        print(json.dumps(rec))
        return 0
    best = "unknown" if rec["best_known"] is None else f"{rec['best_known']:g}"
    gap = "" if rec["gap_percent"] is None else f"  gap {rec['gap_percent']:.4f}%"
    print(f"{rec['instance']}: n={rec['n']}  {rec['sense']}imise  best known {best}")
    print(f"{rec['strategy']}: objective {rec['objective']:g}{gap}  energy {rec['energy']:g}")
    print(f"{rec['seconds']:.3f} s  {rec['evaluations']} evaluations  seed {rec['seed']}")
    if args.sample:
        print(" ".join(str(v) for v in rec["sample"]))
    return 0
