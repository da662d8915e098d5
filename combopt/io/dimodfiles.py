"""Readers for dimod's own formats: COO text and the binary BQM file.

:func:`read_coo` reads the text format of :mod:`dimod.serialization.coo`
(``i j bias`` per line, an optional ``# vartype=SPIN`` header) with dimod's
semantics (``i i b`` adds a linear bias, ``i j b`` adds an interaction, repeats
accumulate) but strictly: dimod's loader silently drops lines whose numbers
its regular expression does not cover (``0 1 1e-3``, ``1 1 2.``), so a model
can lose terms without a word. Here every valid decimal number is read and
every other non-comment line is refused with its line number.

:func:`read_bqm_file` reads the file written by
``BinaryQuadraticModel.to_file()``; its JSON header is checked against the
file's length and the variable limit before dimod allocates anything.
"""

from __future__ import annotations

import json
import os
import re
import struct

import dimod

from combopt.io._text import (
    DEFAULT_MAX_VARIABLES,
    FormatError,
    LineReader,
    parse_int,
    parse_real,
)

__all__ = ["BQM_MAGIC", "read_bqm_file", "read_coo"]

#: First bytes of a file written by ``dimod.BinaryQuadraticModel.to_file()``.
BQM_MAGIC = b"DIMODBQM"

# dimod's own header pattern (``# vartype=SPIN``, ``#vartype: BINARY``).
_VARTYPE_HEADER = re.compile(r"#.*?vartype[:=][ \t]*([-_.a-zA-Z0-9]+)")


def read_coo(
    path: str | os.PathLike,
    vartype: dimod.typing.VartypeLike | None = None,
    *,
    max_variables: int = DEFAULT_MAX_VARIABLES,
) -> dimod.BinaryQuadraticModel:
    """Read dimod's COO text format strictly.

    Parameters
    ----------
    path : str or os.PathLike
        Lines ``i j bias`` (``i``, ``j`` non-negative integer labels; ``bias``
        any finite decimal number such as ``-2``, ``2.``, ``.5``, ``1e-3``).
        Blank lines and lines starting with ``#`` are skipped; a ``#`` line
        may carry the vartype header ``# vartype=SPIN``.
    vartype : dimod vartype, optional
        Required when the file has no header; must agree with it otherwise.
    max_variables : int
        Files with more distinct labels are refused.

    Returns
    -------
    dimod.BinaryQuadraticModel
        Variables labelled by their integers, in order of first appearance.

    Raises
    ------
    FormatError
        ``FILE:LINE: problem`` for an unreadable line, NaN/inf, a conflicting
        or unknown vartype, or a missing vartype (no line number).

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
    reader = LineReader(path, comment="#")
    given = None if vartype is None else dimod.as_vartype(vartype)
    header = None
    for line, text in reader.comments:
        match = _VARTYPE_HEADER.match(text)
        if match is None:
            continue
        name = match.group(1).upper()
        if name not in ("SPIN", "BINARY"):
            raise reader.error(line, f"unknown vartype {match.group(1)!r} (SPIN or BINARY)")
        found = dimod.Vartype[name]
        if header is not None and found is not header:
            raise reader.error(line, f"vartype header {name} contradicts an earlier header")
        header = found
    if given is not None and header is not None and given is not header:
        raise reader.error(None, f"file says vartype={header.name} but {given.name} was given")
    chosen = given or header
    if not reader.remaining() and not reader.comments:
        raise reader.error(None, "the file is empty")
    if chosen is None:
        raise reader.error(
            None, "no '# vartype=SPIN|BINARY' header: give the vartype "
            "(vartype= in Python, --vartype SPIN|BINARY on the command line)"
        )
    bqm = dimod.BinaryQuadraticModel(chosen)
    while reader.remaining():
        line, (tu, tv, tb) = reader.next_fields(3, "entry 'i j bias'")
        u = parse_int(reader, line, tu, "label i")
        v = parse_int(reader, line, tv, "label j")
        bias = parse_real(reader, line, tb, "bias")
        if u == v:
            bqm.add_linear(u, bias)
        else:
            bqm.add_quadratic(u, v, bias)
        if bqm.num_variables > max_variables:
            raise reader.error(line, f"more than {max_variables} variables")
    return bqm


def read_bqm_file(
    path: str | os.PathLike, *, max_variables: int = DEFAULT_MAX_VARIABLES
) -> dimod.BinaryQuadraticModel:
    """Read a file written by ``dimod.BinaryQuadraticModel.to_file()``.

    Parameters
    ----------
    path : str or os.PathLike
        The binary file (it starts with ``DIMODBQM``).
    max_variables : int
        A header claiming more variables is refused before dimod reads on.

    Returns
    -------
    dimod.BinaryQuadraticModel

    Raises
    ------
    FormatError
        If the magic, header or data are wrong (the message names the file).

    Examples
    --------
    >>> import tempfile, os, dimod
    >>> bqm = dimod.BQM({"a": 1.0}, {("a", "b"): -2.0}, 0.5, "SPIN")
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(bqm.to_file().read())
    >>> read_bqm_file(f.name) == bqm
    True
    >>> os.unlink(f.name)
    """
    path = os.fspath(path)
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(14)
        if len(head) < 14 or not head.startswith(BQM_MAGIC):
            raise FormatError(path, None, "not a dimod BQM file (no DIMODBQM magic)")
        major = head[8]
        # Version 1 headers have a 2-byte length, later ones 4 bytes.
        if major == 1:
            (hlen,) = struct.unpack("<H", head[10:12])
            start = 12
        else:
            (hlen,) = struct.unpack("<I", head[10:14])
            start = 14
        if start + hlen > size:
            raise FormatError(path, None, "dimod BQM header runs past the end of the file")
        fh.seek(start)
        try:
            header = json.loads(fh.read(hlen).decode("utf-8"))
            num_variables, num_interactions = (int(v) for v in header["shape"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise FormatError(path, None, "unreadable dimod BQM header") from None
        if not 0 <= num_variables <= max_variables:
            raise FormatError(
                path, None, f"header claims {num_variables} variables, limit {max_variables}"
            )
        # Each interaction stores at least a neighbour index and a bias.
        if not 0 <= num_interactions <= size:
            raise FormatError(
                path, None, f"header claims {num_interactions} interactions: file too short"
            )
        fh.seek(0)
        try:
            bqm = dimod.BinaryQuadraticModel.from_file(fh)
        except Exception as exc:  # dimod raises many types on corrupt data
            raise FormatError(path, None, f"corrupt dimod BQM file ({type(exc).__name__})") from None
    if bqm.num_variables != num_variables:
        raise FormatError(path, None, "dimod BQM file does not match its header")
    return bqm
