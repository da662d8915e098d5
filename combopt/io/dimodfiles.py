"""Reader of dimod's binary BQM file (its COO text format is :mod:`combopt.io.coo`).

:func:`read_bqm_file` reads the file written by
``BinaryQuadraticModel.to_file()``; its JSON header is checked against the
file's length and the variable limit before dimod allocates anything.
"""

from __future__ import annotations

import json
import os
import struct

import dimod

from combopt.io._text import DEFAULT_MAX_VARIABLES, FormatError

__all__ = ["BQM_MAGIC", "read_bqm_file"]

#: First bytes of a file written by ``dimod.BinaryQuadraticModel.to_file()``.
BQM_MAGIC = b"DIMODBQM"


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
            raise FormatError(
                path, None, f"corrupt dimod BQM file ({type(exc).__name__})"
            ) from None
    if bqm.num_variables != num_variables:
        raise FormatError(path, None, "dimod BQM file does not match its header")
    return bqm
