"""The paper's pipeline for the LeNet of Table II: backprop, Algorithm 1, CoNNTrA by blocks.

:func:`train_lenet` runs, on MNIST (or any 28 x 28 data set):

1. **Backpropagation**: :func:`combopt.nn.lenet.pretrain_lenet` (numpy, Adam);
   the float network is both the baseline and the starting point.
2. **Algorithm 1** per tensor (ten tensors, one scale each): the nearest value
   of ``scale_t * omega`` with the least-squares scale of
   :func:`combopt.discretize_scaled`. With ``fit_scales`` (default, beyond
   the paper) each scale is then re-chosen, tensor by tensor from the input
   up, to minimise the training loss on a batch instead of the weights'
   squared error: for a ternary LeNet that halves the error CoNNTrA starts
   from.
3. **CoNNTrA by blocks**: each round runs one iteration of the strategy over
   the 2 572 convolution parameters (:class:`combopt.objectives.LeNetConvObjective`,
   the head fixed) on a random batch of ``conv_batch`` images, then one
   iteration over the 59 134 head parameters (the compiled
   :class:`combopt.objectives.DenseNetObjective` on the convolution features,
   which are the cached activations below every head weight) on a batch of
   ``head_batch`` images. A round is the paper's random single-weight
   steps, blocked so that each block's cache is built once; the errors on the
   full training and validation sets are measured after each round.
4. **Packing**: :class:`combopt.nn.packing.PackedLeNet`, saved, loaded, and the
   reported errors are the loaded packed model's.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict

import numpy as np

from combopt._numeric.layers import sample_losses
from combopt._validation import SEED_LIMIT, check_count, check_real, check_seed
from combopt.domain import Domain, discretize_scaled
from combopt.nn.datasets import Dataset
from combopt.nn.lenet import CONV_SHAPES, HEAD_SIZES, LeNet, pretrain_lenet
from combopt.nn.packing import PackedLeNet
from combopt.nn.ste import ste_lenet, ste_record
from combopt.nn.training import (
    CurvePoint,
    TrainingRecord,
    finite_set,
    refit_output_scales,
    scaled_domain,
    stage_progress,
)
from combopt.objectives import DenseNetObjective, LeNetConvObjective
from combopt.provenance import versions
from combopt.solver import solve

__all__ = ["fit_scales", "train_lenet"]

_N_CONV = sum(int(np.prod(s)) for s in CONV_SHAPES)


def _nearest(tensor, scale, omega):
    return scale * omega[np.abs(tensor[:, None] / scale - omega[None, :]).argmin(axis=1)]


def fit_scales(net: LeNet, omega, X, y, *, loss: str = "cross_entropy", tolerance: float = 0.02):
    """Algorithm 1 with loss-fitted per-tensor scales; return ``(scales, discretised LeNet)``.

    Tensor by tensor in flat order, the scale starts at the least-squares one
    and is re-chosen within a factor 4 by a bounded Brent search of the batch
    loss, the tensors before it already discretised and those after it still
    float; the tensor is then rounded to its nearest scaled values.

    Parameters
    ----------
    net : LeNet
        The float network.
    omega : numpy.ndarray, shape (K,)
        Sorted finite set.
    X, y : numpy.ndarray
        The batch, shapes ``(B, 784)`` and ``(B,)``.
    loss : str
        ``"cross_entropy"`` or ``"squared"``.
    tolerance : float
        Brent's tolerance on ``log(scale)``.
    """
    # scipy.optimize is slow to import (a large part of a second); only the scale fits need it.
    from scipy.optimize import minimize_scalar

    tensors = net.tensors()
    scales = []
    features = None
    for t, original in enumerate(tensors):
        start, _ = discretize_scaled(original, omega)

        def batch_loss(log_scale, t=t, original=original, features=features):
            trial = list(tensors)
            trial[t] = _nearest(original, np.exp(log_scale), omega)
            candidate = net.with_flat(np.concatenate(trial))
            h = features if t >= len(CONV_SHAPES) else candidate.features(X)
            return float(sample_losses(candidate.head.logits(h), y, loss).mean())

        found = minimize_scalar(batch_loss, bounds=(np.log(start / 4), np.log(start * 4)),
                                method="bounded", options={"xatol": tolerance})
        scale = float(np.exp(found.x)) if found.fun < batch_loss(np.log(start)) else float(start)
        scales.append(scale)
        tensors[t] = _nearest(original, scale, omega)
        if t == len(CONV_SHAPES) - 1:
            features = net.with_flat(np.concatenate(tensors)).features(X)
    return np.array(scales), net.with_flat(np.concatenate(tensors))


def train_lenet(
    data: Dataset,
    *,
    task: str = "mnist-lenet",
    domain=(-1.0, 0.0, 1.0),
    loss: str = "cross_entropy",
    strategy="paper",
    max_iterations: int = 2,
    conv_batch: int = 1000,
    head_batch: int = 2000,
    batch_growth: float = 1.5,
    refit_scales: bool = False,
    epochs: int = 3,
    fit_scales_batch: int | None = 1000,
    seed: int = 0,
    pretrained: LeNet | None = None,
    ste_epochs: int = 0,
    ste_start: bool = False,
    callback: Callable[[CurvePoint], None] | None = None,
    stage_callback: Callable[[str, float], None] | None = None,
) -> TrainingRecord:
    """Train a finite-domain LeNet by the paper's pipeline; measure the four metrics.

    Parameters
    ----------
    data : Dataset
        28 x 28 images (``X`` of shape ``(N, 784)``) and labels ``0..9``.
    task : str
        Name recorded in the result.
    domain : sequence of float
        The finite set before per-tensor scaling (default ternary).
    loss : {"cross_entropy", "squared"}
        CoNNTrA's error function.
    strategy : str or strategy instance
        :func:`combopt.solve` strategy (default ``"paper"``, Algorithm 2).
    max_iterations : int
        CoNNTrA rounds (one convolution-block and one head-block iteration each).
    conv_batch, head_batch : int
        Minibatch sizes of the two blocks in the first round (a fresh random
        batch every round).
    batch_growth : float
        Both batch sizes are multiplied by this factor after every round
        (capped at the training set): a greedy step on a small batch follows
        the batch's noise once the clear improvements are made, so later
        rounds need larger batches to keep lowering the full training loss.
    refit_scales : bool
        After each head block, re-fit the output layer's two scales with its
        codes fixed (:func:`combopt.nn.training.refit_output_scales`, never
        raises the batch loss) -- beyond the paper. Off by default: fitted
        to the batch the search has just fitted, the scales grow and the
        full-data loss rises (0.18 -> 0.71 after one round on MNIST).
    epochs : int
        Pretraining epochs.
    fit_scales_batch : int or None
        Batch size of the loss-fitted scales; ``None`` keeps the least-squares scales.
    seed : int
        Pretraining, batches and search.
    pretrained : LeNet, optional
        Start from this float network instead of pretraining (its baseline
        figures are measured, its training time is recorded as 0).
    ste_epochs : int
        Epochs of the straight-through ternary baseline
        (:func:`combopt.nn.ste.ste_lenet`, from the same float network),
        recorded as ``ste``; 0 skips it.
    ste_start : bool
        Start Algorithm 1 and CoNNTrA from the straight-through network
        instead of the float one (needs ``ste_epochs > 0``; beyond the
        paper). Its time stays in ``ste["seconds"]``, apart from CoNNTrA's
        ``seconds``, which count the stages after this warm start.
    callback : callable, optional
        Called with each :class:`~combopt.nn.training.CurvePoint`.
    stage_callback : callable, optional
        ``stage_callback(stage, fraction)`` during the float pretraining and the
        straight-through stage, at most once per percent.

    Returns
    -------
    TrainingRecord
    """
    for name, value in (("max_iterations", max_iterations), ("conv_batch", conv_batch),
                        ("head_batch", head_batch), ("epochs", epochs)):
        check_count(name, value)
    seed = check_seed(seed)
    if ste_start and not ste_epochs:
        raise ValueError("ste_start needs ste_epochs > 0")
    batch_growth = check_real("batch_growth", batch_growth, minimum=1.0)
    omega = finite_set(domain)
    X_tr, y_tr, X_va, y_va = data.X_train, data.y_train, data.X_val, data.y_val
    n_train = len(y_tr)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))

    def batch(size):
        return rng.choice(n_train, size=min(size, n_train), replace=False)

    # 1. Backpropagation.
    if pretrained is None:
        net, pretrain_seconds = pretrain_lenet(
            X_tr, y_tr, epochs=epochs, seed=seed,
            callback=stage_progress(stage_callback, "pretraining"),
        )
        method = f"backpropagation (numpy LeNet, Adam, {epochs} epochs, float32 training)"
    else:
        net, pretrain_seconds, method = pretrained, 0.0, "given float network"
    baseline = {
        "method": method,
        "train_error": net.error(X_tr, y_tr),
        "val_error": net.error(X_va, y_va),
        "memory_kb": net.num_parameters * 8 / 1000.0,
        "seconds": pretrain_seconds,
    }

    ste = None
    if ste_epochs:
        ste_net, ste_seconds = ste_lenet(
            net, X_tr, y_tr, epochs=ste_epochs, seed=seed,
            callback=stage_progress(stage_callback, "straight-through"),
        )
        ste = ste_record(f"straight-through ternary (TWN, Adam, {ste_epochs} epochs from the "
                         "float network)", ste_net, X_tr, y_tr, X_va, y_va, ste_seconds,
                         epochs=int(ste_epochs))
        if ste_start:
            net = ste_net

    # 2. Algorithm 1, per-tensor scales.
    t0 = time.perf_counter()
    if fit_scales_batch is None:
        scales = np.array([discretize_scaled(t, omega)[0] for t in net.tensors()])
        on_grid = [_nearest(t, a, omega) for t, a in zip(net.tensors(), scales)]
        net = net.with_flat(np.concatenate(on_grid))
    else:
        idx = batch(fit_scales_batch)
        scales, net = fit_scales(net, omega, X_tr[idx], y_tr[idx], loss=loss)
    seconds = time.perf_counter() - t0
    conv_domain = Domain.per_variable(
        [scale * omega for scale, shape in zip(scales, CONV_SHAPES)
         for _ in range(int(np.prod(shape)))]
    )
    head_domain = scaled_domain(HEAD_SIZES, omega, scales[len(CONV_SHAPES):])

    def point(percent, net, elapsed):
        logits = net.head.logits(net.features(X_tr))
        cp = CurvePoint(float(percent), float(100 * np.mean(logits.argmax(1) != y_tr)),
                        net.error(X_va, y_va), float(sample_losses(logits, y_tr, loss).mean()),
                        elapsed)
        if callback is not None:
            callback(cp)
        return cp

    curve = [point(0.0, net, seconds)]
    discretized = {"train_error": curve[0].train_error, "val_error": curve[0].val_error,
                   "loss": curve[0].loss, "scales": scales.tolist()}

    # 3. CoNNTrA by blocks.
    compile_seconds = 0.0
    block_seconds = []  # (convolution block, head block) of each round
    for r in range(max_iterations):
        block_state = np.random.SeedSequence([seed, 2, r]).generate_state(2, np.uint64)
        block_seeds = block_state % np.uint64(SEED_LIMIT)
        growth = batch_growth**r
        idx = batch(round(conv_batch * growth))
        conv_objective = LeNetConvObjective(X_tr[idx], y_tr[idx], net.head, loss=loss)
        result = solve(conv_objective, conv_domain, strategy=strategy, max_iterations=1,
                       initial=net.flat()[:_N_CONV], seed=int(block_seeds[0]), num_reads=1,
                       polish=False)
        net = net.with_flat(np.concatenate([result.x, net.flat()[_N_CONV:]]))
        conv_seconds = result.seconds_excluding_compile
        compile_seconds += result.timing["compile"]
        seconds += conv_seconds
        head_start = seconds

        t0 = time.perf_counter()
        idx = batch(round(head_batch * growth))
        head_objective = DenseNetObjective(net.features(X_tr[idx]), y_tr[idx], (120, 84),
                                           n_classes=10, loss=loss)
        seconds += time.perf_counter() - t0
        result = solve(head_objective, head_domain, strategy=strategy, max_iterations=1,
                       initial=net.head.flat(), seed=int(block_seeds[1]), num_reads=1,
                       polish=False)
        head_x = np.array(result.x)
        compile_seconds += result.timing["compile"]
        seconds += result.seconds_excluding_compile
        if refit_scales:
            t0 = time.perf_counter()
            head_scales, head_x = refit_output_scales(head_objective, head_x,
                                                      scales[len(CONV_SHAPES):], omega)
            scales = np.concatenate([scales[: len(CONV_SHAPES)], head_scales])
            head_domain = scaled_domain(HEAD_SIZES, omega, head_scales)
            seconds += time.perf_counter() - t0
        net = net.with_flat(np.concatenate([net.flat()[:_N_CONV], head_x]))
        block_seconds.append([conv_seconds, seconds - head_start])
        curve.append(point(100.0 * (r + 1) / max_iterations, net, seconds))

    # 4. Really packed storage.
    packed = PackedLeNet.from_network(net, omega, scales)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "lenet.npz")
        packed.save(path)
        file_bytes = os.path.getsize(path)
        loaded = PackedLeNet.load(path)
    train_error = float(100.0 * np.mean(loaded.predict(X_tr) != y_tr))
    val_error = float(100.0 * np.mean(loaded.predict(X_va) != y_va))
    config = {
        "dataset": data.name, "split": data.split,
        "network": "LeNet-5 (6c5p2-pool-16c5-pool-120-84-10, relu)",
        "domain": omega.tolist(), "loss": loss,
        "strategy": strategy if isinstance(strategy, str) else type(strategy).__name__,
        "max_iterations": int(max_iterations), "conv_batch": int(conv_batch),
        "head_batch": int(head_batch),
        "batch_growth": float(batch_growth), "refit_scales": bool(refit_scales),
        "epochs": int(epochs), "fit_scales_batch": fit_scales_batch, "seed": int(seed),
        "ste_epochs": int(ste_epochs), "start": "ste" if ste_start else "float",
        "block_seconds": block_seconds, "final_scales": scales.tolist(),
        "n_parameters": net.num_parameters, "bits_per_weight": packed.bits,
    }
    return TrainingRecord(
        task=task, train_error=train_error, val_error=val_error,
        memory_kb=packed.memory_bytes / 1000.0, float_memory_kb=net.num_parameters * 8 / 1000.0,
        seconds=seconds, pretrain_seconds=pretrain_seconds,
        compile_seconds=compile_seconds, baseline=baseline, discretized=discretized,
        curve=[asdict(c) for c in curve], config=config, packed_file_bytes=int(file_bytes),
        scale_bytes=packed.scale_bytes, ste=ste, versions=versions(),
    )

