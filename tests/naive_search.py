"""Slow references of the search strategies, one move or sweep at a time (see naive.py).

Every delta is a difference of two full energies and every rule is written out
on Python lists; the compiled strategy kernels must make the same moves from
the same random numbers (integer data):

* :class:`TabuSearch` -- the generic tabu step (tenure, aspiration, ties);
* :class:`Annealing` -- heat-bath and Metropolis sweeps;
* :func:`tabu_flips` -- single-flip tabu and breakout local search over
  two-valued domains (the tournament-tree kernel's rules).
"""

from __future__ import annotations

import math

import numpy as np
from naive import SplitMix64, heat_bath_probabilities, tolerance


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
                if min(d) < -tolerance(e):
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
                    aspiration = best - tolerance(best) - e
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
                if e < best - tolerance(best):
                    best, best_x, improved = e, x.copy(), True
            clock += 1
        trace.append(e)
    return best_x, trace
