"""Error curves against the percentage of training completed (the paper's Figures 2, 3, 5).

CoNNTrA's curve, with the float backpropagation and the straight-through
ternary baselines of the same run as horizontal lines.
"""

from __future__ import annotations

import os

__all__ = ["plot_error_curves"]


def plot_error_curves(record: dict, path: str | os.PathLike, *, title: str | None = None) -> None:
    """Write a PNG of CoNNTrA's training and validation error during training.

    The backpropagation baseline's final errors are drawn as dashed lines, the
    straight-through ternary baseline's (``record["ste"]``, if any) as dotted ones.

    Parameters
    ----------
    record : dict
        A :meth:`combopt.nn.training.TrainingRecord.to_dict` record.
    path : str or path-like
        Output file (PNG).
    title : str, optional
        Default: the task name.

    Examples
    --------
    >>> import os, tempfile
    >>> rec = {"task": "demo", "curve": [{"percent": 0.0, "train_error": 9.0, "val_error": 10.0},
    ...        {"percent": 100.0, "train_error": 5.0, "val_error": 6.0}],
    ...        "baseline": {"train_error": 4.0, "val_error": 5.0}}
    >>> out = os.path.join(tempfile.mkdtemp(), "c.png")
    >>> plot_error_curves(rec, out); os.path.getsize(out) > 0
    True
    """
    import matplotlib  # the optional "plot" extra, slow to import: only this function needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = record.get("curve") or []
    if not curve:
        raise ValueError("the record has no error curve to plot")
    pct = [c["percent"] for c in curve]
    fig, ax = plt.subplots(figsize=(5.5, 3.8), dpi=120)
    try:
        ax.plot(pct, [c["train_error"] for c in curve], "o-", label="CoNNTrA training error")
        ax.plot(pct, [c["val_error"] for c in curve], "s-", label="CoNNTrA validation error")
        base = record.get("baseline")
        if base:
            ax.axhline(
                base["train_error"], color="C0", ls="--", lw=1, label="backprop (float) training"
            )
            ax.axhline(
                base["val_error"], color="C1", ls="--", lw=1, label="backprop (float) validation"
            )
        ste = record.get("ste")
        if ste:
            ax.axhline(ste["train_error"], color="C2", ls=":", lw=1.5,
                       label="straight-through ternary training")
            ax.axhline(ste["val_error"], color="C3", ls=":", lw=1.5,
                       label="straight-through ternary validation")
        ax.set_xlabel("training completed (%)")
        ax.set_ylabel("error (%)")
        ax.set_title(title or record.get("task", ""))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)
