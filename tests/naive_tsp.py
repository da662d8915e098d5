"""Slow, obviously correct references for the successor-encoding tour kernels.

Tours are Python lists of cities; every move is built by cutting and gluing
lists exactly as its definition reads, and lengths are summed edge by edge.
"""

import numpy as np


def length(d, order):
    """Closed-tour length of the city list ``order`` under matrix ``d``."""
    return float(sum(d[order[i], order[(i + 1) % len(order)]] for i in range(len(order))))


def edges(order):
    """The undirected edge set of a closed tour."""
    n = len(order)
    return {frozenset((order[i], order[(i + 1) % n])) for i in range(n)}


def _rotated(order, city):
    i = order.index(city)
    return order[i:] + order[:i]


def move(order, a, c, code):
    """The tour after move ``code`` (1-14) for ``(a, c)``, or ``None`` when it is not a move.

    1: remove (a, succ a), (c, succ c), reconnect by reversing succ a .. c.
    2: the same read backwards (predecessors).
    3 + 4 (L - 1) + v: the L cities starting (v = 0, 1) or ending (v = 2, 3) at
    a are taken out and put back next to c, after c (v = 0, 2) or before it
    (v = 1, 3), oriented so that a touches c.
    """
    n = len(order)
    if code in (1, 2):
        t = _rotated(order if code == 1 else order[::-1], a)
        j = t.index(c)
        if c == a or j == 1 or j == n - 1:
            return None
        return t[:1] + t[1:j + 1][::-1] + t[j + 1:]
    length_, variant = (code - 3) // 4 + 1, (code - 3) % 4
    if length_ > n - 4 or (length_ == 1 and variant >= 2):
        return None
    t = _rotated(order, a)
    segment = t[:length_] if variant < 2 else t[n - length_ + 1:] + t[:1]
    if c in segment:
        return None
    rest = [x for x in t if x not in segment]
    pv = rest[-1]  # the city before the segment, in the rotated order
    # a touches c: after c, a comes first; before c, a comes last
    if variant % 2 == 0:
        placed = segment if segment[0] == a else segment[::-1]
        x = c
    else:
        placed = segment if segment[-1] == a else segment[::-1]
        x = rest[(rest.index(c) - 1) % len(rest)]
    if x == pv:
        return None
    k = rest.index(x)
    return rest[:k + 1] + placed + rest[k + 1:]


def best_delta(d, order, a, c):
    """Least length change over the moves that make ``(a, c)`` an edge (``inf``: none)."""
    base = length(d, order)
    deltas = [length(d, t) - base for t in (move(order, a, c, k) for k in range(1, 15))
              if t is not None]
    return min(deltas, default=np.inf)
