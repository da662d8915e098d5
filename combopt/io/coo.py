"""dimod's COO text format, read strictly into arrays at file speed.

:func:`read_coo_model` reads the text format of :mod:`dimod.serialization.coo`
(``i j bias`` per line, an optional ``# vartype=SPIN`` header) with dimod's
semantics (``i i b`` adds a linear bias, ``i j b`` adds an interaction, repeats
accumulate, variables are numbered in order of first appearance) but strictly:
dimod's loader silently drops lines whose numbers its regular expression does
not cover (``0 1 1e-3``, ``1 1 2.``), so a model can lose terms without a word.
Here every valid decimal number is read and every other non-comment line is
refused with its line number. Labels are integers ``0 .. 2**63 - 1``.

The result is a :class:`CooModel`: arrays, no dimod BQM and no Python object
per line, so a million-variable file goes straight to a sparse
:class:`~combopt.objectives.QuadraticObjective`. A compiled scanner
(``combopt._kernels.cootext``) parses plain-ASCII files; a file with any other
byte (a UTF-8 comment, a form feed) is read line by line in Python with the
same rules, slower. :func:`read_coo` returns the same model as a dimod BQM.

Memory: the file's bytes, then 24 bytes per entry line while parsing, then
16 bytes per coupling and 16 per variable in the model.
"""

from __future__ import annotations

import os
import re

import dimod
import numpy as np
import scipy.sparse as sp

from combopt._kernels.cootext import (
    entry_line,
    first_appearance,
    gather_tokens,
    parse_coo,
    scan_bytes,
)
from combopt.domain import Domain
from combopt.io._text import DEFAULT_MAX_VARIABLES, FormatError, LineReader, parse_int, parse_real
from combopt.objectives import QuadraticObjective

__all__ = ["CooModel", "read_coo", "read_coo_model"]

# dimod's own header pattern (``# vartype=SPIN``, ``#vartype: BINARY``).
_VARTYPE_HEADER = re.compile(r"#.*?vartype[:=][ \t]*([-_.a-zA-Z0-9]+)")
_LABEL_MAX = 2**63 - 1
# Longest bias token converted through a fixed-width numpy byte-string array.
_TOKEN_WIDTH = 64


class CooModel:
    """An Ising/QUBO model as arrays: ``sum_k q_k x_row[k] x_col[k] + sum_i h_i x_i``.

    Attributes
    ----------
    vartype : dimod.Vartype
    labels : ndarray of int64, shape (n,)
        The file's label of each variable, in order of first appearance.
    linear : ndarray of float64, shape (n,)
        Accumulated ``i i bias`` lines.
    row, col : ndarray of int32 (int64 beyond 2**31 variables), shape (m,)
        The variables of each ``i j bias`` line with ``i != j``, in file order
        (repeats kept; they add up).
    quadratic : ndarray of float64, shape (m,)
        Their biases.

    Examples
    --------
    >>> import numpy as np
    >>> model = CooModel("SPIN", np.array([4, 0]), np.array([0.5, 0.0]),
    ...                  np.array([0]), np.array([1]), np.array([-1.0]))
    >>> model.num_variables, float(model.to_bqm().quadratic[4, 0])
    (2, -1.0)
    """

    def __init__(self, vartype, labels, linear, row, col, quadratic):
        self.vartype = dimod.as_vartype(vartype)
        self.labels = labels
        self.linear = linear
        self.row = row
        self.col = col
        self.quadratic = quadratic

    @property
    def num_variables(self) -> int:
        """Number of variables ``n``."""
        return int(self.labels.shape[0])

    def to_bqm(self) -> dimod.BinaryQuadraticModel:
        """The same model as a dimod BQM (repeats summed in file order, as dimod does)."""
        return dimod.BinaryQuadraticModel.from_numpy_vectors(
            self.linear, (self.row, self.col, self.quadratic), 0.0, self.vartype,
            variable_order=self.labels.tolist(),
        )

    def to_objective(self) -> tuple[QuadraticObjective, Domain, np.ndarray]:
        """``(objective, domain, labels)``, as ``bqm_to_objective`` gives for :meth:`to_bqm`.

        The objective keeps ``row``, ``col`` and ``quadratic`` as its sparse
        ``Q`` (no copy); column ``k`` is variable ``labels[k]``.

        Examples
        --------
        >>> import numpy as np
        >>> model = CooModel("BINARY", np.array([0, 1]), np.array([1.0, 0.0]),
        ...                  np.array([0]), np.array([1]), np.array([-3.0]))
        >>> obj, domain, labels = model.to_objective()
        >>> float(obj.energy(np.array([1.0, 1.0]))), labels.tolist()
        (-2.0, [0, 1])
        """
        n = self.num_variables
        Q = sp.coo_array((self.quadratic, (self.row, self.col)), shape=(n, n))
        domain = Domain.binary() if self.vartype is dimod.BINARY else Domain.spin()
        return QuadraticObjective(Q, linear=self.linear), domain, self.labels


def read_coo(
    path: str | os.PathLike,
    vartype: dimod.typing.VartypeLike | None = None,
    *,
    max_variables: int = DEFAULT_MAX_VARIABLES,
) -> dimod.BinaryQuadraticModel:
    """Read dimod's COO text format strictly into a dimod BQM.

    Same parameters and errors as :func:`read_coo_model`; variables are
    labelled by their integers, in order of first appearance.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".coo", delete=False) as f:
    ...     _ = f.write("# vartype=BINARY\\n0 1 1e-3\\n1 1 2.\\n")
    >>> bqm = read_coo(f.name)
    >>> float(bqm.quadratic[0, 1]), float(bqm.linear[1])
    (0.001, 2.0)
    >>> os.unlink(f.name)
    """
    return read_coo_model(path, vartype, max_variables=max_variables).to_bqm()


def read_coo_model(
    path: str | os.PathLike,
    vartype: dimod.typing.VartypeLike | None = None,
    *,
    max_variables: int = DEFAULT_MAX_VARIABLES,
) -> CooModel:
    """Read dimod's COO text format strictly into a :class:`CooModel`.

    Parameters
    ----------
    path : str or os.PathLike
        Lines ``i j bias`` (``i``, ``j`` integer labels ``0 .. 2**63 - 1``;
        ``bias`` any finite decimal number such as ``-2``, ``2.``, ``.5``,
        ``1e-3``). Blank lines and lines starting with ``#`` are skipped; a
        ``#`` line may carry the vartype header ``# vartype=SPIN``.
    vartype : dimod vartype, optional
        Required when the file has no header; must agree with it otherwise.
    max_variables : int
        Files with more distinct labels are refused.

    Returns
    -------
    CooModel

    Raises
    ------
    FormatError
        ``FILE:LINE: problem`` for the first unreadable line, NaN/inf, a
        conflicting or unknown vartype, or a missing vartype (no line number).

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".coo", delete=False) as f:
    ...     _ = f.write("# vartype=SPIN\\n7 3 -1\\n3 3 .5\\n")
    >>> model = read_coo_model(f.name)
    >>> model.labels.tolist(), model.linear.tolist(), model.quadratic.tolist()
    ([7, 3], [0.0, 0.5], [-1.0])
    >>> with open(f.name, "a") as g:
    ...     _ = g.write("3 7 1,5\\n")
    >>> read_coo_model(f.name)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    combopt.io._text.FormatError: ...:4: bias is not a finite number: '1,5'
    >>> os.unlink(f.name)
    """
    path = os.fspath(path)
    with open(path, "rb") as fh:
        buf = np.fromfile(fh, dtype=np.uint8)
    bound, plain = scan_bytes(buf)
    if plain:
        rows, cols, biases, comments, error = _parse_fast(path, buf, bound)
        del buf
        line_of = _EntryLines(path)
    else:
        del buf
        rows, cols, biases, comments, error, lines = _parse_slowly(path)
        line_of = lines.__getitem__
    if rows.shape[0] == 0 and not comments and error is None:
        raise FormatError(path, None, "the file is empty")
    chosen = _vartype(path, comments, vartype)
    column_rows, column_cols, labels, exceeded = _number_labels(rows, cols, max_variables)
    del rows, cols
    if exceeded >= 0:
        raise FormatError(path, line_of(exceeded), f"more than {max_variables} variables")
    if error is not None:
        raise error
    return _assemble(chosen, labels, column_rows, column_cols, biases)


class _EntryLines:
    """Line number of an entry, found again in the file (only ever needed for an error)."""

    def __init__(self, path):
        self.path = path

    def __call__(self, entry: int) -> int:
        return int(entry_line(np.fromfile(self.path, dtype=np.uint8), entry))


def _check_entry(path: str, line: int, text: str) -> tuple[int, int, float]:
    """``(i, j, bias)`` of one entry line, or the FormatError saying what is wrong with it."""
    where = _Where(path)
    fields = text.split()
    if len(fields) != 3:
        raise where.error(
            line, f"expected entry 'i j bias' (3 fields), got {len(fields)} fields"
        )
    u = parse_int(where, line, fields[0], "label i")
    v = parse_int(where, line, fields[1], "label j")
    bias = parse_real(where, line, fields[2], "bias")
    for token, label in ((fields[0], u), (fields[1], v)):
        if label > _LABEL_MAX:
            raise where.error(line, f"label {token!r} is above 2**63 - 1")
    return u, v, bias


class _Where:
    """The ``error(line, problem)`` of a file, which ``parse_int``/``parse_real`` call."""

    def __init__(self, path):
        self.path = path

    def error(self, line, problem) -> FormatError:
        return FormatError(self.path, line, problem)


def _parse_fast(path, buf, bound):
    """The compiled scanner's arrays, comments and first error (see :func:`_parse_slowly`)."""
    rows = np.empty(bound, dtype=np.int64)
    cols = np.empty(bound, dtype=np.int64)
    biases = np.empty(bound, dtype=np.float64)
    parsed, bad, hard, spans = parse_coo(buf, rows, cols, biases)
    comments = [(int(ln), buf[a:b].tobytes().decode("ascii")) for ln, a, b in spans.tolist()]
    error = None
    if bad[0] != 0:
        text = buf[bad[1] : bad[2]].tobytes().decode("ascii")
        try:
            _check_entry(path, int(bad[0]), text)
        except FormatError as exc:
            error = exc
        else:  # pragma: no cover - the scanner and _check_entry agree on every line
            raise AssertionError(f"{path}:{bad[0]}: scanner refused a valid line")
    if hard.shape[0]:
        values = _convert_tokens(buf, hard[:, 1], hard[:, 2])
        biases[hard[:, 0]] = values
        overflow = np.flatnonzero(~np.isfinite(values))
        if overflow.size:
            k = int(hard[overflow[0], 0])
            token = buf[hard[overflow[0], 1] : hard[overflow[0], 2]].tobytes().decode("ascii")
            # This entry comes before the scanner's bad line, if any.
            error = FormatError(
                path, int(entry_line(buf, k)), f"bias overflows to infinity: {token!r}"
            )
            parsed = k
    return rows[:parsed], cols[:parsed], biases[:parsed], comments, error


def _convert_tokens(buf, starts, stops) -> np.ndarray:
    """Correctly rounded doubles of the byte tokens ``buf[starts[k]:stops[k]]``."""
    lengths = stops - starts
    values = np.empty(starts.shape[0])
    short = lengths <= _TOKEN_WIDTH
    if short.any():
        width = int(lengths[short].max())
        tokens = gather_tokens(buf, starts[short], stops[short], width)
        # numpy converts byte strings with a correctly rounded strtod.
        values[short] = tokens.view(f"S{width}").ravel().astype(np.float64)
    for k in np.flatnonzero(~short):
        values[k] = float(buf[starts[k] : stops[k]].tobytes())
    return values


def _parse_slowly(path):
    """The line-by-line reading of files the scanner does not take.

    Returns ``(rows, cols, biases, comments, error, lines)``: the entries read
    before the first bad line, the comment lines ``(line, text)``, that line's
    FormatError (None if none) and each entry's line number.
    """
    reader = LineReader(path, comment="#")
    rows, cols, biases, lines = [], [], [], []
    error = None
    while reader.remaining():
        try:
            line, fields = reader.next_fields(3, "entry 'i j bias'")
            u, v, bias = _check_entry(path, line, " ".join(fields))
        except FormatError as exc:
            error = exc
            break
        rows.append(u)
        cols.append(v)
        biases.append(bias)
        lines.append(line)
    return (
        np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64),
        np.array(biases, dtype=np.float64), reader.comments, error, lines,
    )


def _vartype(path, comments, given):
    """The vartype from the header lines and the caller, with dimod's rules (strict)."""
    given = None if given is None else dimod.as_vartype(given)
    header = None
    for line, text in comments:
        match = _VARTYPE_HEADER.match(text)
        if match is None:
            continue
        name = match.group(1).upper()
        if name not in ("SPIN", "BINARY"):
            raise FormatError(path, line, f"unknown vartype {match.group(1)!r} (SPIN or BINARY)")
        found = dimod.Vartype[name]
        if header is not None and found is not header:
            raise FormatError(path, line, f"vartype header {name} contradicts an earlier header")
        header = found
    if given is not None and header is not None and given is not header:
        raise FormatError(path, None, f"file says vartype={header.name} but {given.name} was given")
    chosen = given or header
    if chosen is None:
        raise FormatError(
            path, None, "no '# vartype=SPIN|BINARY' header: give the vartype "
            "(vartype= in Python, --vartype SPIN|BINARY on the command line)"
        )
    return chosen


def _number_labels(rows, cols, max_variables):
    """Columns of every entry's labels, numbered in order of first appearance.

    Returns ``(column_rows, column_cols, labels, exceeded)``; ``exceeded`` is
    the entry at which the count passed ``max_variables`` (-1 if never).
    """
    m = rows.shape[0]
    index = np.int32 if 2 * m < 2**31 else np.int64
    top = int(max(rows.max(initial=0), cols.max(initial=0)))
    if top < 4 * m + 1024:
        # Labels are dense enough for a direct lookup table (at most 16 bytes per entry).
        table = np.full(top + 1, -1, dtype=index)
        column_rows = np.empty(m, dtype=index)
        column_cols = np.empty(m, dtype=index)
        labels = np.empty(min(2 * m, max_variables + 1), dtype=np.int64)
        n, exceeded = first_appearance(rows, cols, table, column_rows, column_cols, labels,
                                       max_variables)
        return column_rows, column_cols, labels[: min(n, max_variables)].copy(), int(exceeded)
    # Sparse huge labels: sort instead (O(m log m), no table).
    sequence = np.empty(2 * m, dtype=np.int64)
    sequence[0::2] = rows
    sequence[1::2] = cols
    unique, first, inverse = np.unique(sequence, return_index=True, return_inverse=True)
    if unique.shape[0] > max_variables:
        return None, None, None, int(np.sort(first)[max_variables] // 2)
    order = np.argsort(first, kind="stable")
    rank = np.empty(order.shape[0], dtype=index)
    rank[order] = np.arange(order.shape[0], dtype=index)
    columns = rank[inverse]
    return columns[0::2].copy(), columns[1::2].copy(), unique[order], -1


def _assemble(vartype, labels, rows, cols, biases) -> CooModel:
    """Split the entries into linear biases and couplings."""
    n = labels.shape[0]
    on_diagonal = rows == cols
    if on_diagonal.any():
        # bincount adds in file order, as dimod's add_linear calls would.
        linear = np.bincount(rows[on_diagonal], weights=biases[on_diagonal], minlength=n)
        off = ~on_diagonal
        rows, cols, biases = rows[off], cols[off], biases[off]
    else:
        linear = np.zeros(n)
    return CooModel(vartype, labels, linear.astype(np.float64, copy=False), rows, cols, biases)
