"""Build :class:`~combopt.tsp.tsplib.TSPInstance` objects from any supported source.

A source is a TSPLIB file, the name of a published TSPLIB instance (looked up
in ``$COMBOPT_DATA/tsplib``), a distance matrix (array or ``.npy`` / text
file) or a networkx graph. Published optima and optimal tours come from the
same data folder, found only through the ``COMBOPT_DATA`` environment variable.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import networkx as nx
import numpy as np

from combopt.tsp.tsplib import TSPInstance, read_tour, read_tsplib

__all__ = [
    "best_known",
    "from_matrix",
    "from_networkx",
    "load_instance",
    "optimal_tour",
    "tsplib_dir",
    "tsplib_names",
]


def from_matrix(distances, name: str = "matrix", coordinates=None) -> TSPInstance:
    """Wrap a square distance matrix as a TSP instance.

    Parameters
    ----------
    distances : array_like, shape (n, n)
        Finite costs; ``distances[i, j]`` is the cost of the step i -> j.
    name : str
    coordinates : array_like, shape (n, 2), optional
        For plotting.

    Examples
    --------
    >>> from_matrix([[0, 3, 4], [3, 0, 5], [4, 5, 0]]).tour_length([0, 1, 2])
    12.0
    """
    return TSPInstance(name=name, distances=np.asarray(distances, dtype=np.float64),
                       coordinates=coordinates, edge_weight_type="MATRIX")


def from_networkx(graph: nx.Graph, weight: str = "weight", name: str | None = None) -> TSPInstance:
    """Wrap a complete weighted networkx graph as a TSP instance.

    City ``i`` is the ``i``-th node of ``graph.nodes``. A ``pos`` node attribute
    (as networkx layouts use), when every node has one, becomes the coordinates.

    Parameters
    ----------
    graph : networkx.Graph or networkx.DiGraph
        Complete: every ordered pair of distinct nodes joined by an edge.
    weight : str
        Edge attribute holding the cost.
    name : str, optional
        Defaults to ``graph.name`` or ``"graph"``.

    Raises
    ------
    ValueError
        A missing edge or a missing weight.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.complete_graph(3)
    >>> nx.set_edge_attributes(g, {(0, 1): 3, (0, 2): 4, (1, 2): 5}, "weight")
    >>> from_networkx(g).tour_length([0, 1, 2])
    12.0
    """
    nodes = list(graph.nodes)
    index = {v: i for i, v in enumerate(nodes)}
    n = len(nodes)
    d = np.full((n, n), np.nan)
    np.fill_diagonal(d, 0.0)
    for u, v, data in graph.edges(data=True):
        if u == v:
            continue
        if weight not in data:
            raise ValueError(f"edge ({u!r}, {v!r}) has no {weight!r} attribute")
        d[index[u], index[v]] = data[weight]
        if not graph.is_directed():
            d[index[v], index[u]] = data[weight]
    missing = np.argwhere(np.isnan(d))
    if missing.size:
        u, v = missing[0]
        raise ValueError(f"the graph is not complete: no edge ({nodes[u]!r}, {nodes[v]!r})")
    pos = nx.get_node_attributes(graph, "pos")
    coords = np.array([pos[v] for v in nodes], dtype=np.float64) if len(pos) == n else None
    return TSPInstance(name=name or graph.name or "graph", distances=d,
                       coordinates=coords, edge_weight_type="GRAPH")


def tsplib_dir() -> Path | None:
    """``$COMBOPT_DATA/tsplib`` if the variable is set and the folder exists."""
    root = os.environ.get("COMBOPT_DATA")
    if not root:
        return None
    folder = Path(root) / "tsplib"
    return folder if folder.is_dir() else None


def tsplib_names(max_n: int | None = None) -> list[str]:
    """Names of the published instances with ``n <= max_n``, in ``best_known.csv`` order.

    Returns an empty list when ``COMBOPT_DATA`` is unset.
    """
    folder = tsplib_dir()
    if folder is None:
        return []
    with open(folder / "best_known.csv", newline="") as fh:
        return [row["instance"] for row in csv.DictReader(fh)
                if max_n is None or int(row["n"]) <= max_n]


def best_known(name: str) -> float | None:
    """The published optimum of a TSPLIB instance, or ``None`` when not known.

    Examples
    --------
    >>> best_known("no-such-instance") is None
    True
    """
    folder = tsplib_dir()
    if folder is None:
        return None
    with open(folder / "best_known.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["instance"] == name:
                if row["sense"] != "min":
                    raise ValueError(f"{name}: expected a minimisation optimum")
                return float(row["best_known"])
    return None


def optimal_tour(name: str) -> np.ndarray | None:
    """The published optimal tour (0-based) of a TSPLIB instance, or ``None``."""
    folder = tsplib_dir()
    path = folder / f"{name}.opt.tour" if folder is not None else None
    if path is None or not path.is_file():
        return None
    return read_tour(path)


def _read_matrix_file(path: Path) -> np.ndarray:
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    delimiter = "," if path.suffix == ".csv" else None
    try:
        return np.loadtxt(path, delimiter=delimiter, ndmin=2)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise ValueError(f"{path.name}: not a numeric matrix ({first})") from None


def load_instance(source) -> TSPInstance:
    """Turn any supported source into a :class:`TSPInstance`.

    Parameters
    ----------
    source : TSPInstance, networkx.Graph, array_like, str or os.PathLike
        A string or path is a ``.tsp`` file, a ``.npy`` / ``.txt`` / ``.csv``
        distance matrix, or the bare name of a published instance
        (``"berlin52"``) looked up in ``$COMBOPT_DATA/tsplib``.

    Raises
    ------
    ValueError
        Unknown name or malformed input.
    OSError
        A file cannot be read.

    Examples
    --------
    >>> load_instance([[0, 1], [1, 0]]).n
    2
    """
    if isinstance(source, TSPInstance):
        return source
    if isinstance(source, nx.Graph):
        return from_networkx(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_file():
            if path.suffix in (".npy", ".txt", ".csv"):
                return from_matrix(_read_matrix_file(path), name=path.stem)
            return read_tsplib(path)
        folder = tsplib_dir()
        if folder is not None and (folder / f"{source}.tsp").is_file():
            return read_tsplib(folder / f"{source}.tsp")
        hint = "" if folder is not None else " (set COMBOPT_DATA to use published names)"
        raise ValueError(f"{source!s}: no such file or published TSPLIB instance{hint}")
    return from_matrix(source)
