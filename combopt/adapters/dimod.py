"""dimod BQMs <-> combopt: encode a BQM as a quadratic objective, decode a result.

A :class:`dimod.BinaryQuadraticModel` with ``n`` variables becomes a
:class:`~combopt.objectives.QuadraticObjective` over ``Domain.binary()`` (a
QUBO) or ``Domain.spin()`` (an Ising model): column ``k`` is the ``k``-th
label of ``bqm.variables``, the couplings go to an upper-triangular sparse
``Q``, the linear biases to ``c`` and the offset is kept, so the objective's
energy equals ``bqm.energy`` at every point. A :class:`~combopt.SolveResult`
comes back as a :class:`dimod.SampleSet` in the user's labels and vartype.

A :class:`dimod.DiscreteQuadraticModel` becomes a
:class:`~combopt.objectives.CategoricalObjective` with the same case layout
(``case_starts``), biases and offset: each DQM variable is one categorical
variable whose value is its case index, never a one-hot group of binaries.

Examples
--------
>>> import dimod
>>> from combopt import solve
>>> bqm = dimod.BQM({"a": -1.0}, {("a", "b"): 2.0}, 0.5, "SPIN")
>>> obj, domain, labels = bqm_to_objective(bqm)
>>> result = solve(obj, domain, strategy="tabu", num_reads=2, seed=1)
>>> ss = result_to_sampleset(result, labels, bqm.vartype)
>>> float(ss.first.energy), {v: int(s) for v, s in ss.first.sample.items()}
(-2.5, {'a': 1, 'b': -1})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dimod
import numpy as np

from combopt.domain import Domain
from combopt.objectives import CategoricalObjective, QuadraticObjective

__all__ = [
    "bqm_to_objective", "domain_for", "dqm_to_objective", "empty_sampleset", "result_to_sampleset",
]


def domain_for(vartype: dimod.typing.VartypeLike) -> Domain:
    """``Domain.binary()`` for BINARY, ``Domain.spin()`` for SPIN."""
    vartype = dimod.as_vartype(vartype)
    return Domain.binary() if vartype is dimod.BINARY else Domain.spin()


def bqm_to_objective(
    bqm: dimod.BinaryQuadraticModel,
) -> tuple[QuadraticObjective, Domain, list]:
    """Encode a BQM as ``(objective, domain, labels)``.

    Parameters
    ----------
    bqm : dimod.BinaryQuadraticModel
        At least one variable (an empty model has nothing to solve; the
        samplers handle it without the solver).

    Returns
    -------
    objective : QuadraticObjective
        ``x^T Q x + c^T x + offset`` with ``Q`` upper triangular, shape (n, n),
        equal to ``bqm.energy`` at every point.
    domain : Domain
        Binary or spin, from ``bqm.vartype``.
    labels : list
        ``labels[k]`` is the BQM variable of column ``k``.

    Examples
    --------
    >>> import dimod, numpy as np
    >>> bqm = dimod.BQM({0: 1.0, 1: -2.0}, {(0, 1): 3.0}, 0.0, "BINARY")
    >>> obj, domain, labels = bqm_to_objective(bqm)
    >>> float(obj.energy(np.array([1.0, 1.0]))), labels
    (2.0, [0, 1])
    """
    if bqm.num_variables == 0:
        raise ValueError("the BQM has no variables")
    labels = list(bqm.variables)
    # In bqm.variables order (sort_labels=False), without the cost of a variable_order lookup.
    linear, (irow, icol, qdata), offset = bqm.to_numpy_vectors(sort_labels=False)
    n = len(labels)
    lo, hi = np.minimum(irow, icol), np.maximum(irow, icol)
    # COO triplets, as the objective keeps them: even scipy's COO constructor costs more
    # than a short search (70 us on 50 variables, measured).
    objective = QuadraticObjective.from_coo(
        lo, hi, np.asarray(qdata, dtype=np.float64), n,
        linear=np.asarray(linear, dtype=np.float64), offset=offset,
    )
    return objective, domain_for(bqm.vartype), labels


def dqm_to_objective(dqm: dimod.DiscreteQuadraticModel) -> tuple[CategoricalObjective, list]:
    """Encode a DQM as ``(objective, labels)``, its cases as native categorical values.

    Parameters
    ----------
    dqm : dimod.DiscreteQuadraticModel
        At least one variable, each with at least one case.

    Returns
    -------
    objective : CategoricalObjective
        Variable ``k`` is ``labels[k]``; its value is the DQM case index.
        ``objective.energy`` equals ``dqm.energies`` at every point.
    labels : list
        ``labels[k]`` is the DQM variable of column ``k`` (``dqm.variables`` order).

    Examples
    --------
    >>> import dimod
    >>> dqm = dimod.DiscreteQuadraticModel()
    >>> dqm.add_variable(3, "colour")
    'colour'
    >>> dqm.add_variable(2, "size")
    'size'
    >>> dqm.set_linear("colour", [1.0, 0.0, 2.0])
    >>> dqm.set_quadratic("colour", "size", {(1, 0): -4.0})
    >>> obj, labels = dqm_to_objective(dqm)
    >>> labels, obj.num_cases.tolist(), float(obj.energy([1, 0]))
    (['colour', 'size'], [3, 2], -4.0)
    """
    labels = list(dqm.variables)
    if not labels:
        raise ValueError("the DQM has no variables")
    for v in labels:
        if dqm.num_cases(v) < 1:
            raise ValueError(f"DQM variable {v!r} has no cases")
    vectors = dqm.to_numpy_vectors(return_offset=True)
    starts = np.asarray(vectors.case_starts, dtype=np.int64)
    linear = np.asarray(vectors.linear_biases, dtype=np.float64)
    counts = np.diff(np.append(starts, linear.shape[0]))
    quadratic = vectors.quadratic
    objective = CategoricalObjective(
        counts,
        linear,
        (np.asarray(quadratic.row_indices, dtype=np.int64),
         np.asarray(quadratic.col_indices, dtype=np.int64),
         np.asarray(quadratic.biases, dtype=np.float64)),
        float(vectors.offset),
    )
    return objective, labels


def result_to_sampleset(
    result,
    labels: Sequence,
    vartype: dimod.typing.VartypeLike,
    info: Mapping[str, Any] | None = None,
) -> dimod.SampleSet:
    """Decode a :class:`~combopt.SolveResult` into a dimod SampleSet.

    Parameters
    ----------
    result : SolveResult
        ``result.samples`` (num_reads, n) of domain values and their
        ``result.energies`` (num_reads,).
    labels : sequence
        The variable of each column (from :func:`bqm_to_objective`).
    vartype : dimod vartype
        The user's vartype (the samples are already in its values).
    info : mapping, optional
        Stored as ``sampleset.info``.

    Returns
    -------
    dimod.SampleSet
        One row per read, in read order, with ``num_occurrences`` 1.
    """
    samples = np.asarray(result.samples, dtype=np.int8)
    return dimod.SampleSet.from_samples(
        (samples, list(labels)),
        vartype=dimod.as_vartype(vartype),
        energy=np.asarray(result.energies, dtype=np.float64),
        info=dict(info or {}),
    )


def empty_sampleset(
    bqm: dimod.BinaryQuadraticModel, num_reads: int, info: Mapping[str, Any] | None = None
) -> dimod.SampleSet:
    """``num_reads`` empty samples of a BQM without variables (energy = offset).

    Examples
    --------
    >>> import dimod
    >>> ss = empty_sampleset(dimod.BQM({}, {}, 1.5, "SPIN"), 3)
    >>> len(ss), ss.record.energy.tolist()
    (3, [1.5, 1.5, 1.5])
    """
    return dimod.SampleSet.from_samples(
        (np.empty((num_reads, 0), dtype=np.int8), []),
        vartype=bqm.vartype,
        energy=np.full(num_reads, float(bqm.offset)),
        info=dict(info or {}),
    )
