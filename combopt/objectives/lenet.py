"""Training loss of a LeNet over its convolution weights, the dense head fixed.

CoNNTrA trains a :class:`combopt.nn.lenet.LeNet` by blocks
(:func:`combopt.nn.lenet_training.train_lenet`): the 59 134 head weights
through the compiled :class:`~combopt.objectives.DenseNetObjective` on the
cached convolution features, and the 2 572 convolution weights through this
objective. Its problem is a plain Python object with the kernel protocol's
``init`` / ``deltas`` / ``apply`` methods, so the solver runs the same
strategy code interpreted (as for :class:`~combopt.objectives.CallableObjective`),
while each call does its work as a few numpy operations over the whole batch.

Incremental evaluation: the cache row holds, per sample, the pre-activations
``a1`` of conv1 (6 x 28 x 28), its pooled output ``p1`` (6 x 14 x 14), the
pre-activations ``a2`` of conv2 (16 x 10 x 10), the 400 features ``f``, the
head's first pre-activations ``z1`` (120) and the loss. Trying a new value of

* a conv2 weight or bias of output channel ``o`` recomputes channel ``o`` of
  ``a2`` only (one shifted window of the cached pooled conv1 output), its 25
  pooled features, ``z1`` by a rank-25 update and the two head layers above;
* a conv1 weight or bias of channel ``c`` recomputes channel ``c`` of ``a1``
  (one shifted window of the image), the change of its pooled output pushed
  through conv2's weights of input channel ``c`` only, then as above.

Nothing below the changed layer is recomputed.
"""

from __future__ import annotations

import numpy as np

from combopt._numeric.layers import (
    CONV_SHAPES,
    LOSSES,
    PAD1,
    DenseNet,
    as_images,
    conv2d,
    conv_features,
    max_pool_2x2,
    sample_losses,
)
from combopt.objectives.base import Objective, as_finite_array

__all__ = ["LeNetConvObjective"]

_SIZES = [int(np.prod(s)) for s in CONV_SHAPES]
_STARTS = np.cumsum([0, *_SIZES])  # conv1_w, conv1_b, conv2_w, conv2_b, end


def _relu_pool(a: np.ndarray) -> np.ndarray:
    """``relu(maxpool(a))`` over the last two axes."""
    return np.maximum(max_pool_2x2(a), 0.0)


class LeNetConvObjective(Objective):
    """Mean training loss of a LeNet as a function of its 2 572 convolution parameters.

    Parameters
    ----------
    X : array_like, shape (B, 784)
        The (mini)batch of images.
    y : array_like of int, shape (B,)
        Labels ``0..9``.
    head : DenseNet
        The fixed head ``400 -> 120 -> 84 -> 10`` (relu).
    loss : {"cross_entropy", "squared"}
        Per-sample error.

    Examples
    --------
    >>> from combopt import Domain, solve
    >>> from combopt.nn.lenet import LeNet
    >>> net = LeNet.initial(seed=0)
    >>> rng = np.random.default_rng(0)
    >>> obj = LeNetConvObjective(rng.random((8, 784)), np.arange(8), net.head)
    >>> res = solve(obj, Domain.ternary(), strategy="paper", max_iterations=1, seed=0,
    ...             polish=False)
    >>> bool(res.energy <= obj.energy(np.zeros(obj.num_variables)) + 1e-12), obj.num_variables
    (True, 2572)
    """

    num_variables = int(_STARTS[-1])

    def __init__(self, X, y, head: DenseNet, *, loss: str = "cross_entropy"):
        images = as_images(as_finite_array("X", X, ndim=(2, 3)))
        y = np.asarray(y)
        if y.shape != (images.shape[0],) or images.shape[0] == 0:
            raise ValueError(
                f"y must have shape ({images.shape[0]},) with at least one sample, got {y.shape}"
            )
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        self.X = images.reshape(images.shape[0], -1)
        self.y = y.astype(np.int64)
        self.head = head
        self.loss = loss
        self._padded = np.pad(images, ((0, 0), (0, 0), (PAD1, PAD1), (PAD1, PAD1)))[:, 0]

    def conv_tensors(self, x) -> tuple:
        """``(conv1_w, conv1_b, conv2_w, conv2_b)`` from ``x`` of shape ``(2572,)``."""
        x = np.asarray(x, dtype=np.float64)
        return tuple(x[a:b].reshape(s) for a, b, s in zip(_STARTS, _STARTS[1:], CONV_SHAPES))

    def energy(self, x):
        """Mean loss for ``x`` of shape ``(2572,)`` or ``(k, 2572)`` (full forward pass)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1] != self.num_variables or x.ndim not in (1, 2):
            raise ValueError(f"x must have {self.num_variables} variables, got shape {x.shape}")
        out = [
            float(
                sample_losses(
                    self.head.logits(conv_features(self.conv_tensors(r), self.X)), self.y, self.loss
                ).mean()
            )
            for r in np.atleast_2d(x)
        ]
        return out[0] if x.ndim == 1 else np.array(out)

    def _lower(self):
        problem = _ConvProblem(self)
        return problem, problem.length


class _ConvProblem:
    """The protocol's ``init`` / ``deltas`` / ``apply`` over one cache row (see the module doc)."""

    def __init__(self, objective: LeNetConvObjective):
        self.obj = objective
        self.batch = objective.X.shape[0]
        weights, biases = objective.head.weights, objective.head.biases
        self.w1, self.b1 = weights[0], biases[0]
        self.rest = DenseNet(weights[1:], biases[1:])
        b = self.batch
        self.shapes = {
            "params": (LeNetConvObjective.num_variables,),
            "a1": (b, 6, 28, 28),
            "p1": (b, 6, 14, 14),
            "a2": (b, 16, 10, 10),
            "f": (b, 16, 5, 5),
            "z1": (b, 120),
            "loss": (b,),
        }
        self.offsets, pos = {}, 0
        for name, shape in self.shapes.items():
            self.offsets[name] = (pos, pos + int(np.prod(shape)))
            pos = self.offsets[name][1]
        self.length = pos

    def _views(self, cache):
        return {
            name: cache[lo:hi].reshape(self.shapes[name]) for name, (lo, hi) in self.offsets.items()
        }

    def _losses_from_z1(self, z1):
        return sample_losses(self.rest.logits(np.maximum(z1, 0.0)), self.obj.y, self.obj.loss)

    def init(self, values, offsets, x_idx, cache):
        v = self._views(cache)
        v["params"][:] = values[offsets[:-1] + x_idx]
        w1, b1, w2, b2 = self.obj.conv_tensors(v["params"])
        v["a1"][:] = conv2d(self.obj._padded[:, None], w1, b1)
        v["p1"][:] = _relu_pool(v["a1"])
        v["a2"][:] = conv2d(v["p1"], w2, b2)
        v["f"][:] = _relu_pool(v["a2"])
        v["z1"][:] = v["f"].reshape(self.batch, -1) @ self.w1 + self.b1
        v["loss"][:] = self._losses_from_z1(v["z1"])
        return float(v["loss"].mean())

    def _trial(self, v, i, d):
        """New ``(channel updates, z1, losses)`` if parameter ``i`` moved by ``d``.

        ``channel updates`` is ``("a1", c, a1_c, p1_c, a2, f)`` or ``("a2", o, a2_o, f_o)``.
        """
        w2 = v["params"][_STARTS[2] : _STARTS[3]].reshape(CONV_SHAPES[2])
        if i < _STARTS[2]:  # conv1 weight or bias of channel c
            if i < _STARTS[1]:
                c, ki, kj = np.unravel_index(i, (6, 5, 5))
                a1c = v["a1"][:, c] + d * self.obj._padded[:, ki : ki + 28, kj : kj + 28]
            else:
                c = i - _STARTS[1]
                a1c = v["a1"][:, c] + d
            p1c = _relu_pool(a1c)
            a2 = v["a2"] + conv2d((p1c - v["p1"][:, c])[:, None], w2[:, c : c + 1], np.zeros(16))
            f = _relu_pool(a2)
            z1 = v["z1"] + (f - v["f"]).reshape(self.batch, -1) @ self.w1
            return ("a1", c, a1c, p1c, a2, f), z1, self._losses_from_z1(z1)
        if i < _STARTS[3]:  # conv2 weight
            o, c, ki, kj = np.unravel_index(i - _STARTS[2], CONV_SHAPES[2])
            a2o = v["a2"][:, o] + d * v["p1"][:, c, ki : ki + 10, kj : kj + 10]
        else:  # conv2 bias
            o = i - _STARTS[3]
            a2o = v["a2"][:, o] + d
        fo = _relu_pool(a2o)
        z1 = v["z1"] + (fo - v["f"][:, o]).reshape(self.batch, 25) @ self.w1[25 * o : 25 * (o + 1)]
        return ("a2", o, a2o, fo), z1, self._losses_from_z1(z1)

    def deltas(self, values, offsets, x_idx, cache, i, out):
        v = self._views(cache)
        lo = offsets[i]
        current = values[lo + x_idx[i]]
        for k in range(offsets[i + 1] - lo):
            if k == x_idx[i]:
                out[k] = 0.0
            else:
                _, _, losses = self._trial(v, i, values[lo + k] - current)
                out[k] = float(np.sum(losses - v["loss"])) / self.batch

    def apply(self, values, offsets, x_idx, cache, i, k):
        v = self._views(cache)
        d = values[offsets[i] + k] - values[offsets[i] + x_idx[i]]
        x_idx[i] = k
        v["params"][i] = values[offsets[i] + k]
        if d == 0.0:
            return
        update, z1, losses = self._trial(v, i, d)
        if update[0] == "a1":
            _, c, v["a1"][:, c], v["p1"][:, c], v["a2"][:], v["f"][:] = update
        else:
            _, o, v["a2"][:, o], v["f"][:, o] = update
        v["z1"][:] = z1
        v["loss"][:] = losses
