"""Independent classes of a coupling graph: the visiting order of sequential Metropolis sweeps.

A greedy colouring splits the variables into classes with no coupling inside
a class. Flipping one variable changes the fields of its neighbours only, so
the flip decisions of one class do not depend on one another: a sweep that
visits the classes one after another (each in increasing variable order) can
decide a whole class from the fields at the class's start, branch-free and
vectorised, and then apply the accepted flips -- and still be exactly a
sequential sweep in that order (``combopt._kernels.anneal2._class_sweep``).

The colouring is largest-first greedy (Welsh & Powell 1967): variables by
decreasing degree (ties by index), each given the smallest class none of its
neighbours holds. It is deterministic, so the order depends only on the
coupling pattern. :func:`colour_classes` returns it as a relabelling:
``order[q]`` is the variable at position ``q`` of the sweep, and class ``c``
is ``order[starts[c]:starts[c + 1]]``.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def _greedy_sparse(indptr, indices, visit):
    """Largest-first greedy classes of the CSR pattern ``(indptr, indices)``, in ``visit`` order."""
    n = visit.shape[0]
    colour = np.full(n, -1, dtype=np.int64)
    seen = np.full(n + 1, -1, dtype=np.int64)  # seen[c] == v: a neighbour of v holds class c
    for v in visit:
        for p in range(indptr[v], indptr[v + 1]):
            c = colour[indices[p]]  # -1 for v itself (a diagonal entry): no constraint
            if c >= 0:
                seen[c] = v
        c = 0
        while seen[c] == v:
            c += 1
        colour[v] = c
    return colour


@njit(cache=True)
def _greedy_dense(couplings, visit):
    """:func:`_greedy_sparse` on the nonzero pattern of a dense (n, n) matrix."""
    n = visit.shape[0]
    colour = np.full(n, -1, dtype=np.int64)
    seen = np.full(n + 1, -1, dtype=np.int64)
    for v in visit:
        row = couplings[v]
        for t in range(n):
            c = colour[t]
            if row[t] != 0 and c >= 0:
                seen[c] = v
        c = 0
        while seen[c] == v:
            c += 1
        colour[v] = c
    return colour


def colour_classes(couplings):
    """A greedy colouring of a coupling pattern as a sweep order: ``(order, starts)``.

    Parameters
    ----------
    couplings : ndarray (n, n) or tuple (indptr, indices)
        A symmetric matrix with a zero diagonal (its nonzeros are the edges),
        or the ``indptr`` (n + 1,) and ``indices`` of a symmetric CSR pattern
        (every stored entry is an edge; entries on the diagonal are ignored).

    Returns
    -------
    order : ndarray (n,) int64
        The variables class by class, increasing within a class.
    starts : ndarray (C + 1,) int64
        Class ``c`` is ``order[starts[c]:starts[c + 1]]``; ``starts[0] = 0``
        and ``starts[C] = n`` (``C = 0`` when ``n = 0``).

    Examples
    --------
    A path 0 - 1 - 2 - 3 and a triangle:

    >>> import numpy as np
    >>> path = np.diag(np.ones(3), 1) + np.diag(np.ones(3), -1)
    >>> [a.tolist() for a in colour_classes(path)]
    [[1, 3, 0, 2], [0, 2, 4]]
    >>> [a.tolist() for a in colour_classes(1 - np.eye(3))]
    [[0, 1, 2], [0, 1, 2, 3]]
    """
    if isinstance(couplings, np.ndarray):
        degree = np.count_nonzero(couplings, axis=1)
        visit = np.argsort(-degree, kind="stable")
        colour = _greedy_dense(couplings, visit)
    else:
        indptr, indices = couplings
        visit = np.argsort(-np.diff(indptr), kind="stable")
        colour = _greedy_sparse(indptr, indices, visit)
    order = np.argsort(colour, kind="stable").astype(np.int64)
    counts = np.bincount(colour, minlength=1 if colour.size else 0)
    starts = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return order, starts
