"""Search strategies: how the solver picks the next value of a coordinate.

All strategies share one primitive, "evaluate every value of coordinate i",
and differ in which coordinate they look at and which value they keep:

* :class:`Paper` -- Algorithm 2 of Date et al. (2020): pick a coordinate
  uniformly at random, keep the best value, ties accepted. Never goes uphill.
* :class:`Annealing` -- visit the coordinates in turn (or at random), draw each value from the
  Boltzmann distribution over its whole domain (heat bath) at an inverse
  temperature that follows a schedule. At ``beta = inf`` it is the paper's rule.
* :class:`Tabu` -- make the best move that is not tabu (or that beats the best
  energy: aspiration), then forbid changing that variable for ``tenure``
  moves; restart from the best state with a random perturbation after a
  stagnation, or (two-valued quadratic problems) perturb every local optimum
  adaptively, as breakout local search does.
* :class:`IteratedLocalSearch` -- tours in the successor encoding only: 2-opt
  and Or-opt local search over candidate lists, kicked by local double bridges.
* :class:`Auto` -- the default: one of the above, chosen from measured
  properties of the problem (domain sizes, coupling density and levels).

An *iteration* is ``n`` coordinate steps for every strategy (``n`` variables):
``n`` random picks for Paper and Annealing, ``n`` moves for Tabu.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from combopt._validation import check_count, check_real


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
    restart_sweeps : int, optional
        Time-limited runs only (a ``time_limit`` and no ``max_iterations``):
        split the budget into ``k`` equal cycles, each re-heating from the
        current state and cooling again along the schedule, the best state
        of all of them kept. ``k`` is the number of sweeps the budget buys
        divided by ``restart_sweeps`` (at least 1), predicted from the speed
        measured over the run's first 2% (at most 5 ms). ``None`` (default):
        one cycle spans the budget. On sparse Max-Cut several shorter anneals
        beat one long one at equal time (docs/engine.md, "Restarts").
    """

    beta_range: tuple[float, float] | None = None
    schedule: str = "geometric"
    num_sweeps: int = 1000
    order: str = "sequential"
    rule: str = "heat-bath"
    restart_sweeps: int | None = None

    @property
    def name(self) -> str:
        """``"anneal"`` (heat bath) or ``"metropolis"``, as :data:`STRATEGIES` names them."""
        return "metropolis" if self.rule == "metropolis" else "anneal"

    def __post_init__(self):
        check_count("num_sweeps", self.num_sweeps)
        if self.restart_sweeps is not None:
            check_count("restart_sweeps", self.restart_sweeps)
        if self.rule not in ("heat-bath", "metropolis"):
            raise ValueError(f"rule must be 'heat-bath' or 'metropolis', got {self.rule!r}")
        if self.order not in ("sequential", "random"):
            raise ValueError(f"order must be 'sequential' or 'random', got {self.order!r}")
        if self.schedule not in ("geometric", "linear"):
            raise ValueError(f"schedule must be 'geometric' or 'linear', got {self.schedule!r}")
        if self.beta_range is not None:
            lo, hi = (float(b) for b in self.beta_range)
            if not (0.0 < lo <= hi) or not math.isfinite(lo):
                raise ValueError(
                    f"beta_range must satisfy 0 < beta_hot <= beta_cold, got {self.beta_range}"
                )

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
    """Best-admissible-move tabu search with aspiration, restarts or breakout perturbations.

    Over two-valued domains on a quadratic objective whose couplings are
    sparse (density below 5%), the default is breakout local search with its
    moves chosen by tournament trees, ``O(degree log n)`` a move; elsewhere it
    is tabu search with restarts, every move chosen by a scan of all deltas
    (the fastest on dense couplings, and the quickest to OR-Library optima).

    Parameters
    ----------
    tenure : int or (int, int), optional
        Moves during which a changed variable may not change again, unless the
        move beats the best energy; a pair ``(lo, hi)`` draws it uniformly in
        ``lo..hi`` at every move (two-valued quadratic problems only). Default
        ``min(20, n // 4)`` for restarts, the rule of dwave-samplers'
        TabuSampler (at least 1, so tiny problems cannot cycle), and
        ``(3, max(3, n // 10))`` for breakout local search, as Benlic & Hao
        have it.
    restart_after : int, optional
        Moves without a new best before the read restarts from its best state.
        Default ``max(500, 5 * n)``; 0 disables restarts. Unused by breakout
        local search.
    perturbation : float or {"auto", "adaptive"}
        A fraction: restart from the best state with that fraction of the
        variables set to random values. ``"adaptive"``: breakout local search
        (Benlic & Hao 2013; two-valued quadratic problems only) -- steepest
        descent to a local optimum, then a perturbation of ``L`` moves, tabu
        moves with probability ``max(exp(-omega / stagnation), p_directed)``
        (``omega``: local optima since the best improved) and random flips
        otherwise; ``L`` grows by one while the descent falls back into the
        previous optimum and returns to its least value at a new one.
        ``"auto"`` (default): adaptive on sparse couplings, restarts with 10%
        otherwise.
    moves : {"auto", "scan", "tree"}
        How a two-valued quadratic problem's best move is found: ``"scan"``
        reads every variable's delta (``O(n)`` a move), ``"tree"`` keeps the
        deltas in tournament trees (``O(degree log n)`` a move). Both make the
        same choices from the same random draws. ``"auto"``: the tree on
        sparse couplings, the scan otherwise. Other problems always scan.
    jump : (float, float)
        Breakout local search: the shortest and the longest perturbation
        (``L0`` and ``Lmax``), as fractions of ``n`` (at least one move).
    stagnation : int
        Breakout local search: local optima without a new best before a
        random perturbation of ``Lmax`` moves (``T``).
    p_directed : float
        Breakout local search: the least probability that a perturbation is
        made of tabu moves rather than random flips (``P0``).

    Examples
    --------
    >>> import numpy as np
    >>> from combopt import Domain, solve
    >>> from combopt.objectives import QuadraticObjective
    >>> ring = np.roll(np.eye(100), 1, axis=1)  # an antiferromagnetic ring: the cut is every edge
    >>> result = solve(QuadraticObjective(ring), Domain.spin(), strategy=Tabu(), seed=0,
    ...                max_iterations=20)
    >>> result.energy, result.info["moves"], result.info["adaptive"]
    (-100.0, 'tree', True)
    """

    tenure: int | tuple[int, int] | None = None
    restart_after: int | None = None
    perturbation: float | str = "auto"
    moves: str = "auto"
    jump: tuple[float, float] = (0.01, 0.2)
    stagnation: int = 100
    p_directed: float = 0.8
    name = "tabu"

    def __post_init__(self):
        if isinstance(self.tenure, tuple):
            if len(self.tenure) != 2:
                raise ValueError(f"tenure must be an integer or a pair (lo, hi), got {self.tenure}")
            lo = check_count("tenure", self.tenure[0], minimum=0)
            hi = check_count("tenure", self.tenure[1], minimum=0)
            if lo > hi:
                raise ValueError(f"tenure range must have lo <= hi, got {self.tenure}")
        elif self.tenure is not None:
            check_count("tenure", self.tenure, minimum=0)
        if self.restart_after is not None:
            check_count("restart_after", self.restart_after, minimum=0)
        if isinstance(self.perturbation, str):
            if self.perturbation not in ("auto", "adaptive"):
                raise ValueError(
                    "perturbation must be a fraction, 'auto' or 'adaptive', "
                    f"got {self.perturbation!r}"
                )
        elif not (0.0 <= check_real("perturbation", self.perturbation) <= 1.0):
            raise ValueError(f"perturbation must be in [0, 1], got {self.perturbation}")
        if self.moves not in ("auto", "scan", "tree"):
            raise ValueError(f"moves must be 'auto', 'scan' or 'tree', got {self.moves!r}")
        lo, hi = (float(f) for f in self.jump)
        if not (0.0 < lo <= hi <= 1.0):
            raise ValueError(
                f"jump must satisfy 0 < L0 <= Lmax <= 1 (fractions of n), got {self.jump}"
            )
        check_count("stagnation", self.stagnation)
        if not (0.0 <= self.p_directed <= 1.0):
            raise ValueError(f"p_directed must be in [0, 1], got {self.p_directed}")

    @property
    def needs_flips(self) -> bool:
        """True when the parameters ask for what only two-valued quadratic problems run."""
        adaptive = self.perturbation == "adaptive"
        return self.moves == "tree" or adaptive or isinstance(self.tenure, tuple)

    def default_iterations(self, n: int) -> int:
        """About 10^8 evaluations (each move scans all n), between 1 and 100 iterations."""
        return int(min(100, max(1, 10**8 // (n * n))))

    def parameters(self, n: int, sparse: bool = False) -> dict:
        """The search's parameters for ``n`` variables (``sparse``: two-valued, sparse couplings).

        Keys: ``tenure`` ``(lo, hi)``, ``restart_after``, ``perturb_count``,
        ``adaptive`` and, when adaptive, ``jump`` ``(L0, Lmax)``,
        ``omega_limit`` and ``p_directed``.

        Examples
        --------
        >>> Tabu().parameters(1000)["tenure"]
        (20, 20)
        >>> p = Tabu().parameters(1000, sparse=True)
        >>> p["adaptive"], p["tenure"], p["jump"]
        (True, (3, 100), (10, 200))
        """
        adaptive = self.perturbation == "adaptive" or (self.perturbation == "auto" and sparse)
        if isinstance(self.tenure, tuple):
            tenure = (int(self.tenure[0]), int(self.tenure[1]))
        elif self.tenure is not None:
            tenure = (int(self.tenure), int(self.tenure))
        elif adaptive:
            tenure = (3, max(3, n // 10))
        else:
            tenure = (min(20, max(1, n // 4)),) * 2
        restart = max(500, 5 * n) if self.restart_after is None else self.restart_after
        fraction = 0.1 if isinstance(self.perturbation, str) else self.perturbation
        params = {
            "tenure": tenure,
            "restart_after": 0 if adaptive else restart,
            "perturb_count": max(1, round(fraction * n)) if fraction else 0,
            "adaptive": adaptive,
        }
        if adaptive:
            params["jump"] = tuple(max(1, round(f * n)) for f in self.jump)
            params["omega_limit"] = self.stagnation
            params["p_directed"] = float(self.p_directed)
        return params


@dataclass(frozen=True)
class IteratedLocalSearch:
    """Iterated local search for tours (successor encoding only): 2-opt/Or-opt, local kicks.

    Each read descends to a local optimum of the 2-opt and Or-opt moves keyed
    by every city's candidate list (a queue of active cities, "don't-look
    bits"), then repeats: a kick swaps two adjacent segments of ``1..window``
    cities at a random place (a local double bridge), the local search
    repairs around it, and the result is kept when it is not longer, undone
    otherwise. An iteration is ``n`` kicks. Only
    :class:`~combopt.objectives.SuccessorTourObjective` runs it; ``"auto"``
    picks it there.

    Parameters
    ----------
    window : int
        Longest segment a kick moves.
    """

    window: int = 50
    name = "ils"

    def __post_init__(self):
        check_count("window", self.window)

    def default_iterations(self, n: int) -> int:
        """100 iterations (``100 n`` kicks)."""
        return 100


class ProblemFeatures(NamedTuple):
    """What :class:`Auto` measures of a lowered problem before it chooses."""

    kind: str  #: the kernel kind (``"SparseQuadratic"``, ...) or ``"python"`` for interpreted ones
    num_variables: int
    max_domain: int  #: the largest domain size
    two_valued: bool  #: every domain has exactly two values
    mean_degree: float  #: couplings per variable (quadratic kinds; ``nan`` otherwise)
    #: distinct nonzero coupling magnitudes (quadratic kinds; 0 otherwise), counted up to
    #: ``Auto.plateau_levels``: one more than that means more
    weight_levels: int


@dataclass(frozen=True)
class Auto:
    """Choose the strategy from measured properties of the problem (the default).

    The rule, and the measurements behind it, are in ``docs/engine.md``
    ("Choosing a strategy"):

    * two-valued quadratic problems (QUBO, Ising) with few coupling levels
      (Max-Cut-like: at most ``plateau_levels`` distinct magnitudes) and a
      sparse coupling graph (mean degree at most ``sparse_degree``) go to
      Metropolis annealing: their energy landscape is one of wide plateaus,
      where annealing's cheap level moves beat tabu's best-move scans. Under
      a time limit the budget is cut into anneals of about
      ``restart_sweeps`` sweeps, the best kept (:class:`Annealing`'s
      ``restart_sweeps``): several shorter anneals beat one long one there;
    * other two-valued quadratic problems (OR-Library bqp, GKA) go to tabu;
    * multi-valued compiled problems go to tabu while a move's scan over
      every value of every variable is small (``n * max_domain`` at most
      ``tabu_scan``), else to heat-bath annealing;
    * interpreted objectives (one Python call per candidate) go to
      heat-bath annealing, which tries each value once per sweep;
    * tours in the successor encoding go to iterated local search.

    The choice and the reason are recorded in ``SolveResult.info["auto"]``,
    and ``SolveResult.strategy`` names the strategy that ran.
    """

    sparse_degree: float = 64.0
    plateau_levels: int = 2
    tabu_scan: int = 20_000
    restart_sweeps: int = 5000
    name = "auto"

    def strategy(self, choice: str) -> Paper | Annealing | Tabu:
        """The strategy instance that runs for the name :meth:`choose` returned.

        Examples
        --------
        >>> Auto().strategy("metropolis").restart_sweeps
        5000
        >>> Auto().strategy("tabu") == Tabu()
        True
        """
        if choice == "metropolis":
            return Annealing(rule="metropolis", restart_sweeps=self.restart_sweeps)
        return resolve_strategy(choice)

    def choose(self, features: ProblemFeatures) -> tuple[str, str]:
        """``(strategy name, reason)`` for a problem with these features."""
        if features.kind == "SuccessorProblem":
            return "ils", "a tour in the successor encoding: iterated 2-opt/Or-opt local search"
        if features.kind == "python":
            return "anneal", "interpreted objective: heat bath tries each value once per sweep"
        if features.two_valued and features.weight_levels:
            if (
                features.weight_levels <= self.plateau_levels
                and features.mean_degree <= self.sparse_degree
            ):
                return "metropolis", (
                    f"two-valued, {features.weight_levels} coupling level(s), mean degree "
                    f"{features.mean_degree:.1f}: a plateau landscape, annealed"
                )
            levels = features.weight_levels
            many = f"more than {self.plateau_levels}" if levels > self.plateau_levels else levels
            return "tabu", (
                f"two-valued, {many} coupling levels, mean degree "
                f"{features.mean_degree:.1f}: tabu search"
            )
        scan = features.num_variables * features.max_domain
        if scan <= self.tabu_scan:
            return "tabu", f"a move scans {scan} values: tabu search"
        return "anneal", f"a move would scan {scan} values: heat-bath annealing"


#: The strategies by name; ``"metropolis"`` is annealing with the Metropolis rule.
STRATEGIES = {
    "auto": Auto,
    "paper": Paper,
    "anneal": Annealing,
    "metropolis": lambda: Annealing(rule="metropolis"),
    "tabu": Tabu,
    "ils": IteratedLocalSearch,
}


def resolve_strategy(strategy) -> Auto | Paper | Annealing | Tabu | IteratedLocalSearch:
    """A strategy instance from a name (a key of :data:`STRATEGIES`) or an instance."""
    if isinstance(strategy, (Auto, Paper, Annealing, Tabu, IteratedLocalSearch)):
        return strategy
    if isinstance(strategy, str) and strategy in STRATEGIES:
        return STRATEGIES[strategy]()
    raise ValueError(
        f"strategy must be one of {sorted(STRATEGIES)} or a strategy instance, got {strategy!r}"
    )
