"""The position one-hot QUBO of a TSP instance, and the decoder that repairs samples.

Variable ``(c, p)`` is 1 when city ``c`` is visited at position ``p``; there are
n^2 binary variables, labelled and built exactly as
:func:`dimod.generators.traveling_salesperson` builds them, so the engine and
the dimod samplers see the same model. dimod writes each one-hot constraint
as ``lagrange * ((sum x - 1)^2 - 1)``, dropping ``2 n lagrange`` in all; this
module adds it back, so a valid tour's energy equals its length.

Repair rule (:func:`decode`), applied to every sample:

1. read the sample as the n x n matrix ``X[c, p]``; it is *feasible* when
   ``X`` is a permutation matrix (counted before any repair);
2. walk the positions in order; at position ``p`` keep the lowest-numbered
   city ``c`` with ``X[c, p] = 1`` that no earlier position kept (positions
   with none keep nothing); the kept cities, in position order, form a
   partial tour;
3. insert each city that was not kept, in increasing city order, where it
   lengthens the partial tour least (cheapest insertion).

The result is always a valid tour, and a feasible sample decodes to exactly
the tour it encodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import dimod
import networkx as nx
import numpy as np

from combopt.objectives import QuadraticObjective
from combopt.tsp.sources import load_instance
from combopt.tsp.tsplib import TSPInstance

__all__ = ["Decoded", "TSPQubo", "build_qubo", "decode", "default_lagrange", "encode_tour"]


def _graph(instance: TSPInstance) -> nx.Graph:
    """The complete graph dimod's generator expects (directed when d is asymmetric)."""
    d = instance.distances
    graph = nx.Graph() if instance.symmetric else nx.DiGraph()
    graph.add_nodes_from(range(instance.n))
    graph.add_weighted_edges_from(
        (u, v, d[u, v]) for u in range(instance.n) for v in range(instance.n) if u != v
    )
    return graph


def default_lagrange(instance: TSPInstance) -> float:
    """dimod's default penalty weight: the mean edge weight times n (a typical tour length).

    Examples
    --------
    >>> from combopt.tsp.sources import from_matrix
    >>> default_lagrange(from_matrix([[0, 3, 4], [3, 0, 5], [4, 5, 0]]))
    12.0
    """
    graph = _graph(instance)
    return float(graph.size(weight="weight") * graph.number_of_nodes() / graph.number_of_edges())


@dataclass(frozen=True, eq=False)
class TSPQubo:
    """A TSP instance's one-hot QUBO, with the applied penalty weight.

    Attributes
    ----------
    instance : TSPInstance
    bqm : dimod.BinaryQuadraticModel
        Variables ``(city, position)``; offset restored (valid tour -> length).
    lagrange : float
        The penalty weight applied to each one-hot constraint.
    variables : list of tuple
        The variable order used by :meth:`matrices` and :func:`decode`:
        ``(c, p)`` at index ``c * n + p``.
    """

    instance: TSPInstance
    bqm: dimod.BinaryQuadraticModel
    lagrange: float
    variables: list

    def matrices(self) -> tuple[np.ndarray, np.ndarray, float]:
        """The QUBO as ``(Q, c, offset)`` with ``f(x) = x^T Q x + c^T x + offset``.

        Returns
        -------
        Q : numpy.ndarray, shape (n^2, n^2), float64
            Strictly upper-triangular couplings in :attr:`variables` order.
        c : numpy.ndarray, shape (n^2,), float64
        offset : float
        """
        linear, (row, col, quad), offset = self.bqm.to_numpy_vectors(self.variables)
        size = len(self.variables)
        q = np.zeros((size, size))
        lo, hi = np.minimum(row, col), np.maximum(row, col)
        np.add.at(q, (lo, hi), quad)
        return q, np.asarray(linear, dtype=np.float64), float(offset)

    def to_objective(self):
        """The QUBO as a :class:`combopt.objectives.QuadraticObjective` over binary variables."""
        q, c, offset = self.matrices()
        return QuadraticObjective(q, linear=c, offset=offset)


def build_qubo(source, lagrange: float | None = None) -> TSPQubo:
    """Encode a TSP instance as the position one-hot QUBO.

    Parameters
    ----------
    source : TSPInstance, array_like, networkx.Graph, str
        Anything :func:`~combopt.tsp.sources.load_instance` accepts (n >= 3).
    lagrange : float, optional
        Penalty weight; default :func:`default_lagrange` (dimod's default).

    Returns
    -------
    TSPQubo

    Examples
    --------
    >>> q = build_qubo([[0, 3, 4], [3, 0, 5], [4, 5, 0]])
    >>> q.lagrange, float(q.bqm.energy(dict(zip(q.variables, encode_tour([2, 0, 1])))))
    (12.0, 12.0)
    """
    instance = load_instance(source)
    if instance.n < 3:
        raise ValueError(f"the one-hot QUBO needs at least 3 cities, got {instance.n}")
    applied = default_lagrange(instance) if lagrange is None else float(lagrange)
    if not np.isfinite(applied) or applied <= 0:
        raise ValueError(f"lagrange must be a positive finite number, got {lagrange}")
    bqm = dimod.generators.traveling_salesperson(_graph(instance), lagrange=applied)
    bqm.offset += 2.0 * instance.n * applied
    n = instance.n
    variables = [(c, p) for c in range(n) for p in range(n)]
    return TSPQubo(instance=instance, bqm=bqm, lagrange=applied, variables=variables)


def encode_tour(tour) -> np.ndarray:
    """The one-hot sample of a tour: ``x[c * n + p] = 1`` iff ``tour[p] == c``.

    Examples
    --------
    >>> encode_tour([1, 0]).tolist()
    [0, 1, 1, 0]
    """
    t = np.asarray(tour, dtype=np.int64)
    n = t.size
    x = np.zeros(n * n, dtype=np.int8)
    x[t * n + np.arange(n)] = 1
    return x


@dataclass(frozen=True)
class Decoded:
    """Tours decoded from QUBO samples.

    Attributes
    ----------
    tours : numpy.ndarray, shape (k, n), int64
        A valid tour per sample (repaired when needed).
    lengths : numpy.ndarray, shape (k,), float64
    feasible : numpy.ndarray, shape (k,), bool
        Whether each sample was a permutation matrix before repair.
    """

    tours: np.ndarray
    lengths: np.ndarray
    feasible: np.ndarray

    @property
    def feasible_reads(self) -> int:
        """Number of samples that were valid tours before repair."""
        return int(self.feasible.sum())

    @property
    def best(self) -> int:
        """Index of the shortest decoded tour (the first on ties)."""
        return int(np.argmin(self.lengths))


def _repair(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Steps 2 and 3 of the module's repair rule for one n x n matrix."""
    n = d.shape[0]
    used = np.zeros(n, dtype=bool)
    partial: list[int] = []
    for p in range(n):
        for c in np.flatnonzero(x[:, p]):
            if not used[c]:
                used[c] = True
                partial.append(int(c))
                break
    for c in np.flatnonzero(~used):
        if len(partial) < 2:
            partial.append(int(c))
            continue
        t = np.array(partial)
        nxt = np.roll(t, -1)
        cost = d[t, c] + d[c, nxt] - d[t, nxt]
        partial.insert(int(np.argmin(cost)) + 1, int(c))
    return np.array(partial, dtype=np.int64)


def decode(samples, source) -> Decoded:
    """Turn QUBO samples into valid tours by the module's repair rule.

    Parameters
    ----------
    samples : array_like, shape (k, n^2) or (n^2,)
        0/1 values in :attr:`TSPQubo.variables` order (``(c, p)`` at ``c * n + p``).
    source : TSPInstance or anything load_instance accepts

    Returns
    -------
    Decoded

    Examples
    --------
    >>> d = [[0, 3, 4], [3, 0, 5], [4, 5, 0]]
    >>> out = decode(np.zeros(9), d)
    >>> out.tours.tolist(), out.feasible_reads
    ([[0, 2, 1]], 0)
    """
    instance = load_instance(source)
    n = instance.n
    s = np.asarray(samples)
    if s.ndim == 1:
        s = s[None, :]
    if s.ndim != 2 or s.shape[1] != n * n:
        raise ValueError(f"samples must have shape (k, {n * n}), got {np.shape(samples)}")
    if not np.isin(s, (0, 1)).all():
        raise ValueError("QUBO samples must be 0/1")
    mats = s.reshape(-1, n, n).astype(bool)
    feasible = (mats.sum(axis=1) == 1).all(axis=1) & (mats.sum(axis=2) == 1).all(axis=1)
    tours = np.empty((s.shape[0], n), dtype=np.int64)
    for r, x in enumerate(mats):
        tours[r] = np.argmax(x, axis=0) if feasible[r] else _repair(x, instance.distances)
    lengths = np.array([instance.tour_length(t) for t in tours])
    return Decoded(tours=tours, lengths=lengths, feasible=feasible)


def decode_sampleset(sampleset: dimod.SampleSet, qubo: TSPQubo) -> Decoded:
    """Decode a dimod ``SampleSet`` over ``qubo.bqm`` (e.g. from TabuSampler).

    Examples
    --------
    >>> q = build_qubo([[0, 3, 4], [3, 0, 5], [4, 5, 0]])
    >>> ss = dimod.ExactSolver().sample(q.bqm).truncate(1)
    >>> decode_sampleset(ss, q).lengths.tolist()
    [12.0]
    """
    samples = dimod.as_samples(sampleset)
    arr, labels = samples
    order = [labels.index(v) for v in qubo.variables]
    return decode(np.asarray(arr)[:, order], qubo.instance)
