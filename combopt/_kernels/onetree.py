"""Minimum 1-trees under node penalties and their alpha-nearness (Helsgaun's LKH).

Costs are the penalised ones, ``c(i, j) = d[i, j] + pi[i] + pi[j]``, computed
on the fly from the (n, n) distance matrix, so nothing of size n x n is
allocated here. A 1-tree with special node ``s`` is a spanning tree on the
other nodes plus the two cheapest edges at ``s``.

The tree is stored as ``parent`` (``parent[root] = -1``; ``parent[s] = -1``,
``s`` is not in the tree), ``order`` (the n - 1 tree nodes in the order Prim's
algorithm added them, which is a topological order: a parent comes before its
children) and ``ends`` (the two neighbours of ``s``).

Alpha-nearness (K. Helsgaun, EJOR 126 (2000) 106-130, section 4.1):
``alpha(i, j)`` is the increase of the minimum 1-tree's length when the tree
is required to contain edge ``(i, j)``. For ``i, j != s`` it is
``c(i, j) - beta(i, j)``, ``beta`` being the largest cost on the tree path
from ``i`` to ``j``; for the special node it is ``c(s, j)`` minus the larger
of its two tree edges. One row of beta costs O(n), walking the nodes in
topological order, so all of alpha costs O(n^2) time and O(n) memory.
"""

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _cost(d, pi, i, j):
    """Penalised cost; ``pi[i] + pi[j]`` is commutative, so c(i, j) == c(j, i) bitwise."""
    return d[i, j] + (pi[i] + pi[j])


@njit(cache=True)
def min_one_tree(d, pi, special, parent, order, ends, degree):
    """Build a minimum 1-tree by dense Prim in O(n^2); return its penalised length.

    Parameters
    ----------
    d : float64 (n, n), symmetric
    pi : float64 (n,)
        Node penalties.
    special : int
        The special node ``s``.
    parent, order, ends, degree : int64 (n,), (n - 1,), (2,), (n,)
        Filled with the tree (see the module docstring) and the node degrees.
    """
    n = d.shape[0]
    key = np.empty(n, np.float64)
    done = np.zeros(n, np.bool_)
    root = 1 if special == 0 else 0
    for v in range(n):
        key[v] = np.inf
        parent[v] = -1
        degree[v] = 0
    done[special] = True
    key[root] = 0.0
    total = 0.0
    u = root
    for step in range(n - 1):
        done[u] = True
        order[step] = u
        total += key[u]
        if parent[u] >= 0:
            degree[u] += 1
            degree[parent[u]] += 1
        nxt = -1
        best = np.inf
        for v in range(n):
            if not done[v]:
                c = _cost(d, pi, u, v)
                if c < key[v]:
                    key[v] = c
                    parent[v] = u
                if key[v] < best:
                    best = key[v]
                    nxt = v
        u = nxt
    # The two cheapest edges at the special node (ties: the lower index).
    a, b = -1, -1
    ca, cb = np.inf, np.inf
    for v in range(n):
        if v != special:
            c = _cost(d, pi, special, v)
            if c < ca:
                b, cb = a, ca
                a, ca = v, c
            elif c < cb:
                b, cb = v, c
    ends[0] = a
    ends[1] = b
    degree[special] = 2
    degree[a] += 1
    degree[b] += 1
    return total + ca + cb


@njit(cache=True)
def _alpha_row(d, pi, parent, order, special, ends, i, beta, mark, row):
    """Fill ``row[j] = alpha(i, j)`` for all j (``row[i]`` is left as +inf)."""
    far = max(_cost(d, pi, special, ends[0]), _cost(d, pi, special, ends[1]))
    if i == special:
        for j in range(d.shape[0]):
            row[j] = 0.0 if (j == ends[0] or j == ends[1]) else _cost(d, pi, i, j) - far
        row[i] = np.inf
        return
    # beta along the path from i up to the root: mark the ancestors of i.
    beta[i] = -np.inf
    k = i
    while parent[k] >= 0:
        p = parent[k]
        beta[p] = max(beta[k], _cost(d, pi, k, p))
        mark[p] = i
        k = p
    # Every other node's path from i runs through its parent, seen before it.
    for t in range(order.shape[0]):
        j = order[t]
        if j == i:
            continue
        if mark[j] != i:
            p = parent[j]
            beta[j] = max(beta[p], _cost(d, pi, j, p))
        row[j] = _cost(d, pi, i, j) - beta[j]
    row[i] = np.inf
    row[special] = 0.0 if (i == ends[0] or i == ends[1]) else _cost(d, pi, i, special) - far


@njit(cache=True)
def alpha_matrix(d, pi, parent, order, special, ends, out):
    """Fill ``out`` (float64 (n, n)) with alpha; the diagonal is +inf."""
    n = d.shape[0]
    beta = np.empty(n, np.float64)
    mark = np.full(n, -1, np.int64)
    for i in range(n):
        _alpha_row(d, pi, parent, order, special, ends, i, beta, mark, out[i])


@njit(cache=True)
def _before(a1, d1, j1, a2, d2, j2):
    """Whether candidate (alpha, distance, index) 1 ranks before candidate 2."""
    if a1 != a2:
        return a1 < a2
    if d1 != d2:
        return d1 < d2
    return j1 < j2


@njit(cache=True)
def alpha_nearest(d, pi, parent, order, special, ends, out):
    """Fill ``out`` (int32 (n, k), k <= n - 1) with each node's k smallest alpha.

    Ties are broken by the distance ``d[i, j]``, then by the index ``j``.
    """
    n, k = out.shape
    beta = np.empty(n, np.float64)
    mark = np.full(n, -1, np.int64)
    row = np.empty(n, np.float64)
    ba = np.empty(k, np.float64)
    bd = np.empty(k, np.float64)
    bj = np.empty(k, np.int64)
    for i in range(n):
        _alpha_row(d, pi, parent, order, special, ends, i, beta, mark, row)
        size = 0
        for j in range(n):
            if j == i:
                continue
            a, dj = row[j], d[i, j]
            if size == k and not _before(a, dj, j, ba[k - 1], bd[k - 1], bj[k - 1]):
                continue
            # Insertion into the sorted buffer of the best k so far.
            pos = size if size < k else k - 1
            while pos > 0 and _before(a, dj, j, ba[pos - 1], bd[pos - 1], bj[pos - 1]):
                ba[pos] = ba[pos - 1]
                bd[pos] = bd[pos - 1]
                bj[pos] = bj[pos - 1]
                pos -= 1
            ba[pos] = a
            bd[pos] = dj
            bj[pos] = j
            if size < k:
                size += 1
        for t in range(k):
            out[i, t] = bj[t]
