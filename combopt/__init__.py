"""combopt: CoNNTrA as a finite-domain coordinate search solver.

The public API in one screen::

    from combopt import Domain, solve, discretize
    from combopt.objectives import QuadraticObjective
    result = solve(QuadraticObjective(Q), Domain.binary(), strategy="tabu", seed=0)

See ``docs/`` for the engine, the reductions, the adapters and the benchmarks.
"""

from combopt._version import __version__
from combopt.domain import Domain, discretize, discretize_scaled
from combopt.solver import Progress, SolveResult, solve, warmup
from combopt.strategies import Annealing, Paper, Tabu

__all__ = [
    "Annealing",
    "Domain",
    "Paper",
    "Progress",
    "SolveResult",
    "Tabu",
    "__version__",
    "discretize",
    "discretize_scaled",
    "solve",
    "warmup",
]
