"""Table III: Iris MLP (4-16-8-3), backpropagation vs CoNNTrA (ternary), same run.

Runs ``--seeds`` seeds (each seed is its own 120/30 split, pretraining and
search, with the straight-through ternary baseline beside it, and CoNNTrA
from a random ternary start), writes ``<out>/table3_iris_mlp.json`` with every record and the
medians, and ``.png`` with the error curves of the first seed (the paper's
Figure 5).

    python experiments/table3_iris_mlp.py --seeds 5
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from combopt.nn.plots import plot_error_curves
from combopt.nn.tasks import format_comparison, run_task

TASK = "iris"
STEM = "table3_iris_mlp"
METRICS = ("train_error", "val_error", "memory_kb", "seconds")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..SEEDS-1")
    parser.add_argument(
        "--max-iterations", type=int, default=None, help="CoNNTrA iterations (default: the task's)"
    )
    parser.add_argument(
        "--refit-scales", action=argparse.BooleanOptionalAction, default=None,
        help="re-fit the output scales between segments (default: the task's)",
    )
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    records, paper = [], None
    for seed in range(args.seeds):
        record, paper = run_task(
            TASK, seed=seed, max_iterations=args.max_iterations, refit_scales=args.refit_scales
        )
        data = record.to_dict()
        records.append(data)
        print(f"seed {seed}")
        print(format_comparison(data))
    median = {m: statistics.median(r[m] for r in records) for m in METRICS}
    median["baseline"] = {m: statistics.median(r["baseline"][m] for r in records) for m in METRICS}
    median["pretrain_seconds"] = statistics.median(r["pretrain_seconds"] for r in records)
    median["ste"] = {m: statistics.median(r["ste"][m] for r in records) for m in METRICS}
    scratch = [run_task(TASK, seed=seed, max_iterations=args.max_iterations,
                        from_scratch=True, ste_epochs=0)[0].to_dict() for seed in range(args.seeds)]
    median["from_scratch"] = {m: statistics.median(r[m] for r in scratch) for m in METRICS}
    summary = {"task": TASK, "paper": paper, "median": median, "records": records}
    (args.out / f"{STEM}.json").write_text(json.dumps(summary, indent=2))
    plot_error_curves(
        records[0], args.out / f"{STEM}.png", title="Iris MLP 4-16-8-3 (Table III), seed 0"
    )
    print(f"median over {args.seeds} seeds")
    print(format_comparison(median, paper))
    fs = median["from_scratch"]
    print(f"CoNNTrA from a random ternary start: {fs['train_error']:.2f} / {fs['val_error']:.2f} %"
          f", {fs['seconds']:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
