"""The travelling salesman problem through the combopt engine.

* :mod:`~combopt.tsp.tsplib` -- TSPLIB95 reader (:func:`read_tsplib`, :func:`read_tour`);
* :mod:`~combopt.tsp.sources` -- matrices, networkx graphs, published instances;
* :mod:`~combopt.tsp.exact` -- Held-Karp (n <= 15) and brute force oracles;
* :mod:`~combopt.tsp.qubo` -- the position one-hot QUBO and its decoder/repair;
* :mod:`~combopt.tsp.solve` -- :func:`solve_tsp` in the successor (default),
  permutation or QUBO encoding;
* :mod:`~combopt.tsp.alpha` -- alpha-nearness candidate lists and the Held-Karp bound;
* :mod:`~combopt.tsp.plot` -- draw a tour over its coordinates.

See ``docs/tsp.md``.
"""

from combopt.tsp.alpha import alpha_candidates, held_karp_bound
from combopt.tsp.exact import brute_force, held_karp
from combopt.tsp.plot import plot_tour, save_tour_plot
from combopt.tsp.qubo import TSPQubo, build_qubo, decode, decode_sampleset, encode_tour
from combopt.tsp.solve import TSPResult, reference_optimum, refine_tour, solve_tsp
from combopt.tsp.sources import best_known, from_matrix, from_networkx, load_instance, optimal_tour
from combopt.tsp.tsplib import TSPInstance, TSPLIBError, read_tour, read_tsplib, tour_length

__all__ = [
    "TSPInstance",
    "TSPLIBError",
    "TSPQubo",
    "TSPResult",
    "alpha_candidates",
    "best_known",
    "brute_force",
    "build_qubo",
    "decode",
    "decode_sampleset",
    "encode_tour",
    "from_matrix",
    "from_networkx",
    "held_karp",
    "held_karp_bound",
    "load_instance",
    "optimal_tour",
    "plot_tour",
    "read_tour",
    "read_tsplib",
    "reference_optimum",
    "refine_tour",
    "save_tour_plot",
    "solve_tsp",
    "tour_length",
]
