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

import os
import time

from combopt.cli._argtypes import integer, positive_real, seed
from combopt.cli._output import format_sample, print_record, progress_bar, sample_mapping, timing
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
    p.add_argument("--format", default="auto", choices=("auto", *FORMATS))
    p.add_argument("--index", type=integer(1), metavar="K",
                   help="instance K (1-based) of an OR-Library file")
    p.add_argument("--vartype", choices=("SPIN", "BINARY"),
                   help="vartype of a COO file without header; cut encoding for G-set")
    p.add_argument("--strategy", default="auto", choices=tuple(STRATEGIES))
    p.add_argument("--num-reads", type=integer(1), default=1, metavar="R")
    p.add_argument("--time-limit", type=positive_real, metavar="SEC",
                   help="seconds of search (compile time excluded)")
    p.add_argument("--max-iterations", type=integer(1), metavar="T")
    p.add_argument("--seed", type=seed, metavar="K")
    p.add_argument("--json", action="store_true", help="print the record as one JSON line")
    p.add_argument("--sample", action="store_true",
                   help="include the best assignment as {label: value}, labels in numeric order")
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
                             "(bqpN.K, Gk, or NAME of a bqp/gka/NAME.sparse)") from None
        raise


def record(instance: Instance, result, labels, times: dict, with_sample: bool) -> dict:
    """The JSON record of one solve (see the module docstring).

    ``times`` is the :func:`~combopt.cli._output.timing` breakdown; ``seconds``
    is its ``search`` entry.
    """
    objective = instance.objective(result.energy)
    rec = {
        "instance": instance.name,
        "n": instance.n,
        "strategy": result.strategy,
        "auto": result.info.get("auto"),
        "objective": objective,
        "sense": instance.sense,
        "best_known": instance.best_known,
        "gap_percent": instance.gap_percent(objective),
        "energy": result.energy,
        "seconds": times["search"],
        "timing": times,
        "evaluations": result.evaluations,
        "seed": result.seed,
        "num_reads": len(result.energies),
        "stop_reason": result.stop_reason,
        "versions": versions(),
    }
    if with_sample:
        rec["sample"] = sample_mapping(labels, result.x)
    return rec


def run(args) -> int:
    """Handler of ``combopt solve``."""
    start = time.perf_counter()
    instance = resolve_source(args.source, args.format, args.index, args.vartype)
    if instance.n == 0:
        raise ValueError(f"{instance.name}: the model has no variables")
    objective, domain, labels = instance.to_objective()
    read = time.perf_counter() - start
    # The bar counts seconds of a time-limited run, iterations otherwise.
    by_clock = args.max_iterations is None and args.time_limit is not None
    with progress_bar(args.time_limit if by_clock else args.max_iterations,
                      "s" if by_clock else "it", instance.name) as update:
        result = solve(
            objective,
            domain,
            strategy=args.strategy,
            num_reads=args.num_reads,
            seed=args.seed,
            time_limit=args.time_limit,
            max_iterations=args.max_iterations,
            callback=lambda p: update(p.seconds if by_clock else p.iteration,
                                      best=f"{p.best_energy:g}"),
        )
    t = result.timing
    times = timing(read, t["compile"], t["solve"], time.perf_counter() - start,
                   preprocess=t["preprocess"], polish=t["polish"],
                   postprocess=t["postprocess"])
    rec = record(instance, result, labels, times, args.sample)
    if args.json:
        print_record(rec)
        return 0
    best = "unknown" if rec["best_known"] is None else f"{rec['best_known']:g}"
    gap = "" if rec["gap_percent"] is None else f"  gap {rec['gap_percent']:.4f}%"
    print(f"{rec['instance']}: n={rec['n']}  {rec['sense']}imise  best known {best}")
    print(f"{rec['strategy']}: objective {rec['objective']:g}{gap}  energy {rec['energy']:g}")
    print(f"search {times['search']:.3f} s (compile {times['compile']:.3f} s, "
          f"total {times['total']:.3f} s)  {rec['evaluations']} evaluations  seed {rec['seed']}")
    if args.sample:
        print(format_sample(rec["sample"]))
    return 0
