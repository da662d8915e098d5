"""Compiled helpers that drive one objective kind through the kernel protocol in tests."""

from collections import namedtuple
from contextlib import contextmanager

import numpy as np
from numba import njit
from numba.core.caching import NullCache
from numba.core.registry import CPUDispatcher
from numba.extending import overload

from combopt._kernels import strategies
from combopt._kernels.protocol import is_kind, obj_apply, obj_deltas, obj_flip, obj_init


@njit
def replay_moves(problem, values, offsets, x_idx, cache, variables, choices):
    """Apply moves ``(variables[t], choices[t])``; return (incremental energies, deltas used).

    Energies start with ``obj_init`` and add each move's delta as given by
    ``obj_deltas``, exactly as the strategies do.
    """
    energies = np.empty(variables.shape[0] + 1)
    energies[0] = obj_init(problem, values, offsets, x_idx, cache)
    out = np.empty(np.max(offsets[1:] - offsets[:-1]))
    for t in range(variables.shape[0]):
        i = variables[t]
        k = choices[t] % (offsets[i + 1] - offsets[i])
        obj_deltas(problem, values, offsets, x_idx, cache, i, out)
        energies[t + 1] = energies[t] + out[k]
        obj_apply(problem, values, offsets, x_idx, cache, i, k)
    return energies


@njit
def all_deltas(problem, values, offsets, x_idx, cache):
    """Every coordinate's deltas at the current state, from the cache as it stands.

    Shape ``(n, width)``; a row is NaN past its domain size. Called after
    :func:`replay_moves`, this reads the incrementally updated cache.
    """
    n = x_idx.shape[0]
    sizes = offsets[1:] - offsets[:-1]
    table = np.full((n, np.max(sizes)), np.nan)
    for i in range(n):
        obj_deltas(problem, values, offsets, x_idx, cache, i, table[i, : sizes[i]])
    return table


@njit
def replay_flips(problem, values, offsets, x_idx, cache, variables):
    """Flip ``variables[t]`` in turn by ``obj_flip`` (two-valued domains).

    Returns ``(energies, gains)``: the energy tracked by adding each flip's gain,
    shape ``(T + 1,)``, and the kept-up-to-date flip deltas before each flip and
    after the last, shape ``(T + 1, n)``.
    """
    n = x_idx.shape[0]
    out = np.empty(2)
    step = np.empty(n)
    gain = np.empty(n)
    energies = np.empty(variables.shape[0] + 1)
    energies[0] = obj_init(problem, values, offsets, x_idx, cache)
    for i in range(n):  # the starting deltas, as run_tabu_flips computes them
        obj_deltas(problem, values, offsets, x_idx, cache, i, out)
        gain[i] = out[1 - x_idx[i]]
        step[i] = values[offsets[i] + 1 - x_idx[i]] - values[offsets[i] + x_idx[i]]
    gains = np.empty((variables.shape[0] + 1, n))
    for t in range(variables.shape[0]):
        gains[t] = gain
        energies[t + 1] = energies[t] + gain[variables[t]]
        obj_flip(problem, values, offsets, x_idx, cache, variables[t], step, gain)
    gains[variables.shape[0]] = gain
    return energies, gains


@njit
def coordinate_deltas(problem, values, offsets, x_idx, cache, i):
    """All deltas of coordinate ``i`` at ``x_idx`` (after ``obj_init``)."""
    obj_init(problem, values, offsets, x_idx, cache)
    out = np.empty(offsets[i + 1] - offsets[i])
    obj_deltas(problem, values, offsets, x_idx, cache, i, out)
    return out


# ------------------------------------------------------------------ a recording kind

#: Any objective kind wrapped so that every move a strategy kernel makes is logged:
#: after the ``t``-th ``obj_apply`` or ``obj_flip``, ``moves[t] = (i, k)`` and
#: ``states[t]`` is the whole assignment (value indices); ``count[0]`` is ``t + 1``.
Recorded = namedtuple("Recorded", ["inner", "moves", "states", "count"])


def recorded(problem, n, capacity):
    """Wrap the kernel problem ``problem`` of ``n`` variables for up to ``capacity`` moves."""
    return Recorded(
        problem,
        np.zeros((capacity, 2), dtype=np.int64),
        np.zeros((capacity, n), dtype=np.int64),
        np.zeros(1, dtype=np.int64),
    )


@njit(inline="always")
def _log(problem, x_idx, i, k):
    t = problem.count[0]
    problem.moves[t, 0] = i
    problem.moves[t, 1] = k
    problem.states[t, :] = x_idx
    problem.count[0] = t + 1


@overload(obj_init)
def _init_recorded(problem, values, offsets, x_idx, cache):
    if is_kind(problem, Recorded):
        return lambda problem, values, offsets, x_idx, cache: obj_init(
            problem.inner, values, offsets, x_idx, cache
        )
    return None


@overload(obj_deltas)
def _deltas_recorded(problem, values, offsets, x_idx, cache, i, out):
    if is_kind(problem, Recorded):
        return lambda problem, values, offsets, x_idx, cache, i, out: obj_deltas(
            problem.inner, values, offsets, x_idx, cache, i, out
        )
    return None


@overload(obj_apply)
def _apply_recorded(problem, values, offsets, x_idx, cache, i, k):
    if is_kind(problem, Recorded):

        def impl(problem, values, offsets, x_idx, cache, i, k):
            obj_apply(problem.inner, values, offsets, x_idx, cache, i, k)
            _log(problem, x_idx, i, k)

        return impl
    return None


@overload(obj_flip)
def _flip_recorded(problem, values, offsets, x_idx, cache, i, step, gain):
    if is_kind(problem, Recorded):

        def impl(problem, values, offsets, x_idx, cache, i, step, gain):
            obj_flip(problem.inner, values, offsets, x_idx, cache, i, step, gain)
            _log(problem, x_idx, i, x_idx[i])

        return impl
    return None


@contextmanager
def uncached_strategy_kernels():
    """Compile the strategy kernels for the recording kind without writing numba's cache.

    The kernels are ``cache=True``; an entry for a type defined in the tests
    would be unpicklable in any process that cannot import this module.
    """
    dispatchers = [v for v in vars(strategies).values() if isinstance(v, CPUDispatcher)]
    saved = [d._cache for d in dispatchers]
    for d in dispatchers:
        d._cache = NullCache()
    try:
        yield
    finally:
        for d, cache in zip(dispatchers, saved):
            d._cache = cache
