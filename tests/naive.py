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
* search steps: :func:`paper_algorithm2`, :class:`TabuSearch`, :class:`Annealing`.
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


def metropolis_two_valued(energy, domains, x0, rng_state: int, betas, sequential=True):
    """Metropolis sweeps over two-valued domains, drawing one number for every attempt.

    The rule of ``combopt._kernels.anneal2``: each step picks a variable (in
    order, or ``SplitMix64.below(n)``), computes the flip's delta by two full
    energy evaluations, draws ``u = (next_u64 >> 11) / 2**53`` and accepts when
    ``beta * delta <= 0`` or ``beta * delta < 40`` and ``u < exp(-beta * delta)``.

    Returns the energy after each sweep and the state after each sweep.
    """
    x = np.array(x0, dtype=float)
    rng = SplitMix64(rng_state)
    n = len(x)
    energies, states = [], []
    for beta in betas:
        for step in range(n):
            i = step if sequential else rng.below(n)
            y = x.copy()
            y[i] = domains[i][1] if x[i] == domains[i][0] else domains[i][0]
            z = beta * (energy(y) - energy(x))
            u = (rng.next_u64() >> 11) / 2.0**53
            if z <= 0.0 or (z < 40.0 and u < math.exp(-z)):
                x = y
        energies.append(energy(x))
        states.append(x.copy())
    return energies, states


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


class TabuSearch:
    """Tabu search one move at a time, every delta a difference of two full energies.

    A move sets one variable ``i`` to another value ``k``. It is *tabu* while the
    move counter is below ``tabu_until[i]`` (for ``tenure`` moves after ``i``
    last moved), unless it *aspirates*: it would reach a new best energy. Each
    move takes an admissible move of least delta (uphill if need be); when no
    move is admissible the move counter still advances. Ties go to a uniform
    choice among the tied moves, made by reservoir sampling in scan order
    (variable, then value): the ``t``-th tied move seen replaces the choice when
    ``below(t) == 0``. That is the kernels' rule, so both use the same random
    numbers. No restarts.

    Parameters
    ----------
    energy : callable
        ``energy(x)`` of a list of domain values.
    domains : list of lists
        Each variable's values.
    x_idx : sequence of int
        Starting value indices.
    tenure : int
    rng_state : int
        The read's splitmix64 state.
    """

    def __init__(self, energy, domains, x_idx, tenure, rng_state):
        self.energy_of = energy
        self.domains = domains
        self.x = [int(k) for k in x_idx]
        self.tenure = tenure
        self.rng = SplitMix64(rng_state)
        self.tabu_until = [0] * len(domains)
        self.clock = 0
        self.energy = self._energy(self.x)
        self.best = self.energy
        self.moves_since_best = 0
        self.stall = 0
        self.evaluations = 0

    def _energy(self, x):
        return self.energy_of([self.domains[i][k] for i, k in enumerate(x)])

    def step(self):
        """Make one move; return ``(i, k)``, or ``None`` when no move was admissible."""
        admissible = []  # (delta, i, k) in scan order
        for i, values in enumerate(self.domains):
            for k in range(len(values)):
                if k == self.x[i]:
                    continue
                y = list(self.x)
                y[i] = k
                delta = self._energy(y) - self.energy
                self.evaluations += 1
                tabu = self.tabu_until[i] > self.clock
                aspirates = self.energy + delta < self.best - tolerance(self.best)
                if not tabu or aspirates:
                    admissible.append((delta, i, k))
        self.clock += 1
        if not admissible:
            return None
        lowest, ties, choice = math.inf, 0, None
        for delta, i, k in admissible:
            if delta < lowest:
                lowest, ties, choice = delta, 1, (i, k)
            elif delta == lowest:
                ties += 1
                if self.rng.below(ties) == 0:
                    choice = (i, k)
        i, k = choice
        self.x[i] = k
        self.energy = self._energy(self.x)
        self.tabu_until[i] = self.clock + self.tenure
        if self.energy < self.best - tolerance(self.best):
            self.best, self.moves_since_best = self.energy, 0
        else:
            self.moves_since_best += 1
        return choice

    def iteration(self):
        """``n`` moves (the kernels' iteration); return each move made and the assignment after."""
        best = self.best
        made = []
        for _ in self.domains:
            move = self.step()
            if move is not None:
                made.append((move, list(self.x)))
        self.stall = 0 if self.best < best else self.stall + 1
        return made


class Annealing:
    """Annealing one sweep at a time, every delta a difference of two full energies.

    A sweep at inverse temperature ``beta`` takes ``n`` steps; each picks a
    coordinate (in order, or uniformly at random) and draws its next value
    from the rule's distribution: :func:`heat_bath_probabilities` or one
    :func:`metropolis_probabilities` step. A draw is the inverse of the
    cumulative distribution at one ``uniform()`` number ``u`` (on two values:
    the other value when ``u < P(other)``), so the kernels and this reference
    use the same random numbers. No number is drawn when the
    outcome is certain: a Metropolis move that is not uphill, and any choice
    whose probabilities are 0 or 1 to float64 precision -- ``beta * delta``
    beyond 40 (``exp(-40) < 2**-53``) on two values, or a Metropolis move
    uphill by that much. The best energy is taken at the end of each sweep.

    Parameters are those of :class:`TabuSearch`, with ``rule`` in
    ``{"heat_bath", "metropolis"}`` and ``sequential`` for the coordinate order.
    """

    CUT = 40.0

    def __init__(self, energy, domains, x_idx, rng_state, rule, sequential):
        self.energy_of = energy
        self.domains = domains
        self.x = [int(k) for k in x_idx]
        self.rng = SplitMix64(rng_state)
        self.rule = rule
        self.sequential = sequential
        self.energy = self._energy(self.x)
        self.best = self.energy
        self.stall = 0
        self.evaluations = 0

    def _energy(self, x):
        return self.energy_of([self.domains[i][k] for i, k in enumerate(x)])

    def _deltas(self, i):
        deltas = []
        for k in range(len(self.domains[i])):
            y = list(self.x)
            y[i] = k
            deltas.append(self._energy(y) - self.energy)
        self.evaluations += len(deltas) - 1
        return deltas

    def _inverse_cdf(self, p):
        u = self.rng.uniform()
        total = 0.0
        for k, pk in enumerate(p):
            total += pk
            if u < total:
                return k
        return len(p) - 1

    def _heat_bath(self, deltas, current, beta):
        p = heat_bath_probabilities(deltas, beta)
        if len(deltas) == 2:
            other = 1 - current
            z = beta * deltas[other]
            if abs(z) >= self.CUT:
                return current if z > 0 else other
            return other if self.rng.uniform() < p[other] else current
        return self._inverse_cdf(p)

    def _metropolis(self, deltas, current, beta):
        m = len(deltas)
        if m == 1:
            return current
        others = [k for k in range(m) if k != current]
        proposal = others[0] if m == 2 else others[self.rng.below(m - 1)]
        z = beta * deltas[proposal]
        if z <= 0.0:
            return proposal
        if z >= self.CUT:
            return current
        return proposal if self.rng.uniform() < math.exp(-z) else current

    def sweep(self, beta):
        """``n`` steps at ``beta``; return each move made and the assignment after it."""
        made = []
        n = len(self.domains)
        for step in range(n):
            i = step if self.sequential else self.rng.below(n)
            deltas = self._deltas(i)
            choose = self._heat_bath if self.rule == "heat_bath" else self._metropolis
            k = choose(deltas, self.x[i], beta)
            if k != self.x[i]:
                self.x[i] = k
                self.energy = self._energy(self.x)
                made.append(((i, k), list(self.x)))
        if self.energy < self.best - tolerance(self.best):
            self.best, self.stall = self.energy, 0
        else:
            self.stall += 1
        return made


def read_coo_bqm(path, vartype=None, max_variables=10_000_000):
    """dimod's COO text format, one line at a time into a dimod BQM (the old reader).

    Labels above ``2**63 - 1`` are refused, as the array reader does; every
    other rule, message and line number is the reference for ``read_coo``.
    """
    import re

    import dimod

    from combopt.io._text import LineReader, parse_int, parse_real

    reader = LineReader(path, comment="#")
    given = None if vartype is None else dimod.as_vartype(vartype)
    header = None
    for line, text in reader.comments:
        match = re.match(r"#.*?vartype[:=][ \t]*([-_.a-zA-Z0-9]+)", text)
        if match is None:
            continue
        name = match.group(1).upper()
        if name not in ("SPIN", "BINARY"):
            raise reader.error(line, f"unknown vartype {match.group(1)!r} (SPIN or BINARY)")
        found = dimod.Vartype[name]
        if header is not None and found is not header:
            raise reader.error(line, f"vartype header {name} contradicts an earlier header")
        header = found
    if given is not None and header is not None and given is not header:
        raise reader.error(None, f"file says vartype={header.name} but {given.name} was given")
    chosen = given or header
    if not reader.remaining() and not reader.comments:
        raise reader.error(None, "the file is empty")
    if chosen is None:
        raise reader.error(
            None, "no '# vartype=SPIN|BINARY' header: give the vartype "
            "(vartype= in Python, --vartype SPIN|BINARY on the command line)"
        )
    bqm = dimod.BinaryQuadraticModel(chosen)
    while reader.remaining():
        line, (tu, tv, tb) = reader.next_fields(3, "entry 'i j bias'")
        u = parse_int(reader, line, tu, "label i")
        v = parse_int(reader, line, tv, "label j")
        bias = parse_real(reader, line, tb, "bias")
        for token, label in ((tu, u), (tv, v)):
            if label > 2**63 - 1:
                raise reader.error(line, f"label {token!r} is above 2**63 - 1")
        if u == v:
            bqm.add_linear(u, bias)
        else:
            bqm.add_quadratic(u, v, bias)
        if bqm.num_variables > max_variables:
            raise reader.error(line, f"more than {max_variables} variables")
    return bqm


def symmetric_couplings(rows, cols, data, n):
    """``S = Q + Q^T`` off the diagonal as a dict ``{(i, j): value}``, and ``diag(Q)``."""
    S = {}
    diag = [0.0] * n
    for i, j, v in zip(rows, cols, data):
        if i == j:
            diag[i] += v
        else:
            S[i, j] = S.get((i, j), 0.0) + v
            S[j, i] = S.get((j, i), 0.0) + v
    return S, diag


def _tolerance(energy: float) -> float:
    return 1e-12 * max(1.0, abs(energy))


def tabu_flips(energy, pairs, x0, rng_state: int, iterations: int, tenure=(1, 1), breakout=None):
    """Single-flip tabu search over two-valued domains, every delta recomputed from scratch.

    Each move takes the best admissible flip (not tabu, or beating the best
    energy), ties broken by ``k = below(number of ties)`` over the tied
    variables in index order; the tenure is drawn in ``tenure[0]..tenure[1]``
    after the pick. With ``breakout = (L0, Lmax, T, P0)`` it is breakout local
    search: best strictly improving flips down to a local optimum, then a
    perturbation of ``L`` moves, directed (as above) with probability
    ``max(exp(-omega / T), P0)`` or random flips; ``L`` grows by 1 when the
    optimum is the previous one, else is ``L0``; after ``T`` optima without a
    new best, a random perturbation of ``Lmax`` moves. No restarts.

    Returns the best assignment and the energy after each iteration of ``n`` moves.
    """
    x = np.array(x0, dtype=float)
    n = len(x)
    rng = SplitMix64(rng_state)
    e = energy(x)
    best, best_x = e, x.copy()
    tabu_until = [0] * n
    clock = 0
    left = jump = omega = 0
    directed, improved, previous = True, False, None
    trace = []

    def deltas():
        out = []
        for i in range(n):
            y = x.copy()
            y[i] = pairs[i][1] if x[i] == pairs[i][0] else pairs[i][0]
            out.append(energy(y) - e)
        return out

    def pick(candidates, d):
        low = min(d[i] for i in candidates)
        ties = [i for i in candidates if d[i] == low]
        return ties[rng.below(len(ties))]

    for _ in range(iterations):
        for _ in range(n):
            d = deltas()
            move = None
            if breakout is not None and left == 0:
                if min(d) < -_tolerance(e):
                    move = pick(range(n), d)
                else:  # a local optimum
                    omega = 0 if improved else omega + 1
                    improved = False
                    if omega > breakout[2]:
                        jump, omega, directed = breakout[1], 0, False
                    else:
                        jump = min(jump + 1, breakout[1]) if tuple(x) == previous else breakout[0]
                        u = (rng.next_u64() >> 11) / 2.0**53
                        directed = u < max(np.exp(-omega / breakout[2]), breakout[3])
                    previous = tuple(x)
                    left = jump
            if move is None and (breakout is None or left > 0):
                if breakout is not None and not directed:
                    move = rng.below(n)
                else:
                    aspiration = best - _tolerance(best) - e
                    admissible = [
                        i for i in range(n) if tabu_until[i] <= clock or d[i] < aspiration
                    ]
                    move = pick(admissible, d) if admissible else None
                if breakout is not None:
                    left -= 1
            if move is not None:
                t = tenure[0]
                if tenure[1] > tenure[0]:
                    t += rng.below(tenure[1] - tenure[0] + 1)
                tabu_until[move] = clock + 1 + t
                x[move] = pairs[move][1] if x[move] == pairs[move][0] else pairs[move][0]
                e = energy(x)
                if e < best - _tolerance(best):
                    best, best_x, improved = e, x.copy(), True
            clock += 1
        trace.append(e)
    return best_x, trace
