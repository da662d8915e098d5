"""Slow references for constrained models (CQMs), written from the definitions.

A model here is plain Python: ``values[i]`` lists variable ``i``'s values (a
group's are its cases), ``group[i]`` says whether it is a one-hot group,
``atoms`` lists ``(variable, case)`` pairs (case -1 for a numeric variable),
and each row is a list of terms ``(coefficient, atom, ...)`` with zero, one or
two atoms, so a product of two atoms is simply multiplied out.
"""


def atom_value(values, group, atoms, x, u):
    """The value of atom ``u`` when variable ``i`` is at value index ``x[i]``."""
    i, case = atoms[u]
    if group[i]:
        return 1.0 if x[i] == case else 0.0
    return float(values[i][x[i]])


def row_value(values, group, atoms, row, x):
    """A row's value: the sum of its terms, each a coefficient times its atoms' values."""
    total = 0.0
    for coefficient, *term_atoms in row:
        product = float(coefficient)
        for u in term_atoms:
            product *= atom_value(values, group, atoms, x, u)
        total += product
    return total


def violation(sense, value, rhs):
    """How far ``value`` is from satisfying ``value (sense) rhs``."""
    if sense == "<=":
        return max(value - rhs, 0.0)
    if sense == ">=":
        return max(rhs - value, 0.0)
    return abs(value - rhs)


def penalised_energy(values, group, atoms, rows, senses, rhs, weights, x):
    """Row 0 plus every constraint's multiplier times its violation."""
    energy = row_value(values, group, atoms, rows[0], x)
    for row, sense, b, w in zip(rows[1:], senses, rhs, weights):
        energy += w * violation(sense, row_value(values, group, atoms, row, x), b)
    return energy


def penalised_deltas(values, group, atoms, rows, senses, rhs, weights, x, i):
    """For each value index of variable ``i``: the penalised energy change of moving there."""
    base = penalised_energy(values, group, atoms, rows, senses, rhs, weights, x)
    out = []
    for k in range(len(values[i])):
        y = list(x)
        y[i] = k
        out.append(penalised_energy(values, group, atoms, rows, senses, rhs, weights, y) - base)
    return out
