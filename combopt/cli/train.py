"""``combopt train``: train a finite-domain network by the paper's pipeline.

Backpropagation (float: scikit-learn, or numpy for the LeNet) and CoNNTrA (ternary by
default) run side by side on the task's data and are reported with the paper's four metrics:
training error, validation error, memory of the weights (packed) and time.

Examples
--------
::

    combopt train iris --seed 0
    combopt train mnist-logreg --json --plot mnist_logreg.png
    combopt train mnist-logreg --n-train 5000 --n-val 1000 --max-iterations 2
    combopt train digits --domain -2,-1,0,1,2 --loss squared
    combopt train mnist-lenet --json --plot lenet.png
"""

from __future__ import annotations

import argparse
import re
import time

from combopt.cli._argtypes import integer, seed
from combopt.cli._output import print_record, progress_bar, timing
from combopt.nn.tasks import TASKS, format_comparison, run_task, task_data


def _domain(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of numbers: {text!r}") from None
    if len(set(values)) < 2:
        raise argparse.ArgumentTypeError(
            f"the domain needs at least two distinct values, got {text!r}")
    return values


def register(subparsers) -> None:
    """Add the ``train`` sub-command."""
    p = subparsers.add_parser(
        "train",
        help="train a network with finite-domain weights (CoNNTrA vs backpropagation)",
        description=__doc__.split("\n\n")[1],
    )
    # "--domain -1,0,1" must read "-1,0,1" as a value: argparse only knows plain
    # negative numbers, so widen its (per-parser) negative-number pattern.
    p._negative_number_matcher = re.compile(r"^-\d+$|^-\d*\.\d+$|^-[\d.]+(,-?[\d.]+)+$")
    p.add_argument("task", choices=sorted(TASKS), metavar="TASK", help=f"one of {', '.join(TASKS)}")
    p.add_argument("--domain", type=_domain, default=(-1.0, 0.0, 1.0),
                   help="the finite set of weight values before scaling (default -1,0,1)")
    p.add_argument("--seed", type=seed, default=0,
                   help="seed of the split, pretraining and search (default 0)")
    p.add_argument("--loss", choices=("cross_entropy", "squared"), default=None,
                   help="error function (default: the task's; squared for mnist-logreg)")
    p.add_argument("--max-iterations", type=integer(1), default=None, metavar="T",
                   help="CoNNTrA iterations (n coordinate steps each; LeNet: rounds)")
    p.add_argument("--segments", type=integer(0), default=None, help="points of the error curve")
    p.add_argument("--n-train", type=integer(0), default=None,
                   help="MNIST: use the first N training images")
    p.add_argument("--n-val", type=integer(0), default=None,
                   help="MNIST: use the first N t10k images")
    p.add_argument(
        "--refit-scales", action=argparse.BooleanOptionalAction, default=None,
        help="re-fit the output layer's scales between segments (beyond the paper; "
             "default: the task's, on for mnist-logreg)",
    )
    p.add_argument("--ste-epochs", type=integer(0), default=None, metavar="E",
                   help="epochs of the straight-through ternary baseline (default: the "
                        "task's; 0 skips it)")
    p.add_argument("--from-scratch", action="store_true",
                   help="dense tasks: start CoNNTrA from random ternary weights, not from "
                        "the discretised float network")
    p.add_argument("--batch-size", type=integer(1), default=None,
                   help="dense tasks: evaluate each segment's search on a random minibatch "
                        "of N samples")
    p.add_argument("--json", action="store_true", help="print the full record as one JSON line")
    p.add_argument("--plot", metavar="FILE", default=None, help="write the error curves as a PNG")
    p.set_defaults(handler=_handle)


def _handle(args) -> int:
    start = time.perf_counter()
    data = task_data(args.task, seed=args.seed, n_train=args.n_train, n_val=args.n_val)
    read = time.perf_counter() - start
    with progress_bar(100.0, "%", f"{args.task}: pretraining") as update:
        record, paper = run_task(
            args.task, domain=args.domain, seed=args.seed, loss=args.loss,
            max_iterations=args.max_iterations, segments=args.segments, data=data,
            refit_scales=args.refit_scales, batch_size=args.batch_size,
            ste_epochs=args.ste_epochs, from_scratch=args.from_scratch,
            callback=lambda point: update(point.percent, f"{args.task}: CoNNTrA",
                                          train_error=f"{point.train_error:.2f}%"),
            # The stages before CoNNTrA that report progress (LeNet pretraining, STE).
            stage_callback=lambda stage, done: update(100.0 * done, f"{args.task}: {stage}"),
        )
    out = record.to_dict()
    out["paper"] = paper
    if args.plot:
        from combopt.nn.plots import plot_error_curves

        plot_error_curves(out, args.plot)
    # ``seconds`` stays the CoNNTrA time (discretisation and search); see TrainingRecord.
    out["timing"] = timing(read, out["compile_seconds"], out["seconds"],
                           time.perf_counter() - start, pretrain=out["pretrain_seconds"])
    if args.json:
        print_record(out)
        return 0
    print(f"task {args.task}: {out['config']['split']}")
    print(format_comparison(out, paper))
    print(f"compile {out['compile_seconds']:.2f} s (not counted); "
          f"{out['config']['bits_per_weight']} bits per weight")
    return 0
