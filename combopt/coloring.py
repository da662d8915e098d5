"""Graph colouring through the engine's categorical kind (TabuCol-like, no one-hot encoding).

Colouring a graph with ``k`` colours is the categorical problem "each vertex
takes one of ``k`` cases, minimise the edges whose ends agree": a
:class:`~combopt.objectives.CategoricalObjective` whose coupling block is the
identity on every edge. Tabu search over it is TabuCol (Hertz & de Werra
1987) with a per-vertex tenure; :func:`tabucol` gives the parameters
measured best here (a longer tenure, no restarts: see docs/finite_domain.md).
:func:`color_graph` starts from a DSATUR colouring; with no ``k`` it searches
downwards from DSATUR's count, keeping the smallest ``k`` coloured without
conflict within the time budget.

Max-k-cut is the same objective with a weight per edge: :func:`max_k_cut`
minimises the weight of the edges inside a part, so the cut is the total
weight minus the energy.

Instances are ``.col`` files (:func:`combopt.io.dimacs.read_col`) or names of
the published graphs in ``$COMBOPT_DATA/coloring`` (best-known colour counts
in its ``best_known.csv``).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from combopt.instances import data_dir
from combopt.io.dimacs import ColGraph, read_col
from combopt.objectives import CategoricalObjective
from combopt.solver import solve
from combopt.strategies import Tabu

__all__ = [
    "ColoringResult", "best_known_colors", "color_graph", "coloring_objective", "conflicts",
    "dsatur", "load_graph", "max_k_cut", "tabucol",
]

#: Tenure of :func:`tabucol` on large graphs.
TABUCOL_TENURE = 40


def tabucol(num_vertices: int) -> Tabu:
    """Tabu search tuned for colouring: tenure ``min(40, n // 4)``, no restarts.

    On the Leighton graphs the generic defaults (tenure ``min(20, n // 4)``,
    a 10% random restart after ``max(500, 5 n)`` moves without a new best)
    keep losing the progress a long walk through low-conflict colourings
    makes; with these, le450_5a, le450_5b and le450_15b are coloured at their
    best-known k within 10 s (docs/finite_domain.md).

    Examples
    --------
    >>> strategy = tabucol(450)
    >>> strategy.tenure, strategy.restart_after
    (40, 0)
    """
    return Tabu(tenure=max(1, min(TABUCOL_TENURE, num_vertices // 4)), restart_after=0)



def coloring_objective(num_vertices: int, edges, k: int, weights=None) -> CategoricalObjective:
    """The number (or weight) of conflicting edges of a ``k``-colouring, as an objective.

    Parameters
    ----------
    num_vertices : int
    edges : array_like of int, shape (E, 2)
        Distinct edges ``(u, v)``, vertices ``0..num_vertices-1``, ``u != v``.
    k : int
        Number of colours, at least 1.
    weights : array_like, shape (E,), optional
        The cost of each edge whose ends share a colour (1 by default).

    Examples
    --------
    >>> obj = coloring_objective(3, [[0, 1], [1, 2], [0, 2]], 2)
    >>> float(obj.energy([0, 1, 0])), float(obj.energy([0, 0, 0]))
    (1.0, 3.0)
    """
    if k < 1:
        raise ValueError(f"the number of colours must be at least 1, got {k}")
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    colour = np.arange(k, dtype=np.int64)
    rows = (edges[:, :1] * k + colour).ravel()
    cols = (edges[:, 1:] * k + colour).ravel()
    w = np.ones(edges.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (edges.shape[0],):
        raise ValueError(f"weights must have one entry per edge, shape ({edges.shape[0]},)")
    data = np.repeat(w, k)
    return CategoricalObjective(np.full(num_vertices, k), None, (rows, cols, data))


def conflicts(edges, colours) -> int:
    """Edges whose two ends have the same colour.

    Examples
    --------
    >>> conflicts([[0, 1], [1, 2]], [0, 0, 1])
    1
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    colours = np.asarray(colours)
    return int(np.count_nonzero(colours[edges[:, 0]] == colours[edges[:, 1]]))


def _adjacency(num_vertices: int, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR ``(indptr, neighbours)`` of the undirected graph."""
    both = np.concatenate([edges, edges[:, ::-1]])
    order = np.lexsort((both[:, 1], both[:, 0]))
    indptr = np.zeros(num_vertices + 1, dtype=np.int64)
    np.cumsum(np.bincount(both[:, 0], minlength=num_vertices), out=indptr[1:])
    return indptr, both[order, 1]


def dsatur(num_vertices: int, edges) -> np.ndarray:
    """Brélaz's DSATUR greedy colouring: colours ``0..k0-1``, no conflict.

    The next vertex is the uncoloured one seeing the most distinct colours
    (ties: highest degree, then lowest index); it takes the smallest colour
    none of its neighbours has.

    Examples
    --------
    >>> dsatur(4, [[0, 1], [1, 2], [2, 3], [3, 0]]).tolist()
    [0, 1, 0, 1]
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    indptr, neighbours = _adjacency(num_vertices, edges)
    degree = np.diff(indptr)
    colours = np.full(num_vertices, -1, dtype=np.int64)
    seen = np.zeros((num_vertices, int(degree.max(initial=0)) + 1), dtype=bool)
    saturation = np.zeros(num_vertices, dtype=np.int64)
    # Saturation first, then degree; coloured vertices drop out at -1.
    priority = saturation * (num_vertices + 1) + degree
    for _ in range(num_vertices):
        v = int(np.argmax(priority))
        c = int(np.argmin(seen[v]))  # the first colour no neighbour has
        colours[v] = c
        priority[v] = -1
        near = neighbours[indptr[v]:indptr[v + 1]]
        new = near[~seen[near, c]]
        seen[new, c] = True
        open_ = new[colours[new] < 0]
        priority[open_] += num_vertices + 1
    return colours


def _fold(colours: np.ndarray, k: int, indptr, neighbours, rng) -> np.ndarray:
    """A ``k``-colouring from a larger one: each vertex of a colour ``>= k`` moves,
    in random order, to the colour fewest of its neighbours now have."""
    folded = colours.copy()
    for v in rng.permutation(np.flatnonzero(folded >= k)):
        near = folded[neighbours[indptr[v]:indptr[v + 1]]]
        folded[v] = int(np.argmin(np.bincount(near[near < k], minlength=k)))
    return folded


class ColoringResult(NamedTuple):
    """What :func:`color_graph` found."""

    instance: str
    n: int
    edges: int
    colors: int  #: the number of colours of the reported colouring
    conflicts: int
    coloring: np.ndarray  #: colour ``0..colors-1`` of each vertex ``0..n-1``
    seconds: float  #: wall time of the whole call (Numba compilation included)
    #: When the reported colouring was found, if conflict-free (Numba compilation excluded).
    first_valid_seconds: float | None
    seed: int
    strategy: str
    dsatur_colors: int
    best_known: int | None

    @property
    def valid(self) -> bool:
        """True when no edge joins two vertices of one colour."""
        return self.conflicts == 0

    def to_record(self) -> dict:
        """One JSON-ready record; vertices and colours 1-based, as in the file."""
        return {
            "instance": self.instance, "n": self.n, "edges": self.edges, "colors": self.colors,
            "conflicts": self.conflicts, "valid": self.valid, "seconds": round(self.seconds, 4),
            "first_valid_seconds": None if self.first_valid_seconds is None
            else round(self.first_valid_seconds, 4),
            "seed": self.seed, "strategy": self.strategy, "dsatur_colors": self.dsatur_colors,
            "best_known": self.best_known,
            "coloring": {str(v + 1): int(c) + 1 for v, c in enumerate(self.coloring)},
        }


def best_known_colors(name: str) -> int | None:
    """The best-known colour count of a published graph, from ``best_known.csv`` (else None)."""
    path = data_dir() / "coloring" / "best_known.csv"
    if not path.is_file():
        return None
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["instance"] == name:
                return int(row["best_known"])
    return None


def load_graph(source: str) -> ColGraph:
    """A ``.col`` file, or the name of a graph in ``$COMBOPT_DATA/coloring`` (``queen8_8``)."""
    path = Path(source)
    if not path.is_file():
        published = data_dir() / "coloring" / f"{source}.col"
        if not published.is_file():
            raise OSError(f"no file {source!r} and no published graph {published}")
        path = published
    return read_col(path)


def color_graph(
    graph: ColGraph, colors: int | None = None, *, time_limit: float = 10.0, seed: int = 0,
    strategy="tabucol",
) -> ColoringResult:
    """Colour ``graph`` with ``colors`` colours, or with as few as the budget finds.

    Parameters
    ----------
    graph : ColGraph
    colors : int, optional
        Colour with exactly this many colours, minimising the conflicts. When
        omitted: DSATUR's count ``k0``, then ``k0 - 1``, ``k0 - 2``, ... while
        each is coloured without conflict within what is left of the budget.
    time_limit : float
        Seconds for the whole search.
    seed : int
    strategy : str or strategy instance
        ``"tabucol"`` (the default, :func:`tabucol`), or as for
        :func:`combopt.solve` (``"auto"``: generic tabu while a move scans at
        most 20,000 (vertex, colour) pairs, heat-bath annealing above).

    Returns
    -------
    ColoringResult

    Examples
    --------
    >>> g = ColGraph("C5", 5, np.array([[0, 1], [1, 2], [2, 3], [3, 4], [0, 4]]))
    >>> r = color_graph(g, time_limit=0.5, seed=1)
    >>> r.colors, r.conflicts
    (3, 0)
    """
    t0 = time.perf_counter()
    n, edges = graph.num_vertices, graph.edges
    greedy = dsatur(n, edges)
    k0 = int(greedy.max(initial=0)) + 1
    indptr, neighbours = _adjacency(n, edges)
    rng = np.random.default_rng(seed)
    label = None
    if isinstance(strategy, str) and strategy == "tabucol":
        strategy, label = tabucol(n), "tabucol"
    best, best_at, used = greedy, time.perf_counter() - t0, "dsatur"
    compiling = 0.0  # Numba compilation (or cache loads) so far, kept out of best_at
    k = k0 - 1 if colors is None else colors
    while k >= 1:
        left = time_limit - (time.perf_counter() - t0)
        if left <= 0:
            break
        start = time.perf_counter() - t0
        result = solve(
            coloring_objective(n, edges, k), strategy=strategy, seed=seed, time_limit=left,
            target_energy=0.0, initial=_fold(best, k, indptr, neighbours, rng),
        )
        used = label or result.strategy
        found = result.x.astype(np.int64)
        if colors is not None or result.energy == 0:
            best = found
            best_at = start - compiling + result.timing["preprocess"] + (
                result.best_trace[-1][0] if result.energy == 0 else 0.0)
        compiling += result.timing["compile"]
        if colors is not None or result.energy > 0:
            break
        k -= 1
    bad = conflicts(edges, best)
    return ColoringResult(
        instance=graph.name, n=n, edges=int(edges.shape[0]),
        colors=int(colors if colors is not None else best.max(initial=0) + 1),
        conflicts=bad, coloring=best, seconds=time.perf_counter() - t0,
        first_valid_seconds=best_at if bad == 0 else None, seed=int(seed), strategy=used,
        dsatur_colors=k0, best_known=best_known_colors(graph.name),
    )


def max_k_cut(
    num_vertices: int, edges, weights, k: int, *, time_limit: float = 1.0, seed: int = 0,
    strategy="auto", num_reads: int = 1,
) -> tuple[float, np.ndarray]:
    """Max-k-cut: split the vertices into ``k`` parts maximising the weight between parts.

    Parameters
    ----------
    num_vertices : int
    edges : array_like of int, shape (E, 2)
    weights : array_like, shape (E,)
    k : int
    time_limit : float
    seed : int
    strategy : str or strategy instance
        As for :func:`combopt.solve`.
    num_reads : int

    Returns
    -------
    cut : float
        The weight of the edges between parts of the best assignment.
    parts : ndarray of int64, shape (n,)
        The part ``0..k-1`` of each vertex.

    Examples
    --------
    >>> cut, parts = max_k_cut(3, [[0, 1], [1, 2], [0, 2]], [1.0, 2.0, 3.0], 2, time_limit=0.2)
    >>> cut
    5.0
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    weights = np.asarray(weights, dtype=np.float64)
    objective = coloring_objective(num_vertices, edges, k, weights)
    result = solve(objective, strategy=strategy, seed=seed, time_limit=time_limit,
                   num_reads=num_reads)
    parts = result.x.astype(np.int64)
    inside = parts[edges[:, 0]] == parts[edges[:, 1]]
    return float(weights[~inside].sum()), parts
