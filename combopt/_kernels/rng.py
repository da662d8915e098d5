"""splitmix64: the per-read random number generator of every kernel.

Each read owns one ``uint64`` state, seeded in Python from
``numpy.random.SeedSequence(seed, spawn_key=(read, 1))``; a read's random
stream therefore depends only on the seed and its index, never on the number
of threads or reads. splitmix64 (Steele, Lea & Flood 2014) passes BigCrush and
needs one word of state, which keeps the hot loop in registers.

Functions take the state and return ``(new_state, output)``. The generator is
counter-based: the ``j``-th output after ``state`` is ``mix64(state + j *
GAMMA)`` (:func:`mix64`, :func:`skip`), so a block of draws can be computed
independently of one another (vectorised) and the state moved past them at once.
"""

import numpy as np
from numba import njit

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S11 = np.uint64(11)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_INV_2_53 = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def mix64(z):
    """splitmix64's output function: the 64 random bits of the counter value ``z``."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def skip(state, k):
    """The state ``k`` draws on: ``mix64(skip(state, j))`` is the ``j``-th draw after ``state``.

    Examples
    --------
    >>> s, first = next_u64(np.uint64(7))
    >>> s, second = next_u64(np.uint64(s))
    >>> t = np.uint64(skip(np.uint64(7), 2))  # numba returns Python ints: back to uint64
    >>> int(t) == int(s), int(mix64(t)) == int(second)
    (True, True)
    """
    return np.uint64(state) + np.uint64(k) * _GAMMA


@njit(cache=True, inline="always")
def next_u64(state):
    """Advance ``state``; return ``(state, 64 random bits)``."""
    state = np.uint64(state) + _GAMMA
    return state, mix64(state)


@njit(cache=True, inline="always")
def next_float(state):
    """Return ``(state, u)`` with ``u`` uniform on [0, 1) (53 random bits)."""
    state, z = next_u64(state)
    return state, np.float64(z >> _S11) * _INV_2_53


@njit(cache=True, inline="always")
def next_below(state, n):
    """Return ``(state, k)`` with ``k`` uniform on ``0..n-1`` for ``0 < n < 2**32``.

    Lemire's multiply-shift on the top 32 bits; its bias is below ``n / 2**32``.
    """
    state, z = next_u64(state)
    return state, np.int64(((z >> _S32) * np.uint64(n)) >> _S32)


@njit(cache=True)
def random_indices(offsets, rng, x_idx):
    """Uniform starting points: ``x_idx[r, i]`` uniform on variable ``i``'s value indices.

    ``offsets`` (n + 1,) bounds each variable's values; ``rng`` (R,) holds the
    reads' states and is advanced past the ``n`` draws of each read (one
    :func:`next_below` per variable, in order), so a read's stream is its
    starting point first and its search after.
    """
    for r in range(x_idx.shape[0]):
        state = rng[r]
        for i in range(x_idx.shape[1]):
            state, x_idx[r, i] = next_below(state, offsets[i + 1] - offsets[i])
        rng[r] = state
