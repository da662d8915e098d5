"""Slow, obviously correct references for every engine kernel, in one place.

Nothing here is clever: energies are loops over the definitions, deltas are
differences of two full evaluations, and the search steps are the papers'
rules written out on Python lists. The compiled kernels must agree with these
exactly (integer data) or to a stated tolerance (real data).

* energies: :func:`quadratic_energy`, :func:`least_squares_energy`,
  :func:`tour_length`, :func:`dense_net_loss`, :func:`lenet_logits`, and
  :func:`gray_scan_energies` (both forms of a reduction at every point);
* random numbers: :class:`SplitMix64`;
* random choices: :func:`heat_bath_probabilities`,
  :func:`metropolis_probabilities` (the distributions the samplers must draw from);
* search steps: :func:`paper_algorithm2`, :func:`metropolis_two_valued`; the
  strategy kernels' references (:class:`TabuSearch`, :class:`Annealing`,
  :func:`tabu_flips`) are in ``naive_search.py``, the COO reader's
  (:func:`read_coo_bqm`) in ``naive_io.py``, to keep each file readable.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

MASK64 = (1 << 64) - 1

#: The solver's rounding allowance: an energy change below ``1e-12 * max(1, |E|)``
#: is not an improvement (a new best must beat the old by more than this).
RELATIVE_TOLERANCE = 1e-12


def tolerance(energy) -> float:
    """Smallest energy change the solver counts as an improvement at ``energy``."""
    return RELATIVE_TOLERANCE * max(1.0, abs(energy))


def quadratic_energy(Q, linear, offset, x) -> float:
    """``sum_ij Q_ij x_i x_j + sum_i c_i x_i + offset`` by loops."""
    n = len(x)
    total = float(offset)
    for i in range(n):
        total += linear[i] * x[i]
        for j in range(n):
            total += Q[i][j] * x[i] * x[j]
    return total


def tour_length(d, tour) -> float:
    """Length of the closed tour ``tour`` (a sequence of cities) under distances ``d``."""
    n = len(tour)
    return sum(d[tour[p]][tour[(p + 1) % n]] for p in range(n))


def gray_scan_energies(A, b, c, X, Y, offset, lo, hi):
    """Both forms of a reduction at every point of ``{lo, hi}^d``, in code order.

    Point ``code`` has ``x_j = hi`` when bit ``j`` of ``code`` is set. Returns
    ``(E_q, E_t)`` with ``E_q = x^T A x + b.x + c`` and
    ``E_t = ||X x - Y||^2 / N + offset``, each of shape ``(2**d,)``: one direct
    evaluation per point, no incremental update.
    """
    d = A.shape[0]
    codes = np.arange(2**d)
    x = np.where((codes[:, None] >> np.arange(d)) & 1, hi, lo).astype(np.float64)
    e_q = np.einsum("ki,ij,kj->k", x, A, x) + x @ b + c
    r = x @ X.T - Y
    e_t = np.sum(r * r, axis=1) / X.shape[0] + offset
    return e_q, e_t


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
        """An integer in ``0..n-1``: the top 32 bits scaled by ``n`` (Lemire)."""
        return ((self.next_u64() >> 32) * n) >> 32

    def uniform(self) -> float:
        """A float in [0, 1): the top 53 bits over ``2**53``."""
        return (self.next_u64() >> 11) / 2.0**53


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


def metropolis_two_valued(
    energy, domains, x0, rng_state: int, betas, sequential=True, order=None, target=-math.inf
):
    """Metropolis sweeps over two-valued domains, drawing one number for every attempt.

    The rule of ``combopt._kernels.anneal2``: each step picks a variable (the
    next of ``order``, by default ``0..n-1``, or ``SplitMix64.below(n)``),
    computes the flip's delta by two full energy evaluations, draws ``u =
    (next_u64 >> 11) / 2**53`` and accepts when ``beta * delta <= 0`` or
    ``beta * delta < 40`` and ``u < exp(-beta * delta)``. The run stops right
    after an accepted flip that reaches ``energy <= target``.

    Returns the energy and the state after each sweep (the last one cut
    short at the target), and the number of attempts made.
    """
    x = np.array(x0, dtype=float)
    rng = SplitMix64(rng_state)
    n = len(x)
    order = range(n) if order is None else list(order)
    energies, states, attempts = [], [], 0
    e = energy(x)
    for beta in betas:
        for step in range(n):
            i = order[step] if sequential else rng.below(n)
            y = x.copy()
            y[i] = domains[i][1] if x[i] == domains[i][0] else domains[i][0]
            z = beta * (energy(y) - e)
            u = (rng.next_u64() >> 11) / 2.0**53
            attempts += 1
            if z <= 0.0 or (z < 40.0 and u < math.exp(-z)):
                x, e = y, energy(y)
                if e <= target:
                    break
        energies.append(e)
        states.append(x.copy())
        if e <= target:
            break
    return energies, states, attempts


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
                    window = [full[2 * r + a, 2 * c + b_] for a in (0, 1) for b_ in (0, 1)]
                    out[o, r, c] = max(0.0, max(window))
        return out

    h = conv_relu_pool(conv_relu_pool(padded[None], w1, b1, 28), w2, b2, 10).ravel()
    for layer, (w, b) in enumerate(zip(head_weights, head_biases)):
        h = h @ w + b
        if layer < len(head_weights) - 1:
            h = np.maximum(h, 0.0)
    return h


def _activation(kind: str, a: float) -> float:
    if kind == "relu":
        return max(0.0, a)
    if kind == "tanh":
        return math.tanh(a)
    if kind == "logistic":  # two forms, so that exp never overflows
        return 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
    raise ValueError(kind)


def dense_net_loss(X, y, sizes, activation, loss, w) -> float:
    """Mean loss of a dense classifier by explicit loops over samples, units and weights.

    ``sizes`` is ``[d, *hidden, C]``; ``w`` holds each layer's ``W`` of shape
    ``(sizes[l], sizes[l+1])`` row-major, then its bias. Hidden layers apply
    ``activation``; the last layer's outputs are softmax logits ``z``, and the
    loss of a sample is ``-log softmax(z)_y`` (``"cross_entropy"``, written as
    ``log sum_k exp(z_k - m) + m - z_y`` with ``m = max z`` so it cannot overflow)
    or ``sum_k (softmax(z)_k - [k = y])^2`` (``"squared"``).
    """
    X = np.asarray(X, dtype=float)
    w = [float(v) for v in w]
    total = 0.0
    for n in range(X.shape[0]):
        h = [float(v) for v in X[n]]
        start = 0
        for layer in range(len(sizes) - 1):
            fan_in, width = sizes[layer], sizes[layer + 1]
            out = []
            for u in range(width):
                a = w[start + fan_in * width + u]  # the bias
                for j in range(fan_in):
                    a += h[j] * w[start + j * width + u]
                last = layer == len(sizes) - 2
                out.append(a if last else _activation(activation, a))
            h = out
            start += (fan_in + 1) * width
        m = max(h)
        exps = [math.exp(z - m) for z in h]
        label = int(y[n])
        if loss == "cross_entropy":
            total += math.log(sum(exps)) + m - h[label]
        elif loss == "squared":
            total += sum((e / sum(exps) - (k == label)) ** 2 for k, e in enumerate(exps))
        else:
            raise ValueError(loss)
    return total / X.shape[0]


def heat_bath_probabilities(deltas, beta) -> np.ndarray:
    """``P(k) = exp(-beta * delta_k) / sum_j exp(-beta * delta_j)`` over a coordinate's values."""
    weights = [math.exp(-beta * (d - min(deltas))) for d in deltas]  # shifted: no overflow
    return np.array(weights) / sum(weights)


def metropolis_probabilities(deltas, current, beta) -> np.ndarray:
    """One Metropolis step from value ``current``: propose each other value with
    probability ``1 / (m - 1)``, accept it with ``min(1, exp(-beta * delta))``."""
    m = len(deltas)
    p = np.zeros(m)
    for k in range(m):
        if k != current:
            p[k] = min(1.0, math.exp(-beta * deltas[k])) / (m - 1)
    p[current] = 1.0 - p.sum()
    return p


def twn_ternarize(w, factor=0.7):
    """Ternary-weight-network rounding by loops: ``(alpha, codes)``, see ``combopt.nn.ste``."""
    flat = [float(v) for v in np.asarray(w, dtype=float).ravel()]
    delta = factor * sum(abs(v) for v in flat) / len(flat)
    codes = [(1.0 if v > 0 else -1.0) if abs(v) > delta else 0.0 for v in flat]
    kept = [abs(v) for v, c in zip(flat, codes) if c != 0.0]
    alpha = sum(kept) / len(kept) if kept else 1.0
    return alpha, np.array(codes).reshape(np.shape(w))


def coupling_levels(data, cap):
    """``(nonzero, levels)`` of ``combopt._kernels.quadratic.coupling_levels``, from a set."""
    magnitudes = {abs(float(v)) for v in data if v != 0}
    nonzero = sum(1 for v in data if v != 0)
    return nonzero, min(len(magnitudes), cap + 1)


def random_indices(sizes, state: int) -> tuple[list, int]:
    """A uniform starting point's value indices, one ``below`` per variable, and the state after."""
    rng = SplitMix64(state)
    return [rng.below(m) for m in sizes], rng.state
