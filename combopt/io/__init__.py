"""Strict readers for QUBO/Ising files: published libraries and dimod's formats.

============  ========================  =========================================
format        reader                    files
============  ========================  =========================================
``orlib``     :func:`read_orlib`        OR-Library ``bqp*.txt`` (10 instances, max)
``gka``       :func:`read_gka`          GKA / BiqMac ``*.sparse`` (min)
``gset``      :func:`read_gset`         G-set rudy graphs, Max-Cut (max)
``coo``       :func:`read_coo`          dimod COO text (min); arrays: :func:`read_coo_model`
``bqm``       :func:`read_bqm_file`     ``BinaryQuadraticModel.to_file()`` (min)
============  ========================  =========================================

Every reader returns dimod BQMs in minimisation form; :func:`read` picks the
reader (``format="auto"`` inspects the file) and returns the BQM with the
sense of the file's own objective. Bad files raise :class:`FormatError`, a
``ValueError`` whose one-line message names the file and line.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple

import dimod

from combopt.io._text import DEFAULT_MAX_VARIABLES, FormatError
from combopt.io.coo import CooModel, read_coo, read_coo_model
from combopt.io.dimodfiles import BQM_MAGIC, read_bqm_file
from combopt.io.published import read_gka, read_gset, read_orlib

__all__ = [
    "DEFAULT_MAX_VARIABLES",
    "FORMATS",
    "SENSES",
    "CooModel",
    "FormatError",
    "Loaded",
    "detect_format",
    "read",
    "read_bqm_file",
    "read_coo",
    "read_coo_model",
    "read_gka",
    "read_gset",
    "read_orlib",
]

#: Format names accepted by :func:`read` (besides ``"auto"``).
FORMATS = ("orlib", "gka", "gset", "coo", "bqm")

#: Sense of each format's published objective.
SENSES = {"orlib": "max", "gka": "min", "gset": "max", "coo": "min", "bqm": "min"}


class Loaded(NamedTuple):
    """What :func:`read` returns.

    Attributes
    ----------
    bqm : dimod.BinaryQuadraticModel
        Minimisation form.
    sense : str
        ``"max"`` when the file's own objective is ``-energy``, else ``"min"``.
    format : str
        The format that was read (resolved when ``"auto"`` was asked).
    index : int or None
        The 1-based position within an OR-Library file.
    """

    bqm: dimod.BinaryQuadraticModel
    sense: str
    format: str
    index: int | None


_GSET_NAME = re.compile(r"G\d+(\.txt)?\Z")
# detect_format reads this much of a file at most (its first 50 lines, normally).
_DETECT_BYTES = 1 << 16


def detect_format(path: str | os.PathLike) -> str:
    """Tell the format of a file from its name and first bytes.

    Rules, in order: the ``DIMODBQM`` magic -> ``bqm``; a ``.sparse`` name ->
    ``gka``; ``.coo`` or a ``# vartype`` line -> ``coo``; a first line with a
    single number -> ``orlib``; a ``G<number>`` name -> ``gset``; a first
    line with three fields -> ``coo``. Anything else (notably an ``n m``
    header with a name that tells nothing) is refused: pass the format.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write(" 10 \\n 50 111 \\n")
    >>> detect_format(f.name)
    'orlib'
    >>> os.unlink(f.name)
    """
    path = os.fspath(path)
    with open(path, "rb") as fh:
        if fh.read(len(BQM_MAGIC)) == BQM_MAGIC:
            return "bqm"
        fh.seek(0)
        head = fh.read(_DETECT_BYTES)
    base = os.path.basename(path)
    if base.endswith(".sparse"):
        return "gka"
    if base.endswith(".coo"):
        return "coo"
    if len(head) == _DETECT_BYTES and b"\n" in head:
        # Whole lines only; a multi-byte character never contains a newline byte.
        head = head[: head.rindex(b"\n") + 1]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        raise FormatError(path, line, "not a text file (undecodable byte)") from None
    lines = [ln.strip() for ln in text.splitlines()[:50]]
    lines = [ln for ln in lines if ln]
    if any(ln.startswith("#") and "vartype" in ln for ln in lines):
        return "coo"
    first = next((ln for ln in lines if not ln.startswith("#")), "")
    fields = len(first.split())
    if fields == 1:
        return "orlib"
    if _GSET_NAME.match(base):
        return "gset"
    if fields == 3:
        return "coo"
    raise FormatError(
        path, None, "cannot tell the format from the name and first line; pass a format"
    )


def read(
    path: str | os.PathLike,
    format: str = "auto",
    *,
    index: int | None = None,
    vartype: dimod.typing.VartypeLike | None = None,
    max_variables: int = DEFAULT_MAX_VARIABLES,
) -> Loaded:
    """Read one QUBO/Ising problem from a file.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    format : {"auto", "orlib", "gka", "gset", "coo", "bqm"}
        ``"auto"`` uses :func:`detect_format`.
    index : int, optional
        1-based instance within an OR-Library file; required when the file
        holds more than one instance, refused for other formats.
    vartype : dimod vartype, optional
        For ``coo`` without a header (or to check it); for ``gset`` the
        encoding of the cut (default SPIN).
    max_variables : int
        Headers claiming more variables are refused before allocation.

    Returns
    -------
    Loaded
        ``(bqm, sense, format, index)``.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".sparse", delete=False) as f:
    ...     _ = f.write("2 1\\n1 2 -3\\n")
    >>> loaded = read(f.name)
    >>> loaded.format, loaded.sense, float(loaded.bqm.energy({0: 1, 1: 1}))
    ('gka', 'min', -6.0)
    >>> os.unlink(f.name)
    """
    if format == "auto":
        format = detect_format(path)
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; expected auto or one of {', '.join(FORMATS)}")
    if index is not None and format != "orlib":
        raise ValueError(f"an instance index applies to OR-Library files only, not {format}")
    if format == "orlib":
        bqms = read_orlib(path, max_variables=max_variables)
        if index is None:
            if len(bqms) > 1:
                raise ValueError(
                    f"{os.fspath(path)} holds {len(bqms)} instances: pick one with FILE#K "
                    f"or --index K (1..{len(bqms)})"
                )
            index = 1
        if not 1 <= index <= len(bqms):
            raise ValueError(f"{os.fspath(path)}: index {index} is not in 1..{len(bqms)}")
        return Loaded(bqms[index - 1], "max", format, index)
    if format == "gka":
        bqm = read_gka(path, max_variables=max_variables)
    elif format == "gset":
        bqm = read_gset(path, vartype=vartype or dimod.SPIN, max_variables=max_variables)
    elif format == "coo":
        bqm = read_coo(path, vartype, max_variables=max_variables)
    else:
        bqm = read_bqm_file(path, max_variables=max_variables)
    return Loaded(bqm, SENSES[format], format, None)
