"""One MNIST table of the paper: backpropagation vs CoNNTrA (ternary), same run.

Shared by ``table1_mnist_logreg.py`` and ``table2_mnist_lenet.py``: writes
``<out>/<stem>.json`` (the full record, with the paper's figures), ``.png``
(error curves against the percentage of training completed, the paper's
Figures 2 and 3) and streams each curve point to ``.jsonl`` as it is
measured. Needs ``COMBOPT_DATA`` (the checksummed MNIST files).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from combopt.nn.plots import plot_error_curves
from combopt.nn.tasks import format_comparison, run_task


def main(task: str, stem: str, title: str, description: str, argv=None) -> int:
    """Parse ``argv``, run ``task``, write ``<out>/<stem>.{json,jsonl,png}``, print the table."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-iterations", type=int, default=None,
                        help="CoNNTrA iterations (LeNet: rounds; default: the task's)")
    parser.add_argument("--segments", type=int, default=None, help="points of the error curve")
    parser.add_argument("--n-train", type=int, default=None, help="use the first N training images")
    parser.add_argument("--n-val", type=int, default=None, help="use the first N t10k images")
    parser.add_argument(
        "--refit-scales", action=argparse.BooleanOptionalAction, default=None,
        help="re-fit the output scales between segments (default: the task's)",
    )
    parser.add_argument("--from-scratch-iterations", type=int, default=0, metavar="T",
                        help="also run CoNNTrA from a random ternary start for T iterations "
                             "(dense tasks; recorded as from_scratch)")
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    stream = args.out / f"{stem}.jsonl"
    with open(stream, "w") as fh:

        def progress(point):
            fh.write(json.dumps(dataclasses.asdict(point)) + "\n")
            fh.flush()

        record, paper = run_task(
            task, seed=args.seed, max_iterations=args.max_iterations, segments=args.segments,
            n_train=args.n_train, n_val=args.n_val, refit_scales=args.refit_scales,
            callback=progress,
        )
    data = record.to_dict()
    data["paper"] = paper
    if args.from_scratch_iterations:
        scratch, _ = run_task(task, seed=args.seed, max_iterations=args.from_scratch_iterations,
                              n_train=args.n_train, n_val=args.n_val, from_scratch=True,
                              ste_epochs=0)
        scratch = scratch.to_dict()
        data["from_scratch"] = {k: scratch[k] for k in (
            "train_error", "val_error", "memory_kb", "seconds", "curve", "config")}
    (args.out / f"{stem}.json").write_text(json.dumps(data, indent=2))
    plot_error_curves(data, args.out / f"{stem}.png", title=title)
    print(data["config"]["split"])
    print(format_comparison(data, paper))
    if "from_scratch" in data:
        fs = data["from_scratch"]
        print(f"CoNNTrA from a random ternary start ({args.from_scratch_iterations} iterations): "
              f"{fs['train_error']:.2f} / {fs['val_error']:.2f} %, {fs['seconds']:.2f} s")
    if data.get("ste"):
        print(f"straight-through baseline: {data['ste']['seconds']:.2f} s "
              f"({data['ste']['seconds'] / record.pretrain_seconds:.2f}x the float pretraining)")
    print(f"CoNNTrA search / float backprop time: {record.seconds / record.pretrain_seconds:.2f}x")
    print(
        f"pretraining {record.pretrain_seconds:.2f} s and compile "
        f"{record.compile_seconds:.2f} s are not in CoNNTrA's seconds; "
        f"float64 memory {record.float_memory_kb:.2f} KB "
        f"({record.float_memory_kb / record.memory_kb:.1f}x the packed {record.memory_kb:.3f} KB)"
    )
    return 0
