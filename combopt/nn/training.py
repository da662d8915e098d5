"""The paper's pipeline: float pretraining, Algorithm 1, CoNNTrA, the four metrics.

:func:`train_conntra` runs, on one :class:`~combopt.nn.datasets.Dataset`:

1. **Backpropagation** (the baseline and the pretraining): scikit-learn's
   ``LogisticRegression`` or ``MLPClassifier`` (:func:`combopt.nn.models.pretrain`).
2. **Discretisation** (Algorithm 1 with a scale): every tensor (each layer's
   ``W`` and ``b``) gets its own scale from :func:`combopt.discretize_scaled`,
   so tensor ``t`` lives in ``scale_t * omega``; the scales become a
   per-variable :class:`combopt.Domain`.
3. **CoNNTrA** through :func:`combopt.solve` on a
   :class:`combopt.objectives.DenseNetObjective`, in ``segments`` equal pieces
   so the training and validation errors can be recorded against the
   percentage of training completed (the paper's Figures 2, 3 and 5).
4. **Packing**: the result is stored with ``ceil(log2 |omega|)`` bits per
   weight, saved, loaded back and used for the reported predictions.

The result is a :class:`TrainingRecord` whose :meth:`~TrainingRecord.to_dict`
is the JSON record of ``combopt train``.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from combopt._numeric.layers import activate, sample_losses
from combopt._validation import SEED_LIMIT, check_count, check_optional_count, check_seed
from combopt.domain import Domain, discretize_scaled
from combopt.nn.datasets import Dataset
from combopt.nn.models import DenseNet, pretrain
from combopt.nn.packing import PackedDenseNet
from combopt.nn.ste import ste_dense, ste_record
from combopt.objectives import DenseNetObjective
from combopt.provenance import versions
from combopt.solver import solve

__all__ = ["CurvePoint", "TrainingRecord", "finite_set", "refit_output_scales",
           "scaled_domain", "train_conntra"]


@dataclass(frozen=True)
class CurvePoint:
    """Errors (percent) and mean training loss after ``percent`` of the CoNNTrA run."""

    percent: float
    train_error: float
    val_error: float
    loss: float
    seconds: float


@dataclass
class TrainingRecord:
    """Everything one training run measured (the four metrics, baseline, curve).

    ``seconds`` is the CoNNTrA time (discretisation + search, compilation and
    the error-curve evaluations excluded); ``pretrain_seconds`` the float
    backpropagation it starts from; ``compile_seconds`` the Numba compile or
    cache load. Memory is in kilobytes of 1000 bytes. ``ste`` is the
    straight-through ternary baseline (:mod:`combopt.nn.ste`) of the same run,
    or ``None``.
    """

    task: str
    train_error: float
    val_error: float
    memory_kb: float
    float_memory_kb: float
    seconds: float
    pretrain_seconds: float
    compile_seconds: float
    baseline: dict
    discretized: dict
    curve: list
    config: dict
    packed_file_bytes: int
    scale_bytes: int
    ste: dict | None = None
    versions: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """A JSON-ready dict (the ``combopt train --json`` record)."""
        return asdict(self)


def stage_progress(stage_callback, stage: str):
    """``fraction -> stage_callback(stage, fraction)``, or None without a callback.

    Examples
    --------
    >>> heard = []
    >>> stage_progress(lambda *a: heard.append(a), "pretraining")(0.5); heard
    [('pretraining', 0.5)]
    >>> stage_progress(None, "pretraining") is None
    True
    """
    if stage_callback is None:
        return None
    return lambda fraction: stage_callback(stage, fraction)


def finite_set(omega) -> np.ndarray:
    """The sorted distinct values of ``omega``; ``ValueError`` if fewer than two.

    Examples
    --------
    >>> finite_set([1, -1, 0, 1]).tolist()
    [-1.0, 0.0, 1.0]
    """
    omega = np.unique(np.asarray(omega, dtype=np.float64))
    if omega.size < 2:
        raise ValueError("omega needs at least two distinct values")
    return omega


def scaled_domain(sizes, omega, scales):
    """Per-variable domain giving tensor ``t`` (``W_0, b_0, ...``) the values ``scales[t] * omega``.

    Examples
    --------
    >>> scaled_domain([2, 3], [-1, 0, 1], [0.5, 2.0]).values_of(6).tolist()
    [-2.0, 0.0, 2.0]
    """
    omega = np.unique(np.asarray(omega, dtype=np.float64))
    counts = [n for a, b in itertools.pairwise(sizes) for n in (a * b, b)]
    if len(scales) != len(counts):
        raise ValueError(f"need {len(counts)} scales, got {len(scales)}")
    rows = [scale * omega for scale, count in zip(scales, counts) for _ in range(count)]
    return Domain.per_variable(rows)


def _discretize(net: DenseNet, omega) -> tuple[np.ndarray, np.ndarray]:
    """Algorithm 1 per tensor with fitted scales; return ``(scales, flat values)``."""
    scales, parts = [], []
    for w, b in zip(net.weights, net.biases):
        for tensor in (w.ravel(), b):
            alpha, values = discretize_scaled(tensor, omega)
            scales.append(alpha)
            parts.append(values)
    return np.array(scales), np.concatenate(parts)


def _random_start(sizes, omega, seed) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random codes, tensor scales ``sqrt(3 / fan_in) / max|omega|``: ``(scales, x)``."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    scales, parts = [], []
    for a, b in itertools.pairwise(sizes):
        scale = float(np.sqrt(3.0 / a) / np.max(np.abs(omega)))
        for count in (a * b, b):
            scales.append(scale)
            parts.append(scale * rng.choice(omega, size=count))
    return np.array(scales), np.concatenate(parts)


def _log_search(f, center: float) -> float:
    """Minimise ``f(log s)`` for ``s`` within a factor 4 of ``center``; return ``s``."""
    # scipy.optimize is slow to import (a large part of a second); only the scale fits need it.
    from scipy.optimize import minimize_scalar

    lo, hi = np.log(center / 4), np.log(center * 4)
    res = minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(res.x))


def refit_output_scales(objective, x, scales, omega):
    """Re-fit the output layer's two scales with its codes fixed; never raises the loss.

    With the codes ``T`` (weights) and ``t`` (bias) of the last layer fixed, its
    logits are ``a * (H @ T) + b * t`` for the last hidden activations ``H``, so
    the training loss is a cheap function of ``(a, b)``: one product ``H @ T``,
    then O(N C) per evaluation. Each scale is minimised in turn (bounded
    Brent search over ``log``-scale within a factor 4), and the result is kept
    only if the loss went down.

    Parameters
    ----------
    objective : DenseNetObjective
    x : numpy.ndarray, shape (n,)
        Current parameters, tensor ``t`` in ``scales[t] * omega``.
    scales : numpy.ndarray, shape (2 L,)
    omega : numpy.ndarray, shape (K,)
        The sorted finite set.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        New ``scales`` and ``x`` (copies).
    """
    net = objective.network(x)
    h = objective.X
    for w, b in zip(net.weights[:-1], net.biases[:-1]):
        h = activate(net.activation, h @ w + b)
    a0, b0 = float(scales[-2]), float(scales[-1])

    def codes(values, scale):
        return omega[np.abs(values.ravel()[:, None] / scale - omega[None, :]).argmin(axis=1)]

    T = codes(net.weights[-1], a0)
    t = codes(net.biases[-1], b0)
    A = h @ T.reshape(net.weights[-1].shape)
    B = t

    def loss(a, b):
        return float(sample_losses(a * A + b * B, objective.y, objective.loss).mean())

    a, b = a0, b0
    for _ in range(2):
        a = _log_search(lambda t, b=b: loss(np.exp(t), b), a)
        b = _log_search(lambda t, a=a: loss(a, np.exp(t)), b)
    new_scales = np.array(scales, dtype=np.float64)
    new_x = np.array(x, dtype=np.float64)
    if loss(a, b) < loss(a0, b0):
        new_scales[-2:] = a, b
        last = objective.layer_slices[-1]
        n_w = objective.sizes[-2] * objective.sizes[-1]
        new_x[last.start : last.start + n_w] = a * T
        new_x[last.start + n_w : last.stop] = b * t
    return new_scales, new_x


def train_conntra(
    data: Dataset,
    hidden=(),
    *,
    task: str | None = None,
    domain=(-1.0, 0.0, 1.0),
    activation: str = "relu",
    loss: str = "cross_entropy",
    strategy="paper",
    max_iterations: int = 10,
    segments: int = 10,
    seed: int = 0,
    pretrain_iter: int = 200,
    num_reads: int = 1,
    refit_scales: bool = False,
    batch_size: int | None = None,
    ste_epochs: int = 0,
    from_scratch: bool = False,
    callback: Callable[[CurvePoint], None] | None = None,
    stage_callback: Callable[[str, float], None] | None = None,
) -> TrainingRecord:
    """Train a finite-domain classifier by the paper's pipeline; measure everything.

    Parameters
    ----------
    data : Dataset
        Training and validation split.
    hidden : tuple of int
        Hidden widths; ``()`` is softmax regression.
    task : str, optional
        Name recorded in the result (default ``data.name``).
    domain : sequence of float
        The finite set of every tensor before scaling (default ternary);
        tensor ``t`` takes the values ``scale_t * domain``.
    activation, loss : str
        See :class:`combopt.objectives.DenseNetObjective`.
    strategy : str or strategy instance
        :func:`combopt.solve` strategy (default ``"paper"``, Algorithm 2).
    max_iterations : int
        CoNNTrA iterations in all (each is ``n`` coordinate steps), split
        evenly over ``segments``.
    segments : int
        Points of the error curve (``1 <= segments <= max_iterations``).
    seed : int or None
        Seeds the pretraining and every CoNNTrA segment; in ``[0, 2**53)``
        like every seed of the package (``None`` draws one, recorded in
        ``config["seed"]``).
    pretrain_iter : int
        ``max_iter`` of the scikit-learn pretraining.
    num_reads : int
        Independent CoNNTrA reads per segment (the best continues).
    refit_scales : bool
        After each segment, re-fit the output layer's scales with its codes
        fixed (:func:`refit_output_scales`) -- beyond the paper, which keeps
        the scales of Algorithm 1.
    batch_size : int, optional
        Minibatch evaluation: each segment's search evaluates the loss on a
        fresh random batch of this many training samples (without
        replacement) instead of all of them; the curve and the final errors
        are still measured on the full training and validation sets.
    ste_epochs : int
        Epochs of the straight-through ternary baseline (:func:`combopt.nn.ste.ste_dense`,
        from the same float network), recorded as ``ste``; 0 skips it.
    from_scratch : bool
        Start CoNNTrA from random ternary codes (uniform over ``domain``)
        with He-like scales ``sqrt(3 / fan_in)`` instead of the discretised
        float network; the float network is still trained, as the baseline.
    callback : callable, optional
        Called with each :class:`CurvePoint` as it is measured.
    stage_callback : callable, optional
        ``stage_callback(stage, fraction)`` during the stages before CoNNTrA that
        report it (the straight-through baseline; scikit-learn's
        pretraining does not), at most once per percent.

    Returns
    -------
    TrainingRecord

    Examples
    --------
    >>> from combopt.nn.datasets import load_iris
    >>> rec = train_conntra(load_iris(), (8,), max_iterations=2, segments=2, pretrain_iter=300)
    >>> rec.memory_kb, len(rec.curve)
    (0.017, 3)
    """
    max_iterations = check_count("max_iterations", max_iterations)
    segments = check_count("segments", segments, maximum=max_iterations)
    batch_size = check_optional_count("batch_size", batch_size, minimum=1)
    num_reads = check_count("num_reads", num_reads)
    seed = check_seed(seed)
    omega = finite_set(domain)
    task = task or data.name
    X_tr, y_tr, X_va, y_va = data.X_train, data.y_train, data.X_val, data.y_val

    # 1. Backpropagation: the baseline and the starting point.
    net, pretrain_seconds = pretrain(
        X_tr, y_tr, data.n_classes, hidden, activation=activation, seed=seed, max_iter=pretrain_iter
    )
    backprop = "MLPClassifier" if hidden else "LogisticRegression"
    baseline = {
        "method": f"backpropagation (scikit-learn {backprop})",
        "train_error": net.error(X_tr, y_tr),
        "val_error": net.error(X_va, y_va),
        "memory_kb": net.num_parameters * 8 / 1000.0,
        "seconds": pretrain_seconds,
    }

    ste = None
    if ste_epochs:
        ste_net, ste_seconds = ste_dense(
            net, X_tr, y_tr, loss=loss, epochs=ste_epochs, seed=seed,
            callback=stage_progress(stage_callback, "straight-through"),
        )
        ste = ste_record(f"straight-through ternary (TWN, Adam, {ste_epochs} epochs from the "
                         "float network)", ste_net, X_tr, y_tr, X_va, y_va, ste_seconds,
                         epochs=int(ste_epochs))

    # 2. Algorithm 1 with per-tensor scales (or a random ternary start).
    t0 = time.perf_counter()
    objective = DenseNetObjective(
        X_tr, y_tr, hidden, n_classes=data.n_classes, activation=activation, loss=loss
    )
    if from_scratch:
        scales, x = _random_start(objective.sizes, omega, seed)
    else:
        scales, x = _discretize(net, omega)
    search_domain = scaled_domain(objective.sizes, omega, scales)
    seconds = time.perf_counter() - t0

    def point(percent, x, elapsed):
        model = objective.network(x)
        cp = CurvePoint(
            float(percent),
            model.error(X_tr, y_tr),
            model.error(X_va, y_va),
            float(objective.energy(x)),
            elapsed,
        )
        if callback is not None:
            callback(cp)
        return cp

    start = point(0.0, x, seconds)
    curve = [start]
    discretized = {
        "train_error": start.train_error,
        "val_error": start.val_error,
        "loss": start.loss,
        "scales": scales.tolist(),
    }

    # 3. CoNNTrA, segment by segment (each continues from the previous best).
    compile_seconds = 0.0
    bounds = np.linspace(0, max_iterations, segments + 1).round().astype(int)
    for s in range(segments):
        segment_seed = int(
            np.random.SeedSequence([seed, s]).generate_state(1, np.uint64)[0] % SEED_LIMIT
        )
        searched = objective
        if batch_size is not None and batch_size < len(y_tr):
            t0 = time.perf_counter()
            rows = np.random.default_rng([seed, s, 1]).choice(
                len(y_tr), size=batch_size, replace=False
            )
            searched = DenseNetObjective(
                X_tr[rows],
                y_tr[rows],
                hidden,
                n_classes=data.n_classes,
                activation=activation,
                loss=loss,
            )
            seconds += time.perf_counter() - t0
        result = solve(
            searched,
            search_domain,
            strategy=strategy,
            max_iterations=int(bounds[s + 1] - bounds[s]),
            initial=x,
            seed=segment_seed,
            num_reads=num_reads,
            polish=False,
        )
        x = np.array(result.x)
        compile_seconds += result.timing["compile"]
        seconds += result.seconds_excluding_compile
        if refit_scales:
            t0 = time.perf_counter()
            scales, x = refit_output_scales(objective, x, scales, omega)
            search_domain = scaled_domain(objective.sizes, omega, scales)
            seconds += time.perf_counter() - t0
        curve.append(point(100.0 * bounds[s + 1] / max_iterations, x, seconds))

    # 4. Really packed storage: save, load, predict from the packed form.
    packed = PackedDenseNet.from_network(objective.network(x), omega, scales)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.npz")
        packed.save(path)
        file_bytes = os.path.getsize(path)
        loaded = PackedDenseNet.load(path)
    train_error = float(100.0 * np.mean(loaded.predict(X_tr) != y_tr))
    val_error = float(100.0 * np.mean(loaded.predict(X_va) != y_va))

    config = {
        "dataset": data.name,
        "split": data.split,
        "sizes": objective.sizes,
        "domain": omega.tolist(),
        "activation": activation,
        "loss": loss,
        "strategy": strategy if isinstance(strategy, str) else type(strategy).__name__,
        "max_iterations": int(max_iterations),
        "segments": int(segments),
        "num_reads": int(num_reads),
        "seed": int(seed),
        "pretrain_iter": int(pretrain_iter),
        "refit_scales": bool(refit_scales),
        "batch_size": None if batch_size is None else int(batch_size),
        "from_scratch": bool(from_scratch),
        "final_scales": np.asarray(scales).tolist(),
        "n_parameters": objective.num_variables,
        "bits_per_weight": packed.bits,
    }
    return TrainingRecord(
        task=task,
        train_error=train_error,
        val_error=val_error,
        memory_kb=packed.memory_bytes / 1000.0,
        float_memory_kb=objective.num_variables * 8 / 1000.0,
        seconds=seconds,
        pretrain_seconds=pretrain_seconds,
        compile_seconds=compile_seconds,
        baseline=baseline,
        discretized=discretized,
        curve=[asdict(c) for c in curve],
        config=config,
        packed_file_bytes=int(file_bytes),
        scale_bytes=packed.scale_bytes,
        ste=ste,
        versions=versions(),
    )
