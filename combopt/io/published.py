"""Readers for the published instance libraries: OR-Library bqp, GKA/BiqMac, G-set.

Each reader returns dimod BQMs in **minimisation** form with variables labelled
``0..n-1`` (the file's 1-based index minus one); the instance's own objective
is recovered from a BQM energy by the sense of its format:

============  ==========  ================================================
format        sense       objective from a BQM energy ``E``
============  ==========  ================================================
OR-Library    maximise    ``-E`` (``sum q_ii x_i + 2 sum_{i<j} q_ij x_i x_j``)
GKA / BiqMac  minimise    ``E``  (same expression, minimised)
G-set         maximise    ``-E`` (the cut ``sum_{ij cut} w_ij``), exactly
============  ==========  ================================================

The conventions are those of ``$COMBOPT_DATA/README.md``; see ``docs/data.md``.
Files are read strictly: every line is checked, a duplicated pair is refused
(the formats list each pair once, so a repeat means a corrupt file), and a
header whose sizes the file cannot hold is refused before allocation.
"""

from __future__ import annotations

import os

import dimod
import numpy as np

from combopt.io._text import (
    DEFAULT_MAX_VARIABLES,
    LineReader,
    check_size,
    iter_entries,
    parse_int,
)

__all__ = ["read_gka", "read_gset", "read_orlib"]


def _qubo_from_entries(reader, entries, n, sign):
    """Build a BINARY BQM ``sign * (sum q_ii x_i + 2 sum_{i<j} q_ij x_i x_j)``.

    ``entries`` yields ``(line, i, j, q)``; a pair given twice (in either order)
    is refused with both line numbers.
    """
    linear = np.zeros(n, dtype=np.float64)
    rows, cols, vals = [], [], []
    seen: dict[tuple[int, int], int] = {}
    for line, i, j, q in entries:
        key = (i, j) if i <= j else (j, i)
        first = seen.setdefault(key, line)
        if first != line:
            raise reader.error(
                line, f"pair ({i + 1}, {j + 1}) already given on line {first}"
            )
        if i == j:
            linear[i] = sign * q
        else:
            rows.append(key[0])
            cols.append(key[1])
            vals.append(sign * 2.0 * q)
    quadratic = (
        np.asarray(rows, dtype=np.int64),
        np.asarray(cols, dtype=np.int64),
        np.asarray(vals, dtype=np.float64),
    )
    return dimod.BinaryQuadraticModel.from_numpy_vectors(
        linear, quadratic, 0.0, dimod.BINARY, variable_order=range(n)
    )


def _read_header(reader, max_variables: int, max_entries, bound: str) -> tuple[int, int]:
    """Read and check a header ``n m`` whose entry count ``m`` is at most ``max_entries(n)``."""
    line, (tn, tm) = reader.next_fields(2, "header 'n m'")
    n = parse_int(reader, line, tn, "n")
    m = parse_int(reader, line, tm, "m")
    if n == 0:
        raise reader.error(line, "n = 0")
    check_size(reader, line, n, m, max_variables)
    if m > max_entries(n):
        raise reader.error(line, f"m = {m} exceeds {bound} = {max_entries(n)}")
    return n, m


def read_orlib(
    path: str | os.PathLike, *, max_variables: int = DEFAULT_MAX_VARIABLES
) -> list[dimod.BinaryQuadraticModel]:
    """Read an OR-Library ``bqp*.txt`` file (Beasley): all of its instances.

    Parameters
    ----------
    path : str or os.PathLike
        The file: a line with the instance count, then per instance a line
        ``n nnz`` and ``nnz`` lines ``i j q`` (1-indexed; each off-diagonal
        pair listed once, standing for a symmetric matrix).
    max_variables : int
        Headers claiming more variables are refused before any allocation.

    Returns
    -------
    list of dimod.BinaryQuadraticModel
        One BINARY BQM per instance, in file order, in minimisation form:
        ``E(x) = -(sum_i q_ii x_i + 2 sum_{i<j} q_ij x_i x_j)``, so the
        published (maximised) objective is ``-E``.

    Raises
    ------
    FormatError
        One line ``FILE:LINE: problem`` for any deviation from the format.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", delete=False) as f:
    ...     _ = f.write("1\\n2 3\\n1 1 5\\n2 2 -1\\n1 2 3\\n")
    >>> [bqm] = read_orlib(f.name)
    >>> -float(bqm.energy({0: 1, 1: 1}))   # 5 - 1 + 2 * 3
    10.0
    >>> os.unlink(f.name)
    """
    reader = LineReader(path)
    line, (tk,) = reader.next_fields(1, "the instance count")
    count = parse_int(reader, line, tk, "instance count")
    if count == 0:
        raise reader.error(line, "instance count is 0")
    # Each instance needs at least its header line.
    if count > reader.remaining():
        raise reader.error(
            line, f"claims {count} instances but only {reader.remaining()} lines follow"
        )
    bqms = []
    for k in range(1, count + 1):
        line, (tn, tm) = reader.next_fields(2, f"header 'n nnz' of instance {k}")
        n = parse_int(reader, line, tn, "n")
        nnz = parse_int(reader, line, tm, "nnz")
        if n == 0:
            raise reader.error(line, f"instance {k} has n = 0")
        check_size(reader, line, n, nnz, max_variables)
        if nnz > n * (n + 1) // 2:
            raise reader.error(line, f"nnz = {nnz} exceeds n(n+1)/2 = {n * (n + 1) // 2}")
        bqms.append(_qubo_from_entries(reader, iter_entries(reader, nnz, n), n, -1.0))
    reader.expect_end()
    return bqms


def read_gka(
    path: str | os.PathLike, *, max_variables: int = DEFAULT_MAX_VARIABLES
) -> dimod.BinaryQuadraticModel:
    """Read a GKA instance in BiqMac sparse format (minimisation).

    Parameters
    ----------
    path : str or os.PathLike
        First line ``n m``, then ``m`` lines ``i j q`` of the upper triangle
        with the diagonal (1-indexed).
    max_variables : int
        Headers claiming more variables are refused before any allocation.

    Returns
    -------
    dimod.BinaryQuadraticModel
        BINARY, ``E(x) = sum_i q_ii x_i + 2 sum_{i<j} q_ij x_i x_j`` (the
        published objective itself).

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".sparse", delete=False) as f:
    ...     _ = f.write("2 2\\n1 1 -4\\n1 2 1\\n")
    >>> float(read_gka(f.name).energy({0: 1, 1: 1}))   # -4 + 2 * 1
    -2.0
    >>> os.unlink(f.name)
    """
    reader = LineReader(path)
    n, m = _read_header(reader, max_variables, lambda k: k * (k + 1) // 2, "n(n+1)/2")
    bqm = _qubo_from_entries(reader, iter_entries(reader, m, n), n, 1.0)
    reader.expect_end()
    return bqm


def read_gset(
    path: str | os.PathLike,
    *,
    vartype: dimod.typing.VartypeLike = dimod.SPIN,
    max_variables: int = DEFAULT_MAX_VARIABLES,
) -> dimod.BinaryQuadraticModel:
    """Read a G-set graph (rudy format) as a Max-Cut BQM whose energy is ``-cut``.

    Parameters
    ----------
    path : str or os.PathLike
        First line ``n m``, then ``m`` lines ``i j w`` (1-indexed, undirected,
        no self-loops, each edge once).
    vartype : dimod vartype, default SPIN
        ``SPIN``: ``E(s) = sum w_ij s_i s_j / 2 - W / 2`` with ``W = sum w_ij``.
        ``BINARY``: ``E(x) = sum w_ij (2 x_i x_j - x_i - x_j)``. Both equal
        ``-cut`` exactly for every partition (the weights are integers, so the
        halves are exact in binary floating point).
    max_variables : int
        Headers claiming more variables are refused before any allocation.

    Returns
    -------
    dimod.BinaryQuadraticModel
        Energy ``-cut``: the cut value is ``-E``.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", delete=False) as f:
    ...     _ = f.write("3 2 \\r\\n1 2 1\\r\\n2 3 -1\\r\\n")
    >>> bqm = read_gset(f.name)
    >>> -float(bqm.energy({0: -1, 1: 1, 2: 1}))   # edge (1,2) cut, (2,3) not
    1.0
    >>> os.unlink(f.name)
    """
    vartype = dimod.as_vartype(vartype)
    reader = LineReader(path)
    n, m = _read_header(reader, max_variables, lambda k: k * (k - 1) // 2, "n(n-1)/2")
    rows = np.empty(m, dtype=np.int64)
    cols = np.empty(m, dtype=np.int64)
    weights = np.empty(m, dtype=np.float64)
    seen: dict[tuple[int, int], int] = {}
    for k, (line, i, j, w) in enumerate(iter_entries(reader, m, n, "edge 'i j w'")):
        if i == j:
            raise reader.error(line, f"self-loop on vertex {i + 1}")
        key = (i, j) if i < j else (j, i)
        first = seen.setdefault(key, line)
        if first != line:
            raise reader.error(line, f"edge ({i + 1}, {j + 1}) already given on line {first}")
        rows[k], cols[k], weights[k] = key[0], key[1], w
    reader.expect_end()
    if vartype is dimod.SPIN:
        linear = np.zeros(n)
        quad = (rows, cols, weights / 2.0)
        offset = -weights.sum() / 2.0
    else:
        linear = -(np.bincount(rows, weights, n) + np.bincount(cols, weights, n))
        quad = (rows, cols, 2.0 * weights)
        offset = 0.0
    return dimod.BinaryQuadraticModel.from_numpy_vectors(
        linear, quad, offset, vartype, variable_order=range(n)
    )
