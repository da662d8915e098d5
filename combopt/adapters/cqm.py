"""dimod CQMs -> combopt: finite domains, native one-hot groups, penalised constraint rows.

A :class:`dimod.ConstrainedQuadraticModel` becomes a
:class:`~combopt.objectives.ConstrainedObjective`:

* a binary or spin variable takes its two values, a bounded integer every
  integer of its range (at most :data:`MAX_INTEGER_VALUES`); real variables,
  wider ranges (including dimod's default "unbounded" upper bound) and soft
  constraints are refused with a one-line ``ValueError``;
* every discrete constraint (``cqm.add_discrete``), and every other constraint
  that says "exactly one" (``==``) or "at most one" (``<=``) of some binaries
  not yet in a group, with equal positive coefficients and no quadratic term,
  becomes one categorical variable whose cases are its members (an
  "at most one" group has a last case, "none", where every member is 0); it
  is satisfied by construction and is not a penalised row;
* every other constraint is a row whose value the kernel keeps up to date,
  penalised by a multiplier times its violation.

The atoms of the objective are the CQM's variables in ``cqm.variables``
order, so ``objective.atom_values(x)`` is a CQM sample.

Examples
--------
>>> import dimod
>>> x, y = dimod.Binaries(["x", "y"])
>>> i = dimod.Integer("i", upper_bound=3)
>>> cqm = dimod.ConstrainedQuadraticModel()
>>> cqm.set_objective(-x - 2 * y - i)
>>> cqm.add_constraint(x + y + i <= 3, label="budget")
'budget'
>>> cqm.add_discrete(["a", "b", "c"], label="pick")
'pick'
>>> enc = cqm_to_objective(cqm)
>>> enc.labels, enc.native_discrete, enc.penalised
(['x', 'y', 'i', 'pick'], ['pick'], ['budget'])
>>> enc.samples([[1, 1, 1, 2]]).tolist()   # columns of cqm.variables: x, y, i, a, b, c
[[1.0, 1.0, 1.0, 0.0, 0.0, 1.0]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import dimod
import numpy as np

from combopt.objectives import ConstrainedObjective

__all__ = ["MAX_INTEGER_VALUES", "CQMEncoding", "cqm_to_objective"]

#: Most values an integer variable may take (its domain is its whole range).
MAX_INTEGER_VALUES = 2**16
_SENSES = {"Le": "<=", "Ge": ">=", "Eq": "=="}


@dataclass(frozen=True)
class CQMEncoding:
    """A CQM as a :class:`~combopt.objectives.ConstrainedObjective`, and the way back.

    Attributes
    ----------
    objective : ConstrainedObjective
        Multipliers set to :attr:`initial_weights`.
    variables : list
        ``cqm.variables``: the atoms, the columns of :meth:`samples`.
    labels : list
        One per engine variable: the CQM variable, or a group's constraint label.
    native_discrete : list
        Labels of the constraints turned into categorical variables.
    penalised : list
        Labels of the penalised constraint rows (objective rows ``1..``).
    initial_weights : ndarray, shape (len(penalised),)
        Starting multipliers: the objective's mean coefficient magnitude over
        the constraint's (one unit of violation costs about one typical
        objective term).
    """

    objective: ConstrainedObjective
    variables: list
    labels: list
    native_discrete: list
    penalised: list
    initial_weights: np.ndarray

    def samples(self, x) -> np.ndarray:
        """CQM samples (columns of :attr:`variables`) of engine points ``x``, shape (k, n)."""
        return self.objective.atom_values(np.atleast_2d(x))

    def engine_points(self, initial_states, num_reads: int | None) -> np.ndarray:
        """Engine points of CQM samples: one state (used by every read) or one per read.

        Raises ``ValueError`` for a state that names other variables, gives a
        value outside a variable's domain, or breaks a one-hot group.
        """
        states, state_labels = dimod.as_samples(initial_states)
        if set(state_labels) != set(self.variables) or len(state_labels) != len(self.variables):
            raise ValueError(
                f"initial_states must give a value for each of the CQM's {len(self.variables)} "
                f"variables, got {len(state_labels)} other or missing labels"
            )
        position = {v: k for k, v in enumerate(state_labels)}
        states = np.asarray(states, dtype=np.float64)[:, [position[v] for v in self.variables]]
        rows = states.shape[0]
        if num_reads is not None and rows not in (1, num_reads):
            raise ValueError(
                f"got {rows} initial states for num_reads={num_reads} (give 1 or {num_reads})"
            )
        obj = self.objective
        points = np.zeros((rows, obj.num_variables))
        for i, values in enumerate(obj.values):
            members = np.flatnonzero(obj.atom_var == i)
            if obj.group[i]:
                block = states[:, members]
                ones = block.sum(axis=1)
                exact = members.size == values.size
                binary = np.all((block == 0) | (block == 1), axis=1)
                bad = ~binary | (ones > 1) | (exact & (ones < 1))
                if np.any(bad):
                    r = int(np.flatnonzero(bad)[0])
                    need = "exactly" if exact else "at most"
                    raise ValueError(
                        f"initial state {r} sets {int(ones[r])} members of the one-hot group "
                        f"{self.labels[i]!r} to 1 (needs {need} one)"
                    )
                case = np.where(ones == 1, obj.atom_case[members][np.argmax(block, axis=1)],
                                values.size - 1)
                points[:, i] = case
            else:
                column = states[:, members[0]]
                inside = np.isin(column, values)
                if not np.all(inside):
                    r = int(np.flatnonzero(~inside)[0])
                    raise ValueError(
                        f"initial state {r}: {self.variables[members[0]]!r} = {column[r]:g} is "
                        f"outside its domain {values.min():g}..{values.max():g}"
                    )
                points[:, i] = column
        return np.repeat(points, num_reads, axis=0) if rows == 1 and num_reads else points


def _domain(cqm, v):
    vartype = cqm.vartype(v)
    if vartype is dimod.BINARY:
        return np.array([0.0, 1.0])
    if vartype is dimod.SPIN:
        return np.array([-1.0, 1.0])
    if vartype is dimod.REAL:
        raise ValueError(f"CQM variable {v!r} is real-valued: only binary, spin and bounded "
                         "integer variables can be sampled")
    lo, hi = math.ceil(cqm.lower_bound(v)), math.floor(cqm.upper_bound(v))
    count = hi - lo + 1
    if count > MAX_INTEGER_VALUES:
        # dimod's default bounds are +-(2**53 - 1): "unbounded".
        what = "is unbounded" if max(-lo, hi) >= 2**53 - 1 else "has too wide a range"
        raise ValueError(
            f"integer variable {v!r} {what}: bounds [{lo}, {hi}] hold {count} values, more "
            f"than the {MAX_INTEGER_VALUES} allowed (give it tighter bounds)"
        )
    if count < 1:
        raise ValueError(f"integer variable {v!r} has no integer in its bounds [{lo}, {hi}]")
    return np.arange(lo, hi + 1, dtype=np.float64)


def _one_hot(cqm, label, taken):
    """``"=="``/``"<="`` if constraint ``label`` is a one-hot group of free binaries, else None."""
    comparison = cqm.constraints[label]
    lhs = comparison.lhs
    sense = _SENSES[comparison.sense.name]
    if sense == ">=" or lhs.num_interactions or lhs.num_variables == 0:
        return None
    coefficients = np.fromiter((b for _, b in lhs.linear.items()), dtype=np.float64)
    a = coefficients[0]
    if a <= 0 or np.any(coefficients != a) or (comparison.rhs - lhs.offset) != a:
        return None
    if any(lhs.vartype(v) is not dimod.BINARY or v in taken for v in lhs.variables):
        return None
    return sense


def _row(expression, index):
    linear = expression.linear
    atoms = np.fromiter((index[v] for v in linear), dtype=np.int64, count=len(linear))
    coefficients = np.fromiter(linear.values(), dtype=np.float64, count=len(linear))
    quadratic = list(expression.quadratic.items())
    u = np.array([index[p[0][0]] for p in quadratic], dtype=np.int64)
    w = np.array([index[p[0][1]] for p in quadratic], dtype=np.int64)
    q = np.array([p[1] for p in quadratic], dtype=np.float64)
    return (atoms, coefficients), (u, w, q), float(expression.offset)


def _scale(row) -> float:
    """Mean magnitude of a row's coefficients (1 for a row without any)."""
    (_, lc), (_, _, qc), _ = row
    magnitudes = np.abs(np.concatenate([lc, qc]))
    magnitudes = magnitudes[magnitudes > 0]
    return float(magnitudes.mean()) if magnitudes.size else 1.0


def cqm_to_objective(cqm: dimod.ConstrainedQuadraticModel) -> CQMEncoding:
    """Encode a CQM (at least one variable) natively; see the module docstring."""
    variables = list(cqm.variables)
    if not variables:
        raise ValueError("the CQM has no variables")
    if cqm.num_soft_constraints():
        soft = next(label for label in cqm.constraints if cqm.constraints[label].lhs.is_soft())
        raise ValueError(f"constraint {soft!r} is soft: only hard constraints can be sampled")
    index = {v: k for k, v in enumerate(variables)}
    domains = [_domain(cqm, v) for v in variables]
    discrete = set(cqm.discrete)
    ordered = [c for c in cqm.constraints if c in discrete]
    ordered += [c for c in cqm.constraints if c not in discrete]
    member_of, groups, taken = {}, [], set()
    for label in ordered:
        sense = _one_hot(cqm, label, taken)
        if sense is not None:
            members = list(cqm.constraints[label].lhs.variables)
            for case, v in enumerate(members):
                member_of[v] = (len(groups), case)
            taken.update(members)
            groups.append((label, members, sense))
    values, group, labels, atom_var, atom_case = [], [], [], [], []
    engine_of_group = {}
    for v, domain in zip(variables, domains):
        if v in member_of:
            g, case = member_of[v]
            if g not in engine_of_group:
                label, members, sense = groups[g]
                engine_of_group[g] = len(values)
                values.append(np.arange(len(members) + (sense == "<="), dtype=np.float64))
                group.append(True)
                labels.append(label)
            atom_var.append(engine_of_group[g])
            atom_case.append(case)
        else:
            atom_var.append(len(values))
            atom_case.append(-1)
            values.append(domain)
            group.append(False)
            labels.append(v)
    native = {label for label, _, _ in groups}
    penalised = [c for c in cqm.constraints if c not in native]
    rows = [_row(cqm.objective, index)]
    senses, rhs = [], []
    for label in penalised:
        comparison = cqm.constraints[label]
        rows.append(_row(comparison.lhs, index))
        senses.append(_SENSES[comparison.sense.name])
        rhs.append(float(comparison.rhs))
    objective_scale = _scale(rows[0])
    weights = np.array([objective_scale / _scale(row) for row in rows[1:]])
    objective = ConstrainedObjective(values, group, atom_var, atom_case, rows, senses, rhs, weights)
    return CQMEncoding(
        objective=objective, variables=variables, labels=labels,
        native_discrete=[label for label, _, _ in groups], penalised=penalised,
        initial_weights=weights,
    )
