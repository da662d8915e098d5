"""A strict reader for DIMACS graph colouring files (``.col``).

The format: ``c`` comment lines, exactly one problem line ``p edge N M`` (or
``p col N M``) before any edge, then edge lines ``e u v`` with vertices in
``1..N``. Some published files list every edge twice, once in each direction
(the queens graphs): ``e u v`` and ``e v u`` are one edge, and ``M`` may count
either the edge lines or the distinct edges. Everything else is refused with
the line number: a missing or repeated problem line, a self-loop, a vertex
outside ``1..N``, an unknown line type, a header ``M`` matching neither count.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from combopt.io._text import DEFAULT_MAX_VARIABLES, FormatError, LineReader, parse_int

__all__ = ["ColGraph", "read_col"]


class ColGraph(NamedTuple):
    """A graph read from a ``.col`` file.

    Attributes
    ----------
    name : str
        The file name without ``.col``.
    num_vertices : int
        ``N`` of the problem line; vertices are ``0..N-1`` (the file's ids minus one).
    edges : ndarray of int64, shape (E, 2)
        Each distinct edge once, ``u < v``, sorted.
    """

    name: str
    num_vertices: int
    edges: np.ndarray


def read_col(path: str | os.PathLike, *, max_vertices: int = DEFAULT_MAX_VARIABLES) -> ColGraph:
    """Read a DIMACS ``.col`` graph strictly.

    Parameters
    ----------
    path : str or os.PathLike
    max_vertices : int
        A problem line claiming more vertices is refused before allocation.

    Returns
    -------
    ColGraph

    Raises
    ------
    FormatError
        A ``ValueError`` with the one-line message ``FILE:LINE: problem``.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".col", delete=False) as f:
    ...     _ = f.write("c triangle\\np edge 3 4\\ne 1 2\\ne 2 3\\ne 3 1\\ne 2 1\\n")
    >>> g = read_col(f.name)
    >>> g.num_vertices, g.edges.tolist()
    (3, [[0, 1], [0, 2], [1, 2]])
    >>> os.unlink(f.name)
    """
    reader = LineReader(path, comment="c")
    name = os.path.basename(os.fspath(path)).removesuffix(".col")
    header_line, n, m = None, 0, 0
    us, vs = [], []
    while reader.remaining():
        line, fields = reader.next_line()
        kind = fields[0]
        if kind == "p":
            if header_line is not None:
                raise reader.error(
                    line, f"second problem line (the first is on line {header_line})"
                )
            if len(fields) != 4 or fields[1] not in ("edge", "col"):
                raise reader.error(line, "expected the problem line 'p edge N M'")
            n = parse_int(reader, line, fields[2], "N")
            m = parse_int(reader, line, fields[3], "M")
            if n == 0:
                raise reader.error(line, "N = 0: a graph needs a vertex")
            if n > max_vertices:
                raise reader.error(line, f"N = {n} vertices is above the limit of {max_vertices}")
            if m > reader.remaining():
                raise reader.error(
                    line, f"M = {m} edges but only {reader.remaining()} lines follow (truncated?)"
                )
            header_line = line
        elif kind == "e":
            if header_line is None:
                raise reader.error(line, "edge before the problem line 'p edge N M'")
            if len(fields) != 3:
                raise reader.error(line, f"expected 'e u v', got {len(fields)} fields")
            u = parse_int(reader, line, fields[1], "vertex u")
            v = parse_int(reader, line, fields[2], "vertex v")
            for w in (u, v):
                if not 1 <= w <= n:
                    raise reader.error(line, f"vertex {w} is outside 1..{n}")
            if u == v:
                raise reader.error(line, f"self-loop on vertex {u}: no colouring exists")
            us.append(u)
            vs.append(v)
        else:
            raise reader.error(line, f"unknown line type {kind!r} (expected c, p or e)")
    if header_line is None:
        raise FormatError(reader.path, None, "no problem line 'p edge N M'")
    pairs = np.sort(np.array([us, vs], dtype=np.int64).reshape(2, -1).T - 1, axis=1)
    edges = np.unique(pairs, axis=0).reshape(-1, 2)
    if m not in (len(us), edges.shape[0]):
        raise reader.error(
            header_line,
            f"M = {m} but the file lists {len(us)} edge lines ({edges.shape[0]} distinct edges)",
        )
    return ColGraph(name, n, edges)
