"""Compiled helpers that drive one objective kind through the kernel protocol in tests."""

import numpy as np
from numba import njit

from combopt._kernels.protocol import obj_apply, obj_deltas, obj_init


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
def coordinate_deltas(problem, values, offsets, x_idx, cache, i):
    """All deltas of coordinate ``i`` at ``x_idx`` (after ``obj_init``)."""
    obj_init(problem, values, offsets, x_idx, cache)
    out = np.empty(offsets[i + 1] - offsets[i])
    obj_deltas(problem, values, offsets, x_idx, cache, i, out)
    return out
