"""The routing peers of ``experiments/tsp_bench.py``, each behind one wrapper.

Every wrapper takes ``(instance, seconds, seed)`` and returns
``(tour, extra)``: a 0-based city order and a dict of peer-specific fields;
the caller times the call. Peers are imported inside the wrappers, so a
missing one costs nothing until it is asked for (:func:`available` says
which are importable). None of them is a combopt dependency: they come
with the ``tsp-peers`` extra (python-tsp apart, see ``pyproject.toml``).

* ``ortools`` -- OR-Tools routing, one vehicle, guided local search after
  PATH_CHEAPEST_ARC, one worker, the integer matrix registered on the C++
  side (``RegisterTransitMatrix``), time limit ``seconds``. It takes no seed.
* ``fast-tsp`` -- ``fast_tsp.find_tour(dist_int, duration_seconds=seconds)``,
  one thread (its default). It takes no seed.
* ``elkai`` -- LKH through elkai. **Licence: elkai's LKH code is free for
  academic and non-commercial use only.** It has no time limit: it is
  bounded by its ``runs`` parameter and the wall time is recorded.
* ``python-tsp`` -- ``solve_tsp_simulated_annealing`` with
  ``max_processing_time=seconds`` (numpy's global generator seeded).
"""

from __future__ import annotations

import importlib.util

import numpy as np

__all__ = ["PEERS", "available", "run_peer"]

#: peer name -> (module to import, one-line note)
PEERS = {
    "ortools": ("ortools", "OR-Tools routing, guided local search, 1 worker"),
    "fast-tsp": ("fast_tsp", "fast-tsp find_tour, 1 thread"),
    "elkai": ("elkai", "LKH via elkai (NON-COMMERCIAL licence), bounded by runs"),
    "python-tsp": ("python_tsp", "python-tsp simulated annealing"),
}


def available(peer: str) -> bool:
    """Whether the peer's package can be imported."""
    return importlib.util.find_spec(PEERS[peer][0]) is not None


def _int_matrix(instance) -> np.ndarray:
    """The integer distance matrix the integer peers need (TSPLIB weights are integral)."""
    d = instance.distances
    rounded = np.rint(d)
    if not np.array_equal(rounded, d):
        raise ValueError(f"{instance.name}: the integer peers need integral distances")
    return rounded.astype(np.int64)


def _ortools(instance, seconds: float, seed: int):
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    d = _int_matrix(instance)
    manager = pywrapcp.RoutingIndexManager(instance.n, 1, 0)
    routing = pywrapcp.RoutingModel(manager)
    transit = routing.RegisterTransitMatrix(d.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(transit)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    params.time_limit.FromMilliseconds(round(1000 * seconds))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        raise RuntimeError("OR-Tools found no solution")
    tour, index = [], routing.Start(0)
    while not routing.IsEnd(index):
        tour.append(manager.IndexToNode(index))
        index = solution.Value(routing.NextVar(index))
    return np.array(tour), {"seed_used": False}


def _fast_tsp(instance, seconds: float, seed: int):
    import fast_tsp

    tour = fast_tsp.find_tour(_int_matrix(instance).tolist(), duration_seconds=seconds)
    return np.array(tour), {"seed_used": False}


def _elkai(instance, seconds: float, seed: int, runs: int = 10):
    import elkai

    tour = elkai.DistanceMatrix(_int_matrix(instance).tolist()).solve_tsp(runs=runs)
    # elkai returns the closed tour (the start city repeated at the end).
    tour = tour[:-1] if len(tour) == instance.n + 1 else tour
    return np.array(tour), {"seed_used": False, "runs": runs,
                            "licence": "non-commercial (LKH)"}


def _python_tsp(instance, seconds: float, seed: int):
    from python_tsp.heuristics import solve_tsp_simulated_annealing

    np.random.seed(seed)  # noqa: NPY002 - python-tsp draws from numpy's global generator
    tour, _ = solve_tsp_simulated_annealing(instance.distances, max_processing_time=seconds)
    return np.array(tour), {"seed_used": True}


_WRAPPERS = {"ortools": _ortools, "fast-tsp": _fast_tsp, "elkai": _elkai,
             "python-tsp": _python_tsp}


def run_peer(peer: str, instance, seconds: float, seed: int, **options):
    """Run one peer on ``instance``; return ``(tour, extra)`` (see the module docstring)."""
    return _WRAPPERS[peer](instance, seconds, seed, **options)
