"""The strategy kernels run as plain Python, for objectives numba cannot compile.

Numba keeps each jitted function's Python source as ``py_func``. Rebinding the
strategy module's functions to their ``py_func`` in a private namespace gives
interpreted twins of :func:`run_paper`, :func:`run_anneal`, :func:`run_tabu`,
:func:`finish`, :func:`initialize` and :func:`delta_scale` that execute the
same code line for line; inside them the protocol calls reach the problem
object's Python methods (see :mod:`combopt._kernels.protocol`). The random
number generator stays compiled, so a read draws the same random stream either
way; its state is re-wrapped as ``numpy.uint64`` on every call because numba
returns it as a Python ``int``, which it would type as a (too small) int64.
"""

import types

import numpy as np
from numba.core.registry import CPUDispatcher

from combopt._kernels import rng, strategies


def _next_below(state, n):
    return rng.next_below(np.uint64(state), n)


def _next_float(state):
    return rng.next_float(np.uint64(state))


def _interpreted_namespace() -> dict:
    namespace = dict(vars(strategies), next_below=_next_below, next_float=_next_float)
    for name, value in vars(strategies).items():
        if isinstance(value, CPUDispatcher) and value.py_func.__module__ == strategies.__name__:
            code = value.py_func.__code__
            namespace[name] = types.FunctionType(code, namespace, name, value.py_func.__defaults__)
    return namespace


_NAMESPACE = _interpreted_namespace()

run_paper = _NAMESPACE["run_paper"]
run_anneal = _NAMESPACE["run_anneal"]
run_tabu = _NAMESPACE["run_tabu"]
finish = _NAMESPACE["finish"]
initialize = _NAMESPACE["initialize"]
delta_scale = _NAMESPACE["delta_scale"]
