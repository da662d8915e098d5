"""The named training tasks of ``combopt train`` and the experiments.

Each task fixes a data set, a network and a CoNNTrA budget, and carries the
paper's CoNNTrA figures for comparison:

========================  =====================  ===================  ======================
task                      data                   network              paper (train/val, KB, s)
========================  =====================  ===================  ======================
``iris``                  Iris 120 / 30          4-16-8-3 relu        1.67 / 3.33, 0.06, 4.92
``digits``                8x8 digits 1437 / 360  64-32-10 relu        --
``mnist-logreg``          MNIST 60000 / 10000    784-10 softmax (sq.) 7.59 / 8.44, 1.96, 236.12
``mnist-mlp``             MNIST 60000 / 10000    784-32-10 relu       --
``mnist-lenet``           MNIST 60000 / 10000    LeNet-5 (61 706)     2.60 / 2.39, 20.30, 4871.04
========================  =====================  ===================  ======================

The Iris widths (16, 8) give 243 parameters, 0.061 KB at 2 bits each, the
paper's 0.06 KB. ``mnist-lenet`` runs :func:`combopt.nn.lenet_training.train_lenet`
(its ``max_iterations`` are CoNNTrA rounds, its ``pretrain_iter`` backprop epochs);
the other tasks run :func:`combopt.nn.training.train_conntra`.
"""

from __future__ import annotations

from dataclasses import dataclass

from combopt.nn.datasets import load_dataset
from combopt.nn.lenet_training import train_lenet
from combopt.nn.training import TrainingRecord, train_conntra

__all__ = ["TASKS", "Task", "format_comparison", "run_task", "task_data"]


@dataclass(frozen=True)
class Task:
    """A data set, a network and a default CoNNTrA budget."""

    dataset: str
    hidden: tuple
    max_iterations: int
    segments: int
    pretrain_iter: int
    paper: dict | None = None
    network: str = "dense"
    batch_size: int | None = None
    loss: str = "cross_entropy"
    refit_scales: bool = False
    ste_epochs: int = 0
    ste_start: bool = False


TASKS = {
    "iris": Task(
        "iris", (16, 8), max_iterations=8, segments=8, pretrain_iter=2000, ste_epochs=300,
        paper={"table": "III", "train_error": 1.67, "val_error": 3.33, "memory_kb": 0.06,
               "seconds": 4.92},
    ),
    "digits": Task("digits", (32,), max_iterations=6, segments=6, pretrain_iter=300,
                   ste_epochs=20),
    "mnist-logreg": Task(
        "mnist", (), max_iterations=5, segments=5, pretrain_iter=100, loss="squared",
        refit_scales=True, ste_epochs=3,
        paper={"table": "I", "train_error": 7.59, "val_error": 8.44, "memory_kb": 1.96,
               "seconds": 236.12},
    ),
    "mnist-mlp": Task("mnist", (32,), max_iterations=2, segments=2, pretrain_iter=30,
                      ste_epochs=3),
    "mnist-lenet": Task(
        "mnist", (), max_iterations=2, segments=2, pretrain_iter=3, network="lenet",
        ste_epochs=1, ste_start=True,
        paper={"table": "II", "train_error": 2.60, "val_error": 2.39, "memory_kb": 20.30,
               "seconds": 4871.04},
    ),
}


def _task(name: str) -> Task:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; expected one of {', '.join(TASKS)}")
    return TASKS[name]


def task_data(name: str, *, seed: int = 0, n_train: int | None = None, n_val: int | None = None):
    """The :class:`~combopt.nn.datasets.Dataset` of task ``name`` (see :func:`run_task`).

    Examples
    --------
    >>> task_data("iris").X_train.shape
    (120, 4)
    """
    task = _task(name)
    if task.dataset != "mnist" and (n_train is not None or n_val is not None):
        raise ValueError("n_train/n_val apply to the MNIST tasks only")
    return load_dataset(task.dataset, seed=seed, n_train=n_train, n_val=n_val)


def run_task(
    name: str,
    *,
    domain=(-1.0, 0.0, 1.0),
    seed: int = 0,
    loss: str | None = None,
    max_iterations: int | None = None,
    segments: int | None = None,
    n_train: int | None = None,
    n_val: int | None = None,
    refit_scales: bool | None = None,
    batch_size: int | None = None,
    ste_epochs: int | None = None,
    from_scratch: bool = False,
    callback=None,
    stage_callback=None,
    data=None,
) -> tuple[TrainingRecord, dict | None]:
    """Run one named task; return its record and the paper's figures (or ``None``).

    Parameters
    ----------
    name : str
        A key of :data:`TASKS`.
    domain : sequence of float
        The finite set before per-tensor scaling.
    seed : int
        Split (Iris, digits), pretraining and CoNNTrA seed.
    loss : {"cross_entropy", "squared"}, optional
        The error function (default: the task's; squared error for
        ``mnist-logreg``, where it beats cross-entropy at the paper's errors,
        cross-entropy elsewhere).
    max_iterations, segments : int, optional
        Override the task's CoNNTrA budget and curve resolution.
    n_train, n_val : int, optional
        MNIST only: use the first rows (a slice).
    refit_scales : bool, optional
        Re-fit the output layer's scales after each segment (beyond the paper);
        default: the task's (``mnist-logreg`` re-fits, the others keep
        Algorithm 1's scales throughout, as the paper does).
    batch_size : int, optional
        Minibatch evaluation for the dense tasks (default: the task's; see
        :func:`combopt.nn.training.train_conntra`).
    ste_epochs : int, optional
        Epochs of the straight-through ternary baseline (default: the
        task's; 0 skips it), recorded as ``ste``.
    from_scratch : bool
        Dense tasks: start CoNNTrA from random ternary codes instead of the
        discretised float network.
    callback : callable, optional
        Receives each :class:`combopt.nn.training.CurvePoint`.
    stage_callback : callable, optional
        ``stage_callback(stage, fraction)`` during the stages before CoNNTrA that
        report it (LeNet pretraining, the straight-through baseline).
    data : Dataset, optional
        The task's data, already loaded by :func:`task_data` (default: load it).

    Examples
    --------
    >>> record, paper = run_task("iris", max_iterations=2, segments=1)
    >>> record.task, paper["table"], record.memory_kb
    ('iris', 'III', 0.061)
    """
    task = _task(name)
    max_iterations = task.max_iterations if max_iterations is None else max_iterations
    loss = task.loss if loss is None else loss
    segments = min(task.segments, max_iterations) if segments is None else segments
    refit_scales = task.refit_scales if refit_scales is None else refit_scales
    ste_epochs = task.ste_epochs if ste_epochs is None else ste_epochs
    if task.network == "lenet" and from_scratch:
        raise ValueError("from_scratch applies to the dense tasks")
    if task.network == "lenet" and batch_size is not None:
        raise ValueError(
            "batch_size applies to the dense tasks; the LeNet sets its own batches per block"
        )
    if data is None:
        data = task_data(name, seed=seed, n_train=n_train, n_val=n_val)
    if task.network == "lenet":
        record = train_lenet(data, task=name, domain=domain, loss=loss, seed=seed,
                             max_iterations=max_iterations, epochs=task.pretrain_iter,
                             refit_scales=refit_scales, ste_epochs=ste_epochs,
                             ste_start=task.ste_start and ste_epochs > 0, callback=callback,
                             stage_callback=stage_callback)
        return record, task.paper
    record = train_conntra(
        data, task.hidden, task=name, domain=domain, loss=loss, seed=seed,
        max_iterations=max_iterations,
        segments=segments, pretrain_iter=task.pretrain_iter, refit_scales=refit_scales,
        batch_size=task.batch_size if batch_size is None else batch_size, callback=callback,
        ste_epochs=ste_epochs, from_scratch=from_scratch, stage_callback=stage_callback,
    )
    return record, task.paper


def format_comparison(record: dict, paper: dict | None = None) -> str:
    """The four metrics of backpropagation, CoNNTrA and the paper as a text table.

    Parameters
    ----------
    record : dict
        A :meth:`TrainingRecord.to_dict` record.
    paper : dict, optional
        The paper's CoNNTrA figures (``Task.paper``).

    Examples
    --------
    >>> rec = {"task": "t", "train_error": 2.0, "val_error": 3.0, "memory_kb": 0.06, "seconds": 0.4,
    ...        "baseline": {"train_error": 1.0, "val_error": 2.0, "memory_kb": 1.9, "seconds": 0.7}}
    >>> print(format_comparison(rec).splitlines()[2])
    CoNNTrA (packed)             2.00     3.00      0.060      0.40
    """
    base = record["baseline"]
    rows = [("backprop (float64)", base), ("CoNNTrA (packed)", record)]
    if record.get("ste"):
        rows.append(("STE ternary (packed)", record["ste"]))
    if paper:
        rows.append(("paper CoNNTrA", paper))
    lines = [f"{'method':<24}{'train %':>9}{'val %':>9}{'memory KB':>11}{'seconds':>10}"]
    for name, r in rows:
        lines.append(
            f"{name:<24}{r['train_error']:>9.2f}{r['val_error']:>9.2f}{r['memory_kb']:>11.3f}{r['seconds']:>10.2f}"
        )
    return "\n".join(lines)
