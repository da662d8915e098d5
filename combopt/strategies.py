"""Search strategies: how the solver picks the next value of a coordinate.

All strategies share one primitive, "evaluate every value of coordinate i",
and differ in which coordinate they look at and which value they keep:

* :class:`Paper` -- Algorithm 2 of Date et al. (2020): pick a coordinate
  uniformly at random, keep the best value, ties accepted. Never goes uphill.
* :class:`Annealing` -- visit the coordinates in turn (or at random), draw each value from the
  Boltzmann distribution over its whole domain (heat bath) at an inverse
  temperature that follows a schedule. At ``beta = inf`` it is the paper's rule.
* :class:`Tabu` -- scan every coordinate and value, make the best move that is
  not tabu (or that beats the best energy: aspiration), then forbid changing
  that variable for ``tenure`` moves; restart from the best state with a random
  perturbation after a stagnation.

An *iteration* is ``n`` coordinate steps for every strategy (``n`` variables):
``n`` random picks for Paper and Annealing, ``n`` moves for Tabu.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _positive_int(name: str, value, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'}, got {value}")
    return int(value)


@dataclass(frozen=True)
class Paper:
    """Algorithm 2 of the paper: random coordinate, best value, ties accepted."""

    name = "paper"

    def default_iterations(self, n: int) -> int:
        """The paper's ``T``: 100 iterations of ``n`` picks."""
        return 100


@dataclass(frozen=True)
class Annealing:
    """Simulated annealing over each coordinate's whole domain (heat bath by default).

    Parameters
    ----------
    beta_range : (float, float), optional
        Initial and final inverse temperatures. By default they come from the
        problem's energy scale, measured on the first read's initial state:
        ``beta_hot = ln 2 / max|delta|`` (the largest move is accepted half the
        time) and ``beta_cold = ln(100 n) / min|delta|`` (the smallest uphill
        move about once per 100 sweeps: frozen). A warmer end,
        ``ln 100 / min|delta|``, left plateau-rich Max-Cut graphs such as
        G-set's toroidal G11 wandering, 3% off instead of 1%.
    schedule : {"geometric", "linear"}
        Interpolation of beta between the two ends.
    order : {"sequential", "random"}
        Which coordinates a sweep visits: each once, in order (the default,
        as simulated annealing samplers do: memory-friendly and no random
        draw per step), or ``n`` picks uniformly at random (as the paper's
        Algorithm 2).
    rule : {"heat-bath", "metropolis"}
        ``"heat-bath"`` (default) draws the new value from the Boltzmann
        distribution over the whole domain. ``"metropolis"`` proposes one other
        value uniformly and accepts it with probability ``min(1, exp(-beta
        delta))``: downhill and level moves cost no random draw, which is what
        makes simulated-annealing samplers fast on plateau-rich problems. (Over
        two-valued domains a quadratic objective runs a dedicated kernel that
        draws for every attempt instead, which avoids a branch: the same
        acceptance probabilities, another random stream; see docs/engine.md.)
    num_sweeps : int
        Length of one annealing cycle, in iterations. A run longer than one
        cycle (``max_iterations > num_sweeps``) re-heats and anneals again from
        its current state. With a ``time_limit`` and no ``max_iterations``, one
        cycle fills the time limit instead: each iteration's beta is the
        schedule at the fraction of the budget that will have elapsed (the
        solver predicts it from the speed of the previous chunk).
    """

    beta_range: tuple[float, float] | None = None
    schedule: str = "geometric"
    num_sweeps: int = 1000
    order: str = "sequential"
    rule: str = "heat-bath"

    @property
    def name(self) -> str:
        """``"anneal"`` (heat bath) or ``"metropolis"``, as :data:`STRATEGIES` names them."""
        return "metropolis" if self.rule == "metropolis" else "anneal"

    def __post_init__(self):
        _positive_int("num_sweeps", self.num_sweeps)
        if self.rule not in ("heat-bath", "metropolis"):
            raise ValueError(f"rule must be 'heat-bath' or 'metropolis', got {self.rule!r}")
        if self.order not in ("sequential", "random"):
            raise ValueError(f"order must be 'sequential' or 'random', got {self.order!r}")
        if self.schedule not in ("geometric", "linear"):
            raise ValueError(f"schedule must be 'geometric' or 'linear', got {self.schedule!r}")
        if self.beta_range is not None:
            lo, hi = (float(b) for b in self.beta_range)
            if not (0.0 < lo <= hi) or not math.isfinite(lo):
                raise ValueError(f"beta_range must satisfy 0 < beta_hot <= beta_cold, got {self.beta_range}")

    def default_iterations(self, n: int) -> int:
        """One annealing cycle."""
        return self.num_sweeps

    def beta_at(self, fraction, beta_hot: float, beta_cold: float) -> np.ndarray:
        """Inverse temperature at ``fraction`` (0 = start, 1 = end) of a cycle."""
        fraction = np.clip(np.asarray(fraction, dtype=np.float64), 0.0, 1.0)
        if self.schedule == "geometric":
            return beta_hot * (beta_cold / beta_hot) ** fraction
        return beta_hot + (beta_cold - beta_hot) * fraction

    def betas(self, beta_hot: float, beta_cold: float) -> np.ndarray:
        """The inverse temperature of each iteration of one cycle, shape (num_sweeps,)."""
        return self.beta_at(np.linspace(0.0, 1.0, self.num_sweeps), beta_hot, beta_cold)


@dataclass(frozen=True)
class Tabu:
    """Best-admissible-move tabu search with aspiration and restarts.

    Parameters
    ----------
    tenure : int, optional
        Moves during which a changed variable may not change again, unless the
        move beats the best energy. Default ``min(20, n // 4)``, the rule of
        dwave-samplers' TabuSampler (at least 1, so tiny problems cannot cycle).
    restart_after : int, optional
        Moves without a new best before the read restarts from its best state.
        Default ``max(500, 5 * n)``; 0 disables restarts.
    perturbation : float
        Fraction of variables set to random values at a restart.
    """

    tenure: int | None = None
    restart_after: int | None = None
    perturbation: float = 0.1
    name = "tabu"

    def __post_init__(self):
        if self.tenure is not None:
            _positive_int("tenure", self.tenure, allow_zero=True)
        if self.restart_after is not None:
            _positive_int("restart_after", self.restart_after, allow_zero=True)
        if not (0.0 <= self.perturbation <= 1.0):
            raise ValueError(f"perturbation must be in [0, 1], got {self.perturbation}")

    def default_iterations(self, n: int) -> int:
        """About 10^8 evaluations (each move scans all n), between 1 and 100 iterations."""
        return int(min(100, max(1, 10**8 // (n * n))))

    def parameters(self, n: int) -> tuple[int, int, int]:
        """``(tenure, restart_after, perturb_count)`` for ``n`` variables."""
        tenure = min(20, max(1, n // 4)) if self.tenure is None else self.tenure
        restart = max(500, 5 * n) if self.restart_after is None else self.restart_after
        return tenure, restart, max(1, int(round(self.perturbation * n))) if self.perturbation else 0


#: The strategies by name; ``"metropolis"`` is annealing with the Metropolis rule.
STRATEGIES = {
    "paper": Paper,
    "anneal": Annealing,
    "metropolis": lambda: Annealing(rule="metropolis"),
    "tabu": Tabu,
}


def resolve_strategy(strategy) -> Paper | Annealing | Tabu:
    """A strategy instance from a name (a key of :data:`STRATEGIES`) or an instance."""
    if isinstance(strategy, (Paper, Annealing, Tabu)):
        return strategy
    if isinstance(strategy, str) and strategy in STRATEGIES:
        return STRATEGIES[strategy]()
    raise ValueError(f"strategy must be one of {sorted(STRATEGIES)} or a strategy instance, got {strategy!r}")
