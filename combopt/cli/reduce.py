"""``combopt reduce``: the QUBO <-> training reductions from the command line.

::

    combopt reduce check SOURCE [--exhaustive] [--samples K] [--json]
    combopt reduce check --random D [--seed S] [--json]
    combopt reduce SOURCE --to training --out FILE.npz
    combopt reduce SOURCE.npz --to qubo --out FILE.npz [--weights -1,0,1]
    combopt reduce solve SOURCE [--strategy tabu] [--num-reads R] [--json]

A QUBO ``SOURCE`` is a published instance name (``bqp50.1``, via
:mod:`combopt.instances`), a QUBO/Ising file that :func:`combopt.io.read`
understands (OR-Library ``FILE#K``, GKA, dimod COO/BQM), a ``.npy`` square
matrix, or a ``.npz`` with ``Q`` and optionally ``linear``, ``offset`` and
``variables`` (what ``--to qubo`` writes).  A training ``SOURCE`` for
``--to qubo`` is a ``.npz`` with ``X``, ``Y`` and optionally ``offset`` (what
``--to training`` writes).  ``check`` exits 1 when the check fails.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from combopt.cli import EXIT_FAILURE, EXIT_OK
from combopt.cli._argtypes import integer, positive_real, seed
from combopt.cli._output import print_record, sample_mapping, timing
from combopt.strategies import STRATEGIES
from reductions import QUBO, as_qubo, qubo_to_training, training_to_qubo

_DESCRIPTION = """QUBO <-> single-layer training reductions: convert, check, solve.

forms:
  combopt reduce check SOURCE [--exhaustive | --samples K] [--json]
  combopt reduce check --random D [--seed S] [--spin] [--json]
  combopt reduce SOURCE --to training --out FILE.npz [--rows N] [--mix-seed S]
  combopt reduce TRAIN.npz --to qubo --out FILE.npz [--weights=-1,0,1]
  combopt reduce solve SOURCE [--strategy tabu] [--num-reads R] [--json]

SOURCE: a published instance name (bqp50.1), a QUBO/Ising file (OR-Library
FILE#K, GKA, dimod COO/BQM), a .npy matrix or a .npz with Q [linear offset
variables]. TRAIN.npz holds X, Y [offset]. 'check' exits 1 when it fails."""

_EPILOG = """examples:
  combopt reduce check bqp50.1 --json
  combopt reduce check --random 18 --seed 3
  combopt reduce bqp50.1 --to training --out bqp50_1_training.npz
  combopt reduce bqp50_1_training.npz --to qubo --out back.npz
  combopt reduce solve bqp50.1 --strategy tabu --max-iterations 100 --json
"""


def register(subparsers) -> None:
    """Add the ``reduce`` sub-command."""
    p = subparsers.add_parser(
        "reduce",
        help="QUBO <-> single-layer training reductions: convert, check, solve",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("items", nargs="*", metavar="[check|solve] SOURCE",
                   help="'check SOURCE', 'solve SOURCE', or SOURCE with --to")
    p.add_argument("--random", type=int, metavar="D",
                   help="use a random dense QUBO with D variables (integer entries in [-100, 100])")
    p.add_argument("--seed", type=seed, default=0,
                   help="seed of --random, of the random check points and of the solver "
                        "(default 0)")
    p.add_argument("--spin", action="store_true",
                   help="read a matrix SOURCE (or --random) as a spin problem over {-1,+1}")
    p.add_argument("--vartype", choices=("SPIN", "BINARY"),
                   help="vartype of a COO file without a '# vartype=' header; cut encoding "
                        "of a G-set graph")
    p.add_argument("--to", choices=("training", "qubo"), help="direction of the conversion")
    p.add_argument("--out", metavar="FILE.npz", help="where --to writes its result")
    p.add_argument("--rows", type=int, metavar="N", help="training samples N >= d (default d)")
    p.add_argument("--mix-seed", type=int, metavar="S",
                   help="with --rows N > d: mix rows with a random orthonormal matrix "
                        "(default: zero rows)")
    p.add_argument("--shift", default="auto", metavar="LAMBDA",
                   help="diagonal shift, a number or 'auto' (default)")
    p.add_argument("--max-condition", type=float, default=10.0, metavar="KAPPA",
                   help="condition-number bound of the automatic shift (default 10)")
    p.add_argument("--weights", default="binary", metavar="VALUES",
                   help="--to qubo: 'binary', 'spin' or comma-separated weight values, "
                        "e.g. --weights=-1,0,1 (use '=' when the list starts with '-')")
    p.add_argument("--encoding", choices=("auto", "expansion", "one-hot"), default="auto",
                   help="--to qubo: encoding of non-binary weights (default auto)")
    p.add_argument("--exhaustive", action="store_true",
                   help="check: enumerate all 2^d points (default when d <= 20; up to d = 30)")
    p.add_argument("--samples", type=int, metavar="K",
                   help="check: use K random points instead (default 1000 when d > 20)")
    p.add_argument("--rtol", type=float, default=1e-9,
                   help="check: tolerance relative to the scale")
    p.add_argument("--strategy", default="paper", choices=tuple(STRATEGIES),
                   help="solve: CoNNTrA strategy (default paper)")
    p.add_argument("--num-reads", type=integer(1), default=1, metavar="R",
                   help="solve: independent reads")
    p.add_argument("--max-iterations", type=integer(0), metavar="T",
                   help="solve: iterations per read")
    p.add_argument("--time-limit", type=positive_real, metavar="SEC",
                   help="solve: seconds of search")
    p.add_argument("--json", action="store_true", help="print one JSON record")
    p.set_defaults(handler=run)


def run(args) -> int:
    """Dispatch ``reduce`` to check, solve or convert."""
    items = list(args.items)
    mode = items.pop(0) if items and items[0] in ("check", "solve") else "convert"
    if len(items) > 1:
        raise ValueError(f"expected one SOURCE, got {len(items)}: {' '.join(items)}")
    source = items[0] if items else None
    if (source is None) == (args.random is None):
        raise ValueError("give exactly one of SOURCE and --random D")
    if mode == "check":
        return _check(args, source)
    if mode == "solve":
        return _solve(args, source)
    if args.to is None or args.out is None:
        raise ValueError("a conversion needs --to training|qubo and --out FILE.npz")
    if args.to == "qubo":
        if source is None:
            raise ValueError("--to qubo reads a training set: give SOURCE.npz, not --random")
        return _to_qubo(args, source)
    return _to_training(args, source)


def _shift(text: str):
    if text == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"--shift must be a number or 'auto', got {text!r}") from None


def _reduce_options(args) -> dict:
    return {"n_samples": args.rows, "shift": _shift(args.shift),
            "max_condition": args.max_condition}


def load_qubo(source: str | None, args) -> tuple[QUBO, str, list]:
    """The QUBO named by ``source`` (or ``--random``), a name for reports and column labels.

    The labels are the variable of each QUBO column: a BQM's own labels, or
    ``0..d-1`` for a matrix.
    """
    variables = "spin" if args.spin else "binary"
    if source is None:
        if args.random < 1:
            raise ValueError(f"--random needs D >= 1, got {args.random}")
        if args.random > 5000:
            raise ValueError(f"--random D is limited to 5000 variables, got {args.random}")
        rng = np.random.default_rng(args.seed)
        d = args.random
        Q = rng.integers(-100, 101, size=(d, d)).astype(np.float64)
        q = as_qubo(Q, rng.integers(-100, 101, size=d), variables=variables)
        return q, f"random({d})", list(range(d))
    if source.endswith(".npz"):
        with np.load(source, allow_pickle=False) as data:
            if "Q" not in data:
                raise ValueError(f"{source}: a QUBO .npz needs an array 'Q' (keys: {sorted(data)})")
            stored = str(data["variables"]) if "variables" in data else None
            if stored is not None and args.spin and stored != "spin":
                raise ValueError(f"{source} holds a {stored} QUBO, but --spin was given")
            q = as_qubo(
                data["Q"],
                data.get("linear"),
                float(data["offset"]) if "offset" in data else 0.0,
                variables=stored or variables,
            )
            return q, source, list(range(q.num_variables))
    if source.endswith(".npy"):
        q = as_qubo(np.load(source, allow_pickle=False), variables=variables)
        return q, source, list(range(q.num_variables))
    from combopt.instances import from_file, load
    from combopt.training_route import qubo_from_bqm

    if os.path.exists(source) or "#" in source:
        inst = from_file(source, vartype=args.vartype)
    else:
        inst = load(source, vartype=args.vartype)
    q, labels = qubo_from_bqm(inst.bqm)
    return q, inst.name, labels


def _emit(args, record: dict, lines: list[str]) -> None:
    if args.json:
        print_record(record)
    else:
        print("\n".join(lines))


def _check(args, source) -> int:
    from combopt.reduction_check import check

    q, label, _ = load_qubo(source, args)
    if args.samples is not None and args.exhaustive:
        raise ValueError("give --exhaustive or --samples K, not both")
    exhaustive = True if args.exhaustive else (False if args.samples is not None else None)
    red = qubo_to_training(q, seed=args.mix_seed, **_reduce_options(args))
    report = check(q, reduction=red, exhaustive=exhaustive,
                   samples=1000 if args.samples is None else args.samples,
                   seed=args.seed, rtol=args.rtol)
    record = {"source": label, **report.to_dict()}
    verdict = "PASSED" if report.passed else "FAILED"
    lines = [
        (f"{label}: n={report.n} ({report.variables}), N={report.n_samples}, "
         f"shift={report.shift:.6g}, condition number={report.condition_number:.4g}"),
        (f"{report.method} check of {report.points_checked} points: "
         f"max |error|={report.max_abs_error:.3g}, relative to scale {report.scale:.6g}: "
         f"{report.max_rel_error:.3g} (tolerance {report.tolerance:.3g})"),
    ]
    if report.argmin_equal is not None:
        lines.append(f"minimum {report.minimum:.12g}; same minimisers: {report.argmin_equal}")
    lines.append(verdict)
    _emit(args, record, lines)
    return EXIT_OK if report.passed else EXIT_FAILURE


def _to_training(args, source) -> int:
    q, label, _ = load_qubo(source, args)
    red = qubo_to_training(q, seed=args.mix_seed, **_reduce_options(args))
    np.savez(args.out, X=red.X, Y=red.Y, offset=red.offset, shift=red.shift,
             condition_number=red.condition_number, variables=red.variables)
    record = {"source": label, "out": args.out, "n": q.num_variables, "n_samples": red.n_samples,
              "variables": red.variables, "offset": red.offset, "shift": red.shift,
              "condition_number": red.condition_number}
    _emit(args, record, [
        (f"{label} -> {args.out}: X {red.X.shape}, Y {red.Y.shape}, offset={red.offset:.12g}, "
         f"shift={red.shift:.6g}, condition number={red.condition_number:.4g}")])
    return EXIT_OK


def _weights(text: str):
    if text in ("binary", "spin"):
        return text
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(
            f"--weights must be 'binary', 'spin' or numbers like -1,0,1, got {text!r}") from None


def _to_qubo(args, source) -> int:
    if not source.endswith(".npz"):
        raise ValueError(f"--to qubo reads a training set .npz with X and Y, got {source}")
    with np.load(source, allow_pickle=False) as data:
        missing = [k for k in ("X", "Y") if k not in data]
        if missing:
            raise ValueError(f"{source}: missing {', '.join(missing)} (keys: {sorted(data)})")
        X, Y = data["X"], data["Y"]
        offset = float(data["offset"]) if "offset" in data else 0.0
    q = training_to_qubo(X, Y, offset, weights=_weights(args.weights), encoding=args.encoding)
    extra = {}
    if q.encoding is not None:
        extra = {"weight_values": q.encoding.values, "weight_coefficients": q.encoding.coefficients,
                 "weight_base": q.encoding.base, "encoding": q.encoding.kind, "penalty": q.penalty}
    np.savez(args.out, Q=q.A, linear=q.b, offset=q.c, variables=q.variables,
             n_inputs=q.n_inputs, n_outputs=-1 if q.n_outputs is None else q.n_outputs, **extra)
    record = {"source": source, "out": args.out, "n": q.num_variables, "variables": q.variables,
              "n_inputs": q.n_inputs, "n_outputs": q.n_outputs, "offset": q.c,
              "encoding": None if q.encoding is None else q.encoding.kind, "penalty": q.penalty}
    _emit(args, record, [
        f"{source} -> {args.out}: {q.num_variables} {q.variables} variables "
        f"({q.n_inputs} inputs, {q.n_outputs or 1} output(s)"
        + (f", {q.encoding.kind} encoding of {q.encoding.bits} bits" if q.encoding else "") + ")"])
    return EXIT_OK


def _solve(args, source) -> int:
    from combopt.training_route import solve_qubo_via_training

    start = time.perf_counter()
    q, label, labels = load_qubo(source, args)
    read = time.perf_counter() - start
    res = solve_qubo_via_training(
        q, strategy=args.strategy, num_reads=args.num_reads, seed=args.seed,
        time_limit=args.time_limit, max_iterations=args.max_iterations,
        max_condition=args.max_condition)
    t = res.timing
    record = {"source": label, "n": q.num_variables, "route": "training", "strategy": args.strategy,
              "energy": res.energy, "training_energy": res.training_energy,
              "initial_energy": res.initial_energy, "seconds": t["solve"],
              "timing": timing(read, t["compile"], t["solve"], time.perf_counter() - start,
                               reduce=t["reduce"], relax=t["relax"], discretize=t["discretize"]),
              "evaluations": res.evaluations, "seed": res.seed,
              "shift": res.shift, "condition_number": res.condition_number,
              "sample": sample_mapping(labels, res.z)}
    _emit(args, record, [
        (f"{label}: energy {res.energy:.12g} (training form {res.training_energy:.12g}), "
         f"start {res.initial_energy:.12g}, {res.evaluations} evaluations, "
         f"search {t['solve']:.3f} s (compile {t['compile']:.3f} s, "
         f"total {record['timing']['total']:.3f} s)")])
    return EXIT_OK
