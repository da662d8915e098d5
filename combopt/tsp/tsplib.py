"""TSPLIB95 reader and the :class:`TSPInstance` every TSP routine takes.

Written here rather than taken from ``tsplib95``, which pins networkx 2.x and
would drag the whole stack back (see ``docs/tsp.md``). Supported:

* ``TYPE: TSP`` files with ``EDGE_WEIGHT_TYPE`` ``EUC_2D``, ``CEIL_2D``,
  ``MAN_2D``, ``MAX_2D``, ``ATT``, ``GEO`` (coordinates in ``NODE_COORD_SECTION``)
  and ``EXPLICIT`` with ``EDGE_WEIGHT_FORMAT`` ``FULL_MATRIX``, ``UPPER_ROW``,
  ``LOWER_ROW``, ``UPPER_DIAG_ROW``, ``LOWER_DIAG_ROW`` (and their ``*_COL``
  twins, which for a symmetric matrix are the transposed row formats);
  ``DISPLAY_DATA_SECTION`` coordinates are kept for plotting;
* ``TYPE: TOUR`` files (``.opt.tour``) through :func:`read_tour`.

Distances follow the TSPLIB95 definitions to the last digit (``nint`` is
rounding half up; ``GEO`` uses ``PI = 3.141592``, ``RRR = 6378.388`` and the
``DDD.MM`` degree-minute coordinates with the degrees truncated). A malformed
file raises :class:`TSPLIBError` (a ``ValueError``) with a one-line message
naming the file and the line.
"""

from __future__ import annotations

import math
import os

import numpy as np

__all__ = [
    "TSPInstance",
    "TSPLIBError",
    "check_tour",
    "coordinate_distances",
    "read_tour",
    "read_tsplib",
    "tour_length",
]

#: Coordinate-based edge weight types this reader computes.
COORD_TYPES = ("EUC_2D", "CEIL_2D", "MAN_2D", "MAX_2D", "ATT", "GEO")

#: Explicit matrix formats; a ``*_COL`` format of a symmetric matrix is the
#: transposed ``*_ROW`` format, so it is read as its row twin.
MATRIX_FORMATS = {
    "FULL_MATRIX": "FULL_MATRIX",
    "UPPER_ROW": "UPPER_ROW",
    "LOWER_ROW": "LOWER_ROW",
    "UPPER_DIAG_ROW": "UPPER_DIAG_ROW",
    "LOWER_DIAG_ROW": "LOWER_DIAG_ROW",
    "UPPER_COL": "LOWER_ROW",
    "LOWER_COL": "UPPER_ROW",
    "UPPER_DIAG_COL": "LOWER_DIAG_ROW",
    "LOWER_DIAG_COL": "UPPER_DIAG_ROW",
}

_SECTIONS = (
    "NODE_COORD_SECTION",
    "EDGE_WEIGHT_SECTION",
    "DISPLAY_DATA_SECTION",
    "TOUR_SECTION",
    "DEPOT_SECTION",
    "DEMAND_SECTION",
    "EDGE_DATA_SECTION",
    "FIXED_EDGES_SECTION",
)

# A file this large cannot be a TSPLIB instance the solvers could handle, and
# reading it would only allocate a huge matrix.
_MAX_DIMENSION = 100_000
#: Coordinate instances above this many cities are read without a distance matrix
#: (2000 cities: 32 MB); :attr:`TSPInstance.distances` computes it on first use.
LAZY_MATRIX_N = 2000
#: Largest matrix :attr:`TSPInstance.distances` will compute (20000 cities: 3.2 GB).
MAX_MATRIX_N = 20_000


class TSPLIBError(ValueError):
    """A malformed or unsupported TSPLIB file (message names file and line)."""


class TSPInstance:
    """A travelling-salesman instance: a distance matrix and optional coordinates.

    Parameters
    ----------
    name : str
        Instance name (``NAME`` of a TSPLIB file, or given by the caller).
    distances : numpy.ndarray, shape (n, n), float64, optional
        ``distances[i, j]`` is the cost of travelling from city ``i`` to ``j``.
        TSPLIB instances are symmetric with integral weights. ``None`` with
        ``node_coordinates`` and a coordinate ``edge_weight_type``: the matrix
        is computed the first time :attr:`distances` is read, so a large
        coordinate instance need never hold it (the successor encoding
        computes its distances from the coordinates).
    coordinates : numpy.ndarray, shape (n, 2), float64, or None
        Node or display coordinates for plotting (``GEO``: latitude, longitude
        in ``DDD.MM``), ``None`` when the source has none.
    edge_weight_type : str
        ``EUC_2D``, ``GEO``, ``EXPLICIT``, ... or ``MATRIX`` / ``GRAPH`` for
        instances built by :mod:`combopt.tsp.sources`.
    comment : str
        The file's ``COMMENT`` line, if any.
    node_coordinates : numpy.ndarray, shape (n, 2), optional
        The coordinates the distances are defined by (``NODE_COORD_SECTION``),
        for a coordinate ``edge_weight_type``.

    Examples
    --------
    >>> import numpy as np
    >>> inst = TSPInstance("square", np.array([[0, 1, 2, 1], [1, 0, 1, 2],
    ...                                        [2, 1, 0, 1], [1, 2, 1, 0]], float))
    >>> inst.n, inst.tour_length([0, 1, 2, 3])
    (4, 4.0)
    >>> lazy = TSPInstance("line", None, edge_weight_type="EUC_2D",
    ...                    node_coordinates=[[0, 0], [3, 4], [6, 8]])
    >>> lazy.has_matrix, lazy.tour_length([0, 1, 2]), lazy.has_matrix
    (False, 20.0, False)
    >>> lazy.distances[0].tolist(), lazy.has_matrix
    ([0.0, 5.0, 10.0], True)
    """

    def __init__(self, name: str, distances=None, coordinates=None,
                 edge_weight_type: str = "MATRIX", comment: str = "", *,
                 node_coordinates=None):
        self.name = name
        self.edge_weight_type = edge_weight_type
        self.comment = comment
        nodes = None
        if node_coordinates is not None:
            nodes = np.ascontiguousarray(node_coordinates, dtype=np.float64)
            if nodes.ndim != 2 or nodes.shape[1] != 2 or not np.isfinite(nodes).all():
                raise ValueError("node_coordinates must be finite, of shape (n, 2), "
                                 f"got {nodes.shape}")
        if distances is None:
            if nodes is None or edge_weight_type not in COORD_TYPES:
                raise ValueError("without distances, give node_coordinates and a coordinate "
                                 f"edge_weight_type ({', '.join(COORD_TYPES)})")
            d = None
            n = nodes.shape[0]
        else:
            d = np.ascontiguousarray(distances, dtype=np.float64)
            if d.ndim != 2 or d.shape[0] != d.shape[1]:
                raise ValueError(f"distances must be a square matrix, got shape {d.shape}")
            if not np.isfinite(d).all():
                raise ValueError("distances must be finite")
            n = d.shape[0]
        if n < 2:
            raise ValueError(f"a tour needs at least 2 cities, got {n}")
        if nodes is not None and nodes.shape[0] != n:
            raise ValueError(f"node_coordinates must have shape ({n}, 2), got {nodes.shape}")
        self._distances = d
        self.node_coordinates = nodes
        if coordinates is not None:
            c = np.ascontiguousarray(coordinates, dtype=np.float64)
            if c.shape != (n, 2):
                raise ValueError(f"coordinates must have shape ({n}, 2), got {c.shape}")
            coordinates = c
        self.coordinates = coordinates
        self._n = n

    def __repr__(self) -> str:
        return (f"TSPInstance(name={self.name!r}, n={self.n}, "
                f"edge_weight_type={self.edge_weight_type!r})")

    @property
    def distances(self) -> np.ndarray:
        """The (n, n) float64 distance matrix (computed, and kept, at the first read when lazy)."""
        if self._distances is None:
            n = self.n
            if n > MAX_MATRIX_N:
                raise ValueError(f"{self.name}: an {n} x {n} distance matrix would take "
                                 f"{8 * n * n / 1e9:.1f} GB; the successor encoding needs none")
            self._distances = coordinate_distances(self.node_coordinates, self.edge_weight_type)
        return self._distances

    @property
    def has_matrix(self) -> bool:
        """Whether the distance matrix is held (``False`` while a lazy one is unread)."""
        return self._distances is not None

    @property
    def n(self) -> int:
        """Number of cities."""
        return self._n

    @property
    def symmetric(self) -> bool:
        """Whether ``distances`` equals its transpose (coordinate metrics always are)."""
        if self._distances is None:
            return True
        return bool(np.array_equal(self._distances, self._distances.T))

    def tour_length(self, tour) -> float:
        """Length of the closed tour ``tour`` (a permutation of ``range(n)``)."""
        if self._distances is not None:
            return tour_length(self._distances, tour)
        t = check_tour(tour, self.n)
        a, b = self.node_coordinates[t], self.node_coordinates[np.roll(t, -1)]
        return float(_pair_distances(a, b, self.edge_weight_type).sum())


def check_tour(tour, n: int) -> np.ndarray:
    """Return ``tour`` as an ``int64`` array after checking it visits each of n cities once.

    Parameters
    ----------
    tour : array_like of int, shape (n,)
    n : int

    Returns
    -------
    numpy.ndarray, shape (n,), int64

    Raises
    ------
    ValueError
        If ``tour`` is not a permutation of ``range(n)``.

    Examples
    --------
    >>> check_tour([2, 0, 1], 3)
    array([2, 0, 1])
    """
    t = np.asarray(tour)
    if t.shape != (n,) or not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"a tour must be {n} integer city indices, got shape {t.shape}")
    t = t.astype(np.int64)
    if t.min() < 0 or t.max() >= n or np.unique(t).size != n:
        raise ValueError(f"a tour must visit each of the {n} cities exactly once")
    return t


def tour_length(distances: np.ndarray, tour) -> float:
    """Length of a closed tour: ``sum_p distances[tour[p], tour[p + 1 mod n]]``.

    Parameters
    ----------
    distances : numpy.ndarray, shape (n, n)
    tour : array_like of int, shape (n,)
        A permutation of ``range(n)``; checked.

    Examples
    --------
    >>> import numpy as np
    >>> tour_length(np.array([[0, 2, 9], [2, 0, 4], [9, 4, 0]], float), [0, 1, 2])
    15.0
    """
    t = check_tour(tour, distances.shape[0])
    return float(distances[t, np.roll(t, -1)].sum())


# --------------------------------------------------------------------------- reading


class _Lines:
    """The lines of a TSPLIB file with 1-based numbers, for error messages."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self.label = os.path.basename(self.path)
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            self.lines = fh.read().splitlines()

    def error(self, lineno: int | None, message: str) -> TSPLIBError:
        where = f"{self.label} line {lineno}" if lineno else self.label
        return TSPLIBError(f"{where}: {message}")


def _keyword(line: str) -> str | None:
    """The section keyword a line opens (``None`` for a data line)."""
    head = line.strip().split(":")[0].strip().upper()
    if head in _SECTIONS or head == "EOF":
        return head
    return None


def _parse(src: _Lines):
    """Split a TSPLIB file into a header dict and sections of numbered tokens."""
    header: dict[str, tuple[str, int]] = {}
    sections: dict[str, tuple[int, list[tuple[str, int]]]] = {}
    current = None
    for lineno, raw in enumerate(src.lines, start=1):
        line = raw.strip()
        if not line:
            continue
        key = _keyword(line)
        if key == "EOF":
            break
        if key is not None:
            if key in sections:
                raise src.error(lineno, f"section {key} appears twice")
            current = (lineno, [])
            sections[key] = current
            continue
        if current is None or (":" in line and line[0].isalpha()):
            if ":" not in line:
                raise src.error(lineno, f"expected 'KEY : VALUE', got {line[:40]!r}")
            name, value = line.split(":", 1)
            header[name.strip().upper()] = (value.strip(), lineno)
            current = None
            continue
        current[1].extend((tok, lineno) for tok in line.split())
    return header, sections


def _number(src: _Lines, tok: str, lineno: int) -> float:
    try:
        value = float(tok)
    except ValueError:
        raise src.error(lineno, f"expected a number, got {tok!r}") from None
    if not math.isfinite(value):
        raise src.error(lineno, f"expected a finite number, got {tok!r}")
    return value


def _dimension(src: _Lines, header) -> int:
    if "DIMENSION" not in header:
        raise src.error(None, "missing DIMENSION")
    text, lineno = header["DIMENSION"]
    try:
        n = int(text)
    except ValueError:
        raise src.error(lineno, f"DIMENSION must be an integer, got {text!r}") from None
    if not 2 <= n <= _MAX_DIMENSION:
        raise src.error(lineno, f"DIMENSION must be between 2 and {_MAX_DIMENSION}, got {n}")
    return n


def _coordinates(src: _Lines, name: str, section, n: int) -> np.ndarray:
    """Read ``n`` lines ``id x y`` (ids 1..n in any order) into an (n, 2) array."""
    start, tokens = section
    rows: dict[int, list[tuple[str, int]]] = {}
    for tok, lineno in tokens:
        rows.setdefault(lineno, []).append((tok, lineno))
    coords = np.full((n, 2), np.nan)
    for lineno, row in rows.items():
        if len(row) != 3:
            raise src.error(lineno, f"{name} expects 'id x y', got {len(row)} fields")
        node = _number(src, row[0][0], lineno)
        if node != int(node) or not 1 <= node <= n:
            raise src.error(lineno, f"node id must be an integer in 1..{n}, got {row[0][0]}")
        if not np.isnan(coords[int(node) - 1, 0]):
            raise src.error(lineno, f"node {int(node)} listed twice in {name}")
        coords[int(node) - 1] = (_number(src, row[1][0], lineno), _number(src, row[2][0], lineno))
    if len(rows) != n:
        last = max(rows) if rows else start
        raise src.error(last, f"{name} lists {len(rows)} nodes, DIMENSION is {n}")
    return coords


def _nint(x: np.ndarray) -> np.ndarray:
    """TSPLIB ``nint``: ``(int)(x + 0.5)`` for the non-negative values used here."""
    return np.floor(x + 0.5)


def _geo_radians(c: np.ndarray) -> np.ndarray:
    """TSPLIB ``GEO`` conversion of ``DDD.MM`` to radians (degrees truncated)."""
    pi = 3.141592
    deg = np.trunc(c)
    return pi * (deg + 5.0 * (c - deg) / 3.0) / 180.0


def _pair_distances(p: np.ndarray, q: np.ndarray, kind: str) -> np.ndarray:
    """TSPLIB distances between points ``p[..., :]`` and ``q[..., :]`` (broadcast), elementwise."""
    dx = p[..., 0] - q[..., 0]
    dy = p[..., 1] - q[..., 1]
    if kind == "EUC_2D":
        return _nint(np.sqrt(dx * dx + dy * dy))
    if kind == "CEIL_2D":
        return np.ceil(np.sqrt(dx * dx + dy * dy))
    if kind == "MAN_2D":
        return _nint(np.abs(dx) + np.abs(dy))
    if kind == "MAX_2D":
        return np.maximum(_nint(np.abs(dx)), _nint(np.abs(dy)))
    if kind == "ATT":
        r = np.sqrt((dx * dx + dy * dy) / 10.0)
        t = _nint(r)
        return np.where(t < r, t + 1.0, t)
    if kind == "GEO":
        lat_p, lon_p = _geo_radians(p[..., 0]), _geo_radians(p[..., 1])
        lat_q, lon_q = _geo_radians(q[..., 0]), _geo_radians(q[..., 1])
        q1 = np.cos(lon_p - lon_q)
        q2 = np.cos(lat_p - lat_q)
        q3 = np.cos(lat_p + lat_q)
        # Rounding can push the argument a hair past 1 for nearby cities.
        arg = np.clip(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3), -1.0, 1.0)
        return np.floor(6378.388 * np.arccos(arg) + 1.0)
    raise ValueError(f"unsupported EDGE_WEIGHT_TYPE {kind!r}")


def coordinate_distances(coords: np.ndarray, kind: str) -> np.ndarray:
    """The TSPLIB distance matrix of coordinates under an edge weight type.

    Parameters
    ----------
    coords : numpy.ndarray, shape (n, 2)
    kind : str
        One of :data:`COORD_TYPES`.

    Returns
    -------
    numpy.ndarray, shape (n, n), float64, integral values, zero diagonal

    Examples
    --------
    >>> import numpy as np
    >>> float(coordinate_distances(np.array([[0.0, 0.0], [3.0, 4.4]]), "EUC_2D")[0, 1])
    5.0
    """
    d = _pair_distances(coords[:, None, :], coords[None, :, :], kind)
    np.fill_diagonal(d, 0.0)
    return d


def _matrix(src: _Lines, fmt: str, fmt_line: int, section, n: int) -> np.ndarray:
    """Fill the (n, n) matrix from the flat weights of an EDGE_WEIGHT_SECTION."""
    start, tokens = section
    if fmt not in MATRIX_FORMATS:
        raise src.error(fmt_line, f"unsupported EDGE_WEIGHT_FORMAT {fmt!r}")
    kind = MATRIX_FORMATS[fmt]
    if kind == "FULL_MATRIX":
        rows, cols = np.divmod(np.arange(n * n), n)
    else:
        k = 0 if "DIAG" in kind else 1
        rows, cols = np.triu_indices(n, k) if kind.startswith("UPPER") else np.tril_indices(n, -k)
    need = rows.size
    if len(tokens) < need:
        last = tokens[-1][1] if tokens else start
        raise src.error(last, f"EDGE_WEIGHT_SECTION ends with {len(tokens)} of the "
                              f"{need} weights {fmt} needs for DIMENSION {n}")
    if len(tokens) > need:
        raise src.error(tokens[need][1], f"EDGE_WEIGHT_SECTION has more than the {need} "
                                         f"weights {fmt} needs for DIMENSION {n}")
    w = np.array([_number(src, tok, lineno) for tok, lineno in tokens])
    d = np.zeros((n, n))
    d[rows, cols] = w
    if kind != "FULL_MATRIX":
        d[cols, rows] = w
    elif not np.array_equal(d, d.T):
        raise src.error(start, "FULL_MATRIX of a TYPE: TSP instance must be symmetric")
    return d


def read_tsplib(path) -> TSPInstance:
    """Read a symmetric TSPLIB95 instance (``TYPE: TSP``).

    Parameters
    ----------
    path : str or os.PathLike
        A ``.tsp`` file.

    Returns
    -------
    TSPInstance
        ``distances`` of shape (n, n) as the file defines them; ``coordinates``
        from ``NODE_COORD_SECTION`` or ``DISPLAY_DATA_SECTION`` when present.

    Raises
    ------
    TSPLIBError
        A malformed or unsupported file (one line naming the file and line).
    OSError
        The file cannot be read.

    Examples
    --------
    >>> import os, tempfile
    >>> text = "NAME: tri\\nTYPE: TSP\\nDIMENSION: 3\\nEDGE_WEIGHT_TYPE: EUC_2D\\n" \\
    ...        "NODE_COORD_SECTION\\n1 0 0\\n2 3 4\\n3 0 4\\nEOF\\n"
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = os.path.join(tmp, "tri.tsp")
    ...     _ = open(p, "w").write(text)
    ...     inst = read_tsplib(p)
    >>> inst.n, inst.tour_length([0, 1, 2])
    (3, 12.0)
    """
    src = _Lines(path)
    header, sections = _parse(src)
    kind, kind_line = header.get("TYPE", ("TSP", None))
    if kind.upper() != "TSP":
        raise src.error(kind_line, f"only TYPE: TSP is supported, got {kind!r}")
    n = _dimension(src, header)
    for name in sections:
        if name not in ("NODE_COORD_SECTION", "EDGE_WEIGHT_SECTION", "DISPLAY_DATA_SECTION"):
            raise src.error(sections[name][0], f"unsupported section {name}")
    if "EDGE_WEIGHT_TYPE" not in header:
        raise src.error(None, "missing EDGE_WEIGHT_TYPE")
    wtype, wline = header["EDGE_WEIGHT_TYPE"]
    wtype = wtype.upper()
    node_type = header.get("NODE_COORD_TYPE", ("TWOD_COORDS", None))
    if node_type[0].upper() != "TWOD_COORDS" and "NODE_COORD_SECTION" in sections:
        raise src.error(node_type[1], f"unsupported NODE_COORD_TYPE {node_type[0]!r}")
    if wtype != "EXPLICIT" and wtype not in COORD_TYPES:
        raise src.error(wline, f"unsupported EDGE_WEIGHT_TYPE {wtype!r}")
    coords = None
    if "NODE_COORD_SECTION" in sections:
        coords = _coordinates(src, "NODE_COORD_SECTION", sections["NODE_COORD_SECTION"], n)
    if wtype == "EXPLICIT":
        if "EDGE_WEIGHT_SECTION" not in sections:
            raise src.error(wline, "EXPLICIT weights need an EDGE_WEIGHT_SECTION")
        if "EDGE_WEIGHT_FORMAT" not in header:
            raise src.error(wline, "EXPLICIT weights need an EDGE_WEIGHT_FORMAT")
        fmt, fmt_line = header["EDGE_WEIGHT_FORMAT"]
        distances = _matrix(src, fmt.upper(), fmt_line, sections["EDGE_WEIGHT_SECTION"], n)
    else:
        if coords is None:
            raise src.error(wline, f"{wtype} weights need a NODE_COORD_SECTION")
        # A large instance keeps its coordinates only; the matrix comes when read.
        distances = None if n > LAZY_MATRIX_N else coordinate_distances(coords, wtype)
    nodes = coords if wtype != "EXPLICIT" else None
    if "DISPLAY_DATA_SECTION" in sections:
        coords = _coordinates(src, "DISPLAY_DATA_SECTION", sections["DISPLAY_DATA_SECTION"], n)
    name = header.get("NAME", (src.label, None))[0]
    # Some files name themselves "ulysses16.tsp"; the instance is "ulysses16".
    name = name[:-4] if name.lower().endswith(".tsp") else name
    return TSPInstance(name=name, distances=distances, coordinates=coords,
                       edge_weight_type=wtype, comment=header.get("COMMENT", ("", None))[0],
                       node_coordinates=nodes)


def read_tour(path, n: int | None = None) -> np.ndarray:
    """Read a TSPLIB tour file (``.opt.tour``) as 0-based city indices.

    Parameters
    ----------
    path : str or os.PathLike
    n : int, optional
        Expected number of cities (checked against the file's ``DIMENSION``).

    Returns
    -------
    numpy.ndarray, shape (n,), int64
        The first tour of the ``TOUR_SECTION``, 0-based.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = os.path.join(tmp, "t.opt.tour")
    ...     _ = open(p, "w").write("TYPE: TOUR\\nDIMENSION: 3\\nTOUR_SECTION\\n"
    ...                            "1 3\\n2\\n-1\\nEOF\\n")
    ...     read_tour(p)
    array([0, 2, 1])
    """
    src = _Lines(path)
    header, sections = _parse(src)
    kind, kind_line = header.get("TYPE", ("TOUR", None))
    if kind.upper() != "TOUR":
        raise src.error(kind_line, f"expected TYPE: TOUR, got {kind!r}")
    if "TOUR_SECTION" not in sections:
        raise src.error(None, "missing TOUR_SECTION")
    start, tokens = sections["TOUR_SECTION"]
    dim = _dimension(src, header) if "DIMENSION" in header else None
    if n is not None and dim is not None and dim != n:
        raise src.error(header["DIMENSION"][1], f"DIMENSION {dim} does not match {n} cities")
    size = dim if dim is not None else n
    cities: list[int] = []
    for tok, lineno in tokens:
        value = _number(src, tok, lineno)
        if value == -1:
            break
        if value != int(value) or value < 1 or (size is not None and value > size):
            raise src.error(lineno, f"tour entries must be node ids 1..{size}, got {tok}")
        cities.append(int(value) - 1)
    else:
        last = tokens[-1][1] if tokens else start
        raise src.error(last, "TOUR_SECTION is not terminated by -1")
    size = size if size is not None else len(cities)
    try:
        return check_tour(np.array(cities, dtype=np.int64), size)
    except ValueError as exc:
        raise src.error(start, str(exc)) from None
