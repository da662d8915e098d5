"""Slow, obviously-correct references for :mod:`combopt.tsp.alpha`.

A minimum 1-tree is networkx's minimum spanning tree on all nodes but the
special one, plus the special node's two cheapest edges; alpha(i, j) is the
length of the cheapest 1-tree forced to contain (i, j) minus the minimum.
"""

import networkx as nx
import numpy as np


def penalised(d, pi):
    """``d[i, j] + pi[i] + pi[j]`` as a dense matrix."""
    d = np.asarray(d, float)
    pi = np.asarray(pi, float)
    return d + pi[:, None] + pi[None, :]


def one_tree_length(c, special, forced=None):
    """Length of the cheapest 1-tree of cost matrix ``c`` (containing edge ``forced``)."""
    n = c.shape[0]
    others = [v for v in range(n) if v != special]
    if forced is not None and special in forced:
        j = forced[1] if forced[0] == special else forced[0]
        ends = c[special, j] + min(c[special, v] for v in others if v != j)
        forced = None
    else:
        ends = sum(sorted(c[special, v] for v in others)[:2])
    # A forced edge gets a weight below every other, so every MST takes it.
    low = -1.0 - np.abs(c).sum()
    g = nx.Graph()
    g.add_nodes_from(others)
    for i in others:
        for j in others:
            if i < j:
                g.add_edge(i, j, weight=low if forced in ((i, j), (j, i)) else c[i, j])
    tree = nx.minimum_spanning_tree(g)
    total = sum(w for _, _, w in tree.edges(data="weight"))
    if forced is not None:
        total += c[forced] - low
    return ends + total


def alpha_bruteforce(c, special):
    """alpha[i, j] by recomputing the forced 1-tree of every pair (inf on the diagonal)."""
    n = c.shape[0]
    base = one_tree_length(c, special)
    out = np.full((n, n), np.inf)
    for i in range(n):
        for j in range(i + 1, n):
            out[i, j] = out[j, i] = one_tree_length(c, special, (i, j)) - base
    return out
