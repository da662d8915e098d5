"""Slow, obviously correct references for every engine kernel.

Nothing here is clever: energies are double loops over the definitions, and
:func:`paper_algorithm2` is Algorithm 2 of Date et al. (2020) line by line,
recomputing the full error for every candidate value. The compiled kernels
must agree with these exactly (integer data) or to rounding (real data).
"""

from __future__ import annotations

import itertools

import numpy as np

MASK64 = (1 << 64) - 1


def quadratic_energy(Q, linear, offset, x) -> float:
    """``sum_ij Q_ij x_i x_j + sum_i c_i x_i + offset`` by loops."""
    n = len(x)
    total = float(offset)
    for i in range(n):
        total += linear[i] * x[i]
        for j in range(n):
            total += Q[i][j] * x[i] * x[j]
    return total


def least_squares_energy(X, Y, w) -> float:
    """``||X W - Y||^2 / N`` by loops; ``w`` is W flattened row-major."""
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float).reshape(X.shape[0], -1)
    N, d = X.shape
    k = Y.shape[1]
    total = 0.0
    for r in range(N):
        for o in range(k):
            prediction = sum(X[r, j] * w[j * k + o] for j in range(d))
            total += (prediction - Y[r, o]) ** 2
    return total / N


def categorical_energy(num_cases, linear, quadratic, offset, x) -> float:
    """A categorical model's energy by its definition, one term at a time.

    ``linear[i][a]`` is the bias of case ``a`` of variable ``i``; ``quadratic``
    lists ``((i, a), (j, b), bias)`` terms, each counted when ``x_i == a`` and
    ``x_j == b``.
    """
    assert len(x) == len(num_cases)
    total = float(offset)
    for i, a in enumerate(x):
        assert 0 <= a < num_cases[i] and a == int(a)
        total += linear[i][int(a)]
    for (i, a), (j, b), bias in quadratic:
        if x[i] == a and x[j] == b:
            total += bias
    return total


def categorical_deltas(num_cases, linear, quadratic, offset, x, i) -> list:
    """For each case of variable ``i``: the energy with ``x_i`` set to it minus that of ``x``."""
    base = categorical_energy(num_cases, linear, quadratic, offset, x)
    deltas = []
    for a in range(num_cases[i]):
        y = list(x)
        y[i] = a
        deltas.append(categorical_energy(num_cases, linear, quadratic, offset, y) - base)
    return deltas


def all_points(domains):
    """Every assignment of a list of per-variable value lists."""
    return [np.array(p, dtype=float) for p in itertools.product(*domains)]


def exhaustive_minimum(energy, domains) -> float:
    """The minimum of ``energy`` over every assignment."""
    return min(energy(x) for x in all_points(domains))


def is_local_optimum(energy, domains, x, tol=1e-9) -> bool:
    """No single coordinate can be changed to strictly lower the energy (beyond ``tol``)."""
    base = energy(x)
    for i, values in enumerate(domains):
        for v in values:
            y = np.array(x, dtype=float)
            y[i] = v
            if energy(y) < base - tol * max(1.0, abs(base)):
                return False
    return True


class SplitMix64:
    """splitmix64 on Python integers, the kernels' generator written out."""

    def __init__(self, state: int):
        self.state = int(state) & MASK64

    def next_u64(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        return ((self.next_u64() >> 32) * n) >> 32


def paper_algorithm2(energy, domains, x0, rng_state: int, iterations: int):
    """Algorithm 2 exactly: T iterations of |W| random picks, keep the best value, ties accepted.

    Returns the final assignment and the error after each iteration.
    """
    x = np.array(x0, dtype=float)
    rng = SplitMix64(rng_state)
    n = len(x)
    errors = []
    for _ in range(iterations):
        for _ in range(n):
            i = rng.below(n)
            e_opt = energy(x)
            w_opt = x[i]
            for value in domains[i]:
                x[i] = value
                e = energy(x)
                if e <= e_opt:
                    e_opt = e
                    w_opt = value
            x[i] = w_opt
        errors.append(energy(x))
    return x, errors


def lenet_logits(conv, head_weights, head_biases, image):
    """LeNet logits of one 28 x 28 image by explicit loops (conv, relu, max-pool, dense)."""
    w1, b1, w2, b2 = conv
    padded = np.zeros((32, 32))
    padded[2:30, 2:30] = np.asarray(image).reshape(28, 28)

    def conv_relu_pool(x, w, b, side):
        out = np.zeros((w.shape[0], side // 2, side // 2))
        for o in range(w.shape[0]):
            full = np.zeros((side, side))
            for r in range(side):
                for c in range(side):
                    full[r, c] = b[o] + sum(
                        w[o, ch, i, j] * x[ch, r + i, c + j]
                        for ch in range(w.shape[1]) for i in range(5) for j in range(5)
                    )
            for r in range(side // 2):
                for c in range(side // 2):
                    out[o, r, c] = max(0.0, max(full[2 * r + a, 2 * c + b_] for a in (0, 1) for b_ in (0, 1)))
        return out

    h = conv_relu_pool(conv_relu_pool(padded[None], w1, b1, 28), w2, b2, 10).ravel()
    for layer, (w, b) in enumerate(zip(head_weights, head_biases)):
        h = h @ w + b
        if layer < len(head_weights) - 1:
            h = np.maximum(h, 0.0)
    return h
