"""Constrained finite-domain quadratic models with penalised constraints.

The native form of a dimod CQM (see :mod:`combopt.adapters.cqm`): numeric
variables (binary, spin, bounded integer) take values of their own domain,
one-hot groups of binaries are single categorical variables, and every other
constraint is a row whose value the kernel keeps up to date, penalised by
its multiplier times its violation.
"""

from __future__ import annotations

import numpy as np

from combopt._kernels.constrained import ConstrainedProblem
from combopt.domain import Domain
from combopt.objectives.base import Objective, as_finite_array

__all__ = ["SENSES", "ConstrainedObjective"]

#: Constraint senses and their kernel codes (0 is the objective row).
SENSES = {"<=": 1, ">=": 2, "==": 3}


def _index_array(name, idx, size):
    idx = np.asarray(idx)
    if idx.size and not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"{name} must hold integer atom indices")
    idx = idx.astype(np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise ValueError(f"{name} holds an atom outside 0..{size - 1}")
    return idx


class ConstrainedObjective(Objective):
    """``v_0(x) + sum_e w_e viol_e(v_e(x))``: an objective row and penalised constraint rows.

    Parameters
    ----------
    values : sequence of array_like, length n
        Variable ``i``'s values: its numeric values (distinct) or, for a group,
        ``range(m_i)`` (its cases).
    group : sequence of bool, shape (n,)
        True for a one-hot group (case ``a`` sets member ``a`` to 1, the others
        to 0; a group may have a case with no member, which sets all to 0).
    atom_var, atom_case : sequence of int, shape (A,)
        The original variables ("atoms"): atom ``u`` is numeric variable
        ``atom_var[u]`` (``atom_case[u] == -1``; one atom per numeric variable)
        or the member of group ``atom_var[u]`` that is 1 in case ``atom_case[u]``.
    rows : sequence of (linear, quadratic, offset), length E
        Row 0 is the objective, rows 1.. the constraints' left-hand sides.
        ``linear = (atoms, coefficients)``; ``quadratic = (atoms_u, atoms_w,
        coefficients)`` (a square when ``u == w``). Duplicates add up. A term
        between two members of one group is dropped (their product is always
        0) and a member's square is its own value.
    senses : sequence of str, length E - 1
        ``"<="``, ``">="`` or ``"=="``, one per constraint.
    rhs : sequence of float, length E - 1
    weights : sequence of float, length E - 1, optional
        Penalty multipliers (1 by default), each ``>= 0``.

    Examples
    --------
    Choose one of three items (a group) and an integer ``t`` in 0..3 with
    ``value(item) + t <= 3``, maximising ``2 t + value``:

    >>> import numpy as np
    >>> values = [np.arange(3), np.arange(4.0)]
    >>> atoms = ([0, 0, 0, 1], [0, 1, 2, -1])          # items a, b, c, then t
    >>> objective_row = (([0, 1, 2, 3], [-1.0, -2.0, -3.0, -2.0]), None, 0.0)
    >>> capacity = (([0, 1, 2, 3], [1.0, 2.0, 3.0, 1.0]), None, 0.0)
    >>> obj = ConstrainedObjective(values, [True, False], *atoms, [objective_row, capacity],
    ...                            ["<="], [3.0], weights=[10.0])
    >>> obj.row_values([[0, 2]]).tolist(), float(obj.energy([0, 2]))
    ([[-5.0, 3.0]], -5.0)
    >>> float(obj.energy([2, 3]))  # -3 - 6 and a violation of 3, at 10 each
    21.0
    >>> from combopt import solve
    >>> result = solve(obj, strategy="tabu", seed=0, max_iterations=20)
    >>> float(result.energy), result.x.tolist()   # item a, t = 2
    (-5.0, [0.0, 2.0])
    """

    def __init__(self, values, group, atom_var, atom_case, rows, senses, rhs, weights=None):
        self.values = [as_finite_array(f"values[{i}]", v, ndim=(1,)) for i, v in enumerate(values)]
        n = len(self.values)
        if n == 0:
            raise ValueError("a constrained model needs at least one variable")
        self.group = np.asarray(group, dtype=bool).reshape(-1)
        if self.group.shape != (n,):
            raise ValueError(f"group must have one flag per variable ({n}), got {self.group.shape}")
        for i, v in enumerate(self.values):
            if v.size == 0 or np.unique(v).size != v.size:
                raise ValueError(f"variable {i} needs distinct values, got {v.tolist()}")
            if self.group[i] and not np.array_equal(v, np.arange(v.size)):
                raise ValueError(f"group {i} must take the values 0..{v.size - 1} (its cases)")
        self.num_variables = n
        self.atom_var, self.atom_case = self._check_atoms(atom_var, atom_case)
        senses, rhs = list(senses), np.asarray(rhs, dtype=np.float64).reshape(-1)
        if len(rows) != len(senses) + 1 or rhs.shape != (len(senses),):
            raise ValueError(
                f"need one sense and one rhs per constraint row: {len(rows) - 1} rows, "
                f"{len(senses)} senses, {rhs.size} right-hand sides"
            )
        unknown = [s for s in senses if s not in SENSES]
        if unknown:
            raise ValueError(f"unknown constraint sense {unknown[0]!r} (use <=, >= or ==)")
        self.senses, self.rhs = senses, as_finite_array("rhs", rhs, ndim=(1,))
        self.rows = [self._normalise_row(e, row) for e, row in enumerate(rows)]
        self.weights = self._check_weights(np.ones(len(senses)) if weights is None else weights)
        self._lowered = None

    def _check_atoms(self, atom_var, atom_case):
        var = _index_array("atom_var", atom_var, self.num_variables)
        case = np.asarray(atom_case).astype(np.int64).reshape(-1)
        if case.shape != var.shape:
            raise ValueError("atom_var and atom_case must have one shape")
        sizes = np.array([v.size for v in self.values])
        numeric = ~self.group[var]
        if np.any(case[numeric] != -1):
            raise ValueError("a numeric variable's atom has case -1")
        if np.any((case[~numeric] < 0) | (case[~numeric] >= sizes[var[~numeric]])):
            raise ValueError("a group member's case is outside its group's cases")
        pairs = var * (sizes.max() + 1) + case
        if np.unique(pairs).size != pairs.size:
            raise ValueError("two atoms name the same variable and case")
        missing = np.setdiff1d(np.flatnonzero(~self.group), var[numeric])
        if missing.size:
            raise ValueError(f"numeric variable {int(missing[0])} has no atom")
        return var, case

    def _check_weights(self, weights):
        weights = as_finite_array("weights", weights, ndim=(1,))
        if weights.shape != (len(self.senses),) or np.any(weights < 0):
            raise ValueError(f"weights must be {len(self.senses)} numbers >= 0")
        return weights

    def _normalise_row(self, e, row):
        """Row ``e`` as merged ``(lin_atoms, lin, u, w, quad, sq_atoms, sq, offset)`` arrays."""
        linear, quadratic, offset = row
        size = self.atom_var.size
        la, lc = (np.zeros(0, np.int64), np.zeros(0)) if linear is None else linear
        la = _index_array(f"row {e} linear atoms", la, size)
        lc = as_finite_array(f"row {e} linear coefficients", lc, ndim=(1,))
        none = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        qu, qw, qc = none if quadratic is None else quadratic
        qu = _index_array(f"row {e} quadratic atoms", qu, size)
        qw = _index_array(f"row {e} quadratic atoms", qw, size)
        qc = as_finite_array(f"row {e} quadratic coefficients", qc, ndim=(1,))
        if la.shape != lc.shape or qu.shape != qc.shape or qw.shape != qc.shape:
            raise ValueError(f"row {e}: atoms and coefficients must have one shape")
        same_var = self.atom_var[qu] == self.atom_var[qw]
        member = self.group[self.atom_var[qu]]
        # A member's square is the member itself; two members of a group are never both 1.
        folded = same_var & member & (qu == qw)
        la, lc = np.concatenate([la, qu[folded]]), np.concatenate([lc, qc[folded]])
        square = same_var & ~member
        keep = ~same_var
        u, w = np.minimum(qu[keep], qw[keep]), np.maximum(qu[keep], qw[keep])
        lin_atoms, lin = _merge(la, lc)
        sq_atoms, sq = _merge(qu[square], qc[square])
        pair, quad = _merge(u * size + w, qc[keep])
        offset = float(offset)
        if not np.isfinite(offset):
            raise ValueError(f"row {e}: offset must be finite")
        return lin_atoms, lin, pair // size, pair % size, quad, sq_atoms, sq, offset

    def with_weights(self, weights) -> ConstrainedObjective:
        """The same model with other penalty multipliers (shares the lowered arrays)."""
        other = object.__new__(ConstrainedObjective)
        other.__dict__.update(self.__dict__)
        other.weights = self._check_weights(weights)
        if self._lowered is not None:
            problem, length = self._lowered
            other._lowered = (problem._replace(weight=np.concatenate([[0.0], other.weights])),
                              length)
        return other

    def default_domain(self) -> Domain:
        """``Domain.per_variable(values)``: numeric values, or a group's case indices."""
        return Domain.per_variable(self.values)

    def atom_values(self, x) -> np.ndarray:
        """Every atom's value at ``x`` (shape (n,) or (k, n)): shape (..., A)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1:] != (self.num_variables,):
            raise ValueError(f"x must have {self.num_variables} variables, got shape {x.shape}")
        at = x[..., self.atom_var]
        return np.where(self.atom_case < 0, at, (at == self.atom_case).astype(np.float64))

    def row_values(self, x) -> np.ndarray:
        """``v_e(x)`` for every row (objective first): shape (..., E)."""
        a = self.atom_values(x)
        out = []
        for la, lc, u, w, qc, sa, sc, offset in self.rows:
            out.append(offset + a[..., la] @ lc + (a[..., u] * a[..., w]) @ qc
                       + (a[..., sa] ** 2) @ sc)
        return np.stack(out, axis=-1)

    def violations(self, x) -> np.ndarray:
        """Each constraint's violation at ``x``: shape (..., E - 1), 0 where satisfied."""
        v = self.row_values(x)[..., 1:]
        over, under = np.maximum(v - self.rhs, 0.0), np.maximum(self.rhs - v, 0.0)
        codes = np.array([SENSES[s] for s in self.senses])
        return np.where(codes == 1, over, np.where(codes == 2, under, over + under))

    def energy(self, x):
        """The penalised energy ``v_0 + sum_e w_e viol_e`` of ``x``, shape (n,) or (k, n)."""
        return self.row_values(x)[..., 0] + self.violations(x) @ self.weights

    def _lower(self):
        if self._lowered is None:
            self._lowered = self._build()
        return self._lowered

    def _build(self):
        size = self.atom_var.size
        slot_expr, slot_atom, lin, sq = [], [], [], []
        pairs = []
        for e, (la, lc, u, w, qc, sa, sc, _) in enumerate(self.rows):
            atoms = np.unique(np.concatenate([la, u, w, sa]))
            local = np.full(size, -1, dtype=np.int64)
            local[atoms] = np.arange(atoms.size) + len(slot_atom)
            row_lin, row_sq = np.zeros(atoms.size), np.zeros(atoms.size)
            np.add.at(row_lin, local[la] - len(slot_atom), lc)
            np.add.at(row_sq, local[sa] - len(slot_atom), sc)
            slot_expr.extend([e] * atoms.size)
            slot_atom.extend(atoms.tolist())
            lin.append(row_lin)
            sq.append(row_sq)
            pairs.append((local[u], local[w], qc))
        slot_expr = np.asarray(slot_expr, dtype=np.int64)
        slot_atom = np.asarray(slot_atom, dtype=np.int64)
        lin, sq = np.concatenate(lin), np.concatenate(sq)
        slot_var, slot_case = self.atom_var[slot_atom], self.atom_case[slot_atom]
        # Slots in (variable, expression, case) order: each variable's blocks are contiguous.
        order = np.lexsort((slot_case, slot_expr, slot_var))
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        pu = np.concatenate([p[0] for p in pairs]) if pairs else np.zeros(0, np.int64)
        pw = np.concatenate([p[1] for p in pairs]) if pairs else np.zeros(0, np.int64)
        pc = np.concatenate([p[2] for p in pairs]) if pairs else np.zeros(0)
        src, dst = np.concatenate([rank[pu], rank[pw]]), np.concatenate([rank[pw], rank[pu]])
        val = np.concatenate([pc, pc])
        by_src = np.argsort(src, kind="stable")
        coup_ptr = np.zeros(order.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=order.size), out=coup_ptr[1:])
        slot_var, slot_case, slot_expr = slot_var[order], slot_case[order], slot_expr[order]
        new_block = np.ones(order.size, dtype=bool)
        new_block[1:] = (slot_var[1:] != slot_var[:-1]) | (slot_expr[1:] != slot_expr[:-1])
        block_start = np.flatnonzero(new_block)
        block_var = slot_var[block_start]
        var_block_ptr = np.zeros(self.num_variables + 1, dtype=np.int64)
        np.cumsum(np.bincount(block_var, minlength=self.num_variables), out=var_block_ptr[1:])
        problem = ConstrainedProblem(
            group=self.group.astype(np.int64),
            var_block_ptr=var_block_ptr,
            block_expr=np.ascontiguousarray(slot_expr[block_start]),
            block_slot_ptr=np.append(block_start, order.size).astype(np.int64),
            slot_var=np.ascontiguousarray(slot_var),
            slot_case=np.ascontiguousarray(slot_case),
            slot_expr=np.ascontiguousarray(slot_expr),
            slot_lin=np.ascontiguousarray(lin[order]),
            slot_sq=np.ascontiguousarray(sq[order]),
            coup_ptr=coup_ptr,
            coup_slot=np.ascontiguousarray(dst[by_src], dtype=np.int64),
            coup_val=np.ascontiguousarray(val[by_src], dtype=np.float64),
            expr_offset=np.array([row[-1] for row in self.rows]),
            expr_rhs=np.concatenate([[0.0], self.rhs]),
            expr_sense=np.array([0] + [SENSES[s] for s in self.senses], dtype=np.int64),
            weight=np.concatenate([[0.0], self.weights]),
        )
        return problem, len(self.rows) + order.size


def _merge(keys, coefficients):
    """Sum the coefficients of equal keys: ``(unique keys, sums)``."""
    keys = np.asarray(keys, dtype=np.int64)
    unique, inverse = np.unique(keys, return_inverse=True)
    sums = np.zeros(unique.size)
    np.add.at(sums, inverse.reshape(-1), np.asarray(coefficients, dtype=np.float64))
    return unique, sums
