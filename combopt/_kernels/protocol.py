"""The objective protocol every kernel strategy is written against.

Each objective kind is a ``namedtuple`` of arrays and scalars (defined in its
own module of this package) and registers an implementation of each of the
first three functions (and optionally :func:`obj_flip`) with
:func:`numba.extending.overload`, selected by the namedtuple's class. The strategy
kernels (:mod:`combopt._kernels.strategies`) call only these, so a strategy is
written once and compiled per objective kind.

All of them see the whole-read state: ``values``/``offsets`` (the lowered
domain), ``x_idx`` (the index of each variable's current value, int64) and
``cache`` (a float64 row the objective owns: local fields, a residual, ...).

Outside a kernel (the interpreted path of :mod:`combopt._kernels.interpreted`)
the same calls go to the problem object's ``init``, ``deltas`` and ``apply``
methods, which is how a Python-callable objective runs the same strategies.
"""

from numba import types


def obj_init(problem, values, offsets, x_idx, cache):
    """Fill ``cache`` for the assignment ``x_idx`` and return its energy."""
    return problem.init(values, offsets, x_idx, cache)


def obj_deltas(problem, values, offsets, x_idx, cache, i, out):
    """Write ``f(x with x_i = k-th value) - f(x)`` to ``out[k]`` for each k.

    ``out[x_idx[i]]`` must be exactly 0.
    """
    problem.deltas(values, offsets, x_idx, cache, i, out)


def obj_apply(problem, values, offsets, x_idx, cache, i, k):
    """Move variable ``i`` to its ``k``-th value, updating ``cache`` and ``x_idx``."""
    problem.apply(values, offsets, x_idx, cache, i, k)


def obj_flip(problem, values, offsets, x_idx, cache, i, step, gain):
    """Optional, for domains of two values: move variable ``i`` to its other value.

    Besides ``cache`` and ``x_idx``, updates for every variable ``j`` the energy
    change ``gain[j]`` of moving ``j`` to its other value and that move's value
    change ``step[j]``, so that a search over single flips reads every move's
    delta from ``gain`` without an ``obj_deltas`` call per variable. Kinds that
    implement it are listed in :data:`FLIP_KINDS`; the solver uses it for
    those only, so there is no interpreted version.
    """
    raise NotImplementedError(f"{type(problem).__name__} has no obj_flip (see FLIP_KINDS)")


#: Kernel kinds (namedtuple classes) with a compiled :func:`obj_flip`.
FLIP_KINDS: set = set()


def is_kind(problem_type, kind) -> bool:
    """True when the numba type ``problem_type`` is the namedtuple class ``kind``."""
    return isinstance(problem_type, types.BaseNamedTuple) and problem_type.instance_class is kind
