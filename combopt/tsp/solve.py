"""Solve a TSP instance through :func:`combopt.solve` in one of three encodings.

* ``encoding="successor"`` (the default for symmetric instances):
  :class:`~combopt.objectives.SuccessorTourObjective`, variable a = the city
  after a, moves 2-opt and Or-opt over candidate lists, run by the ``ils``
  strategy (``auto`` picks it); coordinate instances above
  :data:`~combopt.tsp.tsplib.LAZY_MATRIX_N` cities compute their distances on
  the fly;
* ``encoding="permutation"``: :class:`~combopt.objectives.TourObjective`,
  variable i = city at position i, coordinate moves carried out as swaps;
* ``encoding="qubo"``: the position one-hot QUBO of :mod:`combopt.tsp.qubo`
  over binary variables, samples decoded (and repaired) into tours.

Optionally (``refine=True``) every read's tour is then improved by 2-opt and
Or-opt moves (:func:`refine_tour`) and the shortest is returned. This post-processing is *not*
the engine: results keep the engine's own length (``engine_length``) next to
the final one so the two are always reported separately.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from combopt.domain import Domain
from combopt.objectives import SuccessorTourObjective, TourObjective
from combopt.solver import SolveResult, solve
from combopt.strategies import Annealing, Tabu, resolve_strategy
from combopt.tsp.exact import held_karp
from combopt.tsp.qubo import build_qubo, decode
from combopt.tsp.sources import best_known, load_instance, tsplib_dir
from combopt.tsp.tsplib import TSPInstance, check_tour, read_tsplib

__all__ = [
    "ENCODINGS",
    "TSPResult",
    "default_strategy",
    "reference_optimum",
    "refine_tour",
    "solve_tsp",
    "successor_objective",
]

ENCODINGS = ("successor", "permutation", "qubo")
_DEFAULT_STRATEGY = {"successor": "auto", "permutation": "anneal", "qubo": "tabu"}

# Held-Karp below this size takes milliseconds, so an unnamed small instance
# still gets an exact gap.
_EXACT_REFERENCE_MAX_N = 12


def _tour_beta_range(distances: np.ndarray) -> tuple[float, float] | None:
    """Inverse temperatures from the instance's own distance scale.

    Hot end: an uphill swap of twice the mean nearest-neighbour distance is
    accepted half the time; cold end: one of the smallest positive distance
    1% of the time. The engine's default hot end comes from the largest
    swap delta, far hotter than any tour worth keeping; measured on TSPLIB
    (``docs/tsp.md``) this range gives shorter tours at the same budget.
    ``None`` (the engine's default) when the scale is degenerate.
    """
    off = distances[~np.eye(distances.shape[0], dtype=bool)].reshape(distances.shape[0], -1)
    nearest = float(np.abs(off).min(axis=1).mean())
    positive = np.abs(off)[np.abs(off) > 0]
    if nearest <= 0 or positive.size == 0:
        return None
    hot = float(np.log(2.0) / (2.0 * nearest))
    cold = float(np.log(100.0) / positive.min())
    return (hot, cold) if hot <= cold else None


def default_strategy(encoding: str, name: str = "anneal", distances: np.ndarray | None = None):
    """The strategy :func:`solve_tsp` uses for a strategy name.

    For the permutation encoding:

    * ``"anneal"``: temperatures from the instance's distance scale
      (:func:`_tour_beta_range`, given ``distances``), cycles of 2000
      iterations; with a ``time_limit`` the engine instead stretches one
      cycle over the whole budget.
    * ``"tabu"`` restarts from the best tour *without* the random
      perturbation, because the engine perturbs by writing values directly,
      which would break the permutation (see ``docs/tsp.md``).

    Other names and the QUBO encoding use the engine's defaults.

    Examples
    --------
    >>> default_strategy("permutation", "anneal", np.array([[0.0, 2.0], [2.0, 0.0]])).beta_range
    (0.173, 2.303)
    """
    if encoding == "permutation" and name == "anneal":
        beta_range = None if distances is None else _tour_beta_range(distances)
        return Annealing(beta_range=beta_range, num_sweeps=2000)
    if encoding == "permutation" and name == "tabu":
        return Tabu(perturbation=0.0)
    return resolve_strategy(name)


@dataclass(frozen=True, eq=False)
class TSPResult:
    """The outcome of :func:`solve_tsp`.

    Attributes
    ----------
    instance : TSPInstance
    encoding : str
    tour : numpy.ndarray, shape (n,), int64
        The returned tour (after refinement when ``refined``).
    length : float
        Its length.
    engine_length : float
        Length of the engine's best tour, before any refinement.
    optimum : float or None
        Reference optimum (published, or Held-Karp for small instances).
    valid : bool
        ``tour`` visits every city exactly once (checked, never assumed).
    feasible_reads : int
        Reads whose sample was a valid tour before repair (QUBO); every read
        for the successor and permutation encodings.
    num_reads : int
    seconds : float
        Wall time of the whole call (encoding, search, decoding, refinement);
        ``timing["total"]``.
    refined : bool
    lagrange : float or None
        The QUBO penalty weight applied (``None`` for the other encodings).
    solve_result : SolveResult
        The engine's raw result (energies, trace, timing, seed).
    timing : dict
        Seconds in ``read`` (loading the instance), ``compile``, ``search``
        (the engine's search), ``refine`` and ``total`` (wall time of the call).
    """

    instance: TSPInstance
    encoding: str
    tour: np.ndarray
    length: float
    engine_length: float
    optimum: float | None
    valid: bool
    feasible_reads: int
    num_reads: int
    seconds: float
    refined: bool
    lagrange: float | None
    solve_result: SolveResult
    timing: dict

    @property
    def gap_percent(self) -> float | None:
        """``100 (length - optimum) / optimum``, or ``None`` without an optimum."""
        return _gap(self.length, self.optimum)

    @property
    def engine_gap_percent(self) -> float | None:
        """The gap of :attr:`engine_length`."""
        return _gap(self.engine_length, self.optimum)

    def to_record(self) -> dict:
        """A JSON-ready dict (the ``combopt tsp --json`` record).

        ``tour`` lists TSPLIB city ids, which are **1-based** (``self.tour + 1``),
        as the text output and ``.tour`` files do; ``seconds`` is the engine's
        search time, ``timing`` the breakdown of :attr:`timing`.
        """
        return {
            "instance": self.instance.name,
            "n": self.instance.n,
            "encoding": self.encoding,
            "strategy": self.solve_result.strategy,
            "length": self.length,
            "optimum": self.optimum,
            "gap_percent": self.gap_percent,
            "valid": self.valid,
            "feasible_reads": self.feasible_reads,
            "num_reads": self.num_reads,
            "seconds": self.timing["search"],
            "timing": dict(self.timing),
            "engine_length": self.engine_length,
            "engine_gap_percent": self.engine_gap_percent,
            "refined": self.refined,
            "lagrange": self.lagrange,
            "seed": self.solve_result.seed,
            "tour": [int(c) + 1 for c in self.tour],
        }


def _gap(length: float, optimum: float | None) -> float | None:
    if optimum is None or optimum <= 0:
        return None
    return 100.0 * (length - optimum) / optimum


def reference_optimum(instance: TSPInstance) -> float | None:
    """The optimum to measure gaps against, or ``None`` when none is known.

    The published value when ``$COMBOPT_DATA/tsplib`` holds an instance of the
    same name *and the same distances*; else Held-Karp for ``n <= 12``.
    """
    folder = tsplib_dir()
    path = folder / f"{instance.name}.tsp" if folder is not None else None
    if path is not None and path.is_file():
        published = read_tsplib(path)
        if _same_distances(published, instance):
            return best_known(instance.name)
    if instance.n <= _EXACT_REFERENCE_MAX_N:
        return held_karp(instance)[1]
    return None


def _same_distances(a: TSPInstance, b: TSPInstance) -> bool:
    """Whether two instances define the same distances (without computing lazy matrices)."""
    if a.n != b.n:
        return False
    if not (a.has_matrix and b.has_matrix) and a.node_coordinates is not None \
            and b.node_coordinates is not None:
        return a.edge_weight_type == b.edge_weight_type and np.array_equal(
            a.node_coordinates, b.node_coordinates)
    return np.array_equal(a.distances, b.distances)


def successor_objective(instance: TSPInstance, candidates="auto", k: int = 10):
    """The :class:`~combopt.objectives.SuccessorTourObjective` of a symmetric instance.

    From the matrix when the instance holds one, else (a large coordinate
    instance) from the coordinates, distances computed on the fly.

    Examples
    --------
    >>> from combopt.tsp.sources import from_matrix
    >>> obj = successor_objective(from_matrix([[0, 1, 2], [1, 0, 1], [2, 1, 0]]))
    >>> obj.metric, obj.candidates.shape
    ('MATRIX', (3, 2))
    """
    if not instance.symmetric:
        raise ValueError("the successor encoding needs symmetric distances; "
                         "use encoding='permutation'")
    if instance.has_matrix or instance.node_coordinates is None:
        return SuccessorTourObjective(instance.distances, candidates=candidates, k=k)
    return SuccessorTourObjective(coordinates=instance.node_coordinates,
                                  metric=instance.edge_weight_type, candidates=candidates, k=k)


def refine_tour(instance: TSPInstance, tour) -> np.ndarray:
    """Post-process a tour with 2-opt and Or-opt moves until neither improves it.

    Parameters
    ----------
    instance : TSPInstance
        Symmetric distances (2-opt reverses segments).
    tour : array_like of int, shape (n,)

    Returns
    -------
    numpy.ndarray, shape (n,), int64
        A tour no longer than ``tour``.

    Examples
    --------
    >>> from combopt.tsp.sources import from_matrix
    >>> square = from_matrix([[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]])
    >>> refine_tour(square, [0, 2, 1, 3]).tolist()
    [0, 1, 2, 3]
    """
    if not instance.symmetric:
        raise ValueError("2-opt refinement needs symmetric distances")
    return TourObjective(instance.distances).refine(check_tour(tour, instance.n))


def solve_tsp(source, encoding: str | None = None, strategy=None, *,
              time_limit: float | None = None, max_iterations: int | None = None,
              num_reads: int | None = None, seed: int | None = None, lagrange: float | None = None,
              refine: bool = False, optimum: float | None = None,
              callback=None) -> TSPResult:
    """Find a short tour with the engine in the chosen encoding.

    Parameters
    ----------
    source : TSPInstance, str, path, array_like or networkx.Graph
        Anything :func:`~combopt.tsp.sources.load_instance` accepts.
    encoding : {"successor", "permutation", "qubo"}, optional
        Default: ``"successor"`` for symmetric distances (with at least 3
        cities), ``"permutation"`` otherwise.
    strategy : {"auto", "paper", "anneal", "metropolis", "tabu", "ils"} or a strategy, optional
        Names go through :func:`default_strategy`. Default: ``"auto"`` (which
        runs ``"ils"``) for the successor encoding, ``"anneal"`` for the
        permutation encoding, ``"tabu"`` for the QUBO (measured best on
        each; the QUBO's one-hot penalties leave annealing at the default
        temperatures far from short tours).
    time_limit : float, optional
        Seconds of engine search (compile time excluded). With neither this
        nor ``max_iterations`` the strategy's default length is used.
    max_iterations : int, optional
    num_reads : int, optional
        Independent reads (run in parallel; the best is returned). Default:
        1 for the successor encoding, whose iterated local search gains more
        from one read's whole budget than from restarts (and which then runs
        on one core, as the single-threaded routing peers do), 4 otherwise.
    seed : int, optional
    lagrange : float, optional
        QUBO penalty weight (default: dimod's); ignored for permutations.
    refine : bool
        Post-process every read's tour by 2-opt / Or-opt and return the
        shortest; the engine's own best stays in ``engine_length``.
    optimum : float, optional
        Reference optimum for the gap; default :func:`reference_optimum`.
    callback : callable, optional
        The engine's progress hook (see :func:`combopt.solve`).

    Returns
    -------
    TSPResult

    Examples
    --------
    >>> res = solve_tsp([[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]],
    ...                 max_iterations=50, seed=3)
    >>> res.length, res.gap_percent, res.valid
    (4.0, 0.0, True)
    """
    t0 = time.perf_counter()
    if encoding is not None and encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
    instance = load_instance(source)
    read = time.perf_counter() - t0
    if encoding is None:
        encoding = "successor" if instance.symmetric and instance.n >= 3 else "permutation"
    if num_reads is None:
        num_reads = 1 if encoding == "successor" else 4
    if strategy is None:
        strategy = _DEFAULT_STRATEGY[encoding]
    if isinstance(strategy, str):
        distances = instance.distances if encoding == "permutation" else None
        strategy = default_strategy(encoding, strategy, distances)
    common = {"strategy": strategy, "num_reads": num_reads, "seed": seed,
              "time_limit": time_limit, "max_iterations": max_iterations, "callback": callback}
    if encoding == "successor":
        objective = successor_objective(instance)
        result = solve(objective, **common)
        tours = np.array([objective.tour(x) for x in result.samples])
        lengths = result.energies
        feasible = num_reads
        applied = None
    elif encoding == "permutation":
        result = solve(TourObjective(instance.distances), **common)
        tours = result.samples.astype(np.int64)
        lengths = result.energies
        feasible = num_reads
        applied = None
    else:
        qubo = build_qubo(instance, lagrange)
        result = solve(qubo.to_objective(), Domain.binary(), **common)
        decoded = decode(result.samples.astype(np.int8), instance)
        tours, lengths, feasible = decoded.tours, decoded.lengths, decoded.feasible_reads
        applied = qubo.lagrange
    best = int(np.argmin(lengths))
    tour = tours[best].copy()
    engine_length = instance.tour_length(tour)
    t_refine = time.perf_counter()
    if refine:
        # Every read's tour is refined: a worse engine tour may refine better.
        refined = [refine_tour(instance, t) for t in tours]
        tour = min(refined, key=instance.tour_length)
    try:
        check_tour(tour, instance.n)
        valid = True
    except ValueError:
        valid = False
    refine_seconds = time.perf_counter() - t_refine
    if optimum is None:
        optimum = reference_optimum(instance)
    total = time.perf_counter() - t0
    timing = {"read": read, "compile": float(result.timing["compile"]),
              "search": float(result.timing["solve"]), "refine": refine_seconds, "total": total}
    return TSPResult(
        instance=instance, encoding=encoding, tour=tour, length=instance.tour_length(tour),
        engine_length=engine_length, optimum=optimum, valid=valid, feasible_reads=int(feasible),
        num_reads=num_reads, seconds=total, refined=refine,
        lagrange=applied, solve_result=result, timing=timing,
    )
