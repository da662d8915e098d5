"""Strict line-level parsing shared by the text readers.

Every published format read here is a few whitespace-separated numbers per
line. The helpers below read a file once, hand out ``(line_number, tokens)``
pairs, and convert tokens with regular expressions rather than ``int()`` /
``float()``: Python's converters accept ``nan``, ``inf``, ``1_000`` and
surrounding whitespace, none of which is a valid number in these files.

Errors are :class:`FormatError`, a ``ValueError`` whose message is one line
``"FILE:LINE: problem"``, so the CLI can print it as is.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator

#: Largest number of variables a header may claim unless the caller raises it.
#: Headers are checked against it before anything of that size is allocated.
DEFAULT_MAX_VARIABLES = 10_000_000

_INT = re.compile(r"[+]?\d+\Z")
_REAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")


class FormatError(ValueError):
    """A file that does not follow its format; the message names file and line.

    Examples
    --------
    >>> str(FormatError("q.txt", 3, "expected 3 fields, got 2"))
    'q.txt:3: expected 3 fields, got 2'
    """

    def __init__(self, path: str, line: int | None, problem: str):
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem


def read_lines(path: str | os.PathLike) -> list[str]:
    """Return the lines of a text file (any of ``\\n``, ``\\r\\n`` line ends).

    Raises
    ------
    OSError
        If the file cannot be read (the message names it).
    FormatError
        If the file is not ASCII/UTF-8 text.
    """
    path = os.fspath(path)
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Report the line of the first undecodable byte.
        line = raw[: exc.start].count(b"\n") + 1
        raise FormatError(path, line, "not a text file (undecodable byte)") from None
    return text.splitlines()


class LineReader:
    """Hand out the non-blank lines of a file as ``(line_number, tokens)``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read; it is read whole at construction.
    comment : str or None
        Lines whose first non-blank character is this are skipped (and kept in
        :attr:`comments` with their line numbers).

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write("2 1\\r\\n\\n1 2 -1\\r\\n")
    >>> r = LineReader(f.name)
    >>> r.next_fields(2, "header")
    (1, ['2', '1'])
    >>> r.remaining()
    1
    >>> os.unlink(f.name)
    """

    def __init__(self, path: str | os.PathLike, comment: str | None = None):
        self.path = os.fspath(path)
        self.comments: list[tuple[int, str]] = []
        self._lines: list[tuple[int, list[str]]] = []
        lines = read_lines(self.path)
        #: Line number reported when the file ends early (its last line).
        self.last_line = max(len(lines), 1)
        for number, line in enumerate(lines, start=1):
            stripped = line.strip()
            if not stripped:
                continue
            if comment is not None and stripped.startswith(comment):
                self.comments.append((number, stripped))
                continue
            self._lines.append((number, stripped.split()))
        self._pos = 0

    def remaining(self) -> int:
        """Number of non-blank lines not handed out yet."""
        return len(self._lines) - self._pos

    def next_line(self) -> tuple[int, list[str]]:
        """Return the next line's number and fields, whatever their count."""
        if self._pos >= len(self._lines):
            raise FormatError(self.path, self.last_line, "file ends early")
        self._pos += 1
        return self._lines[self._pos - 1]

    def next_fields(self, count: int, what: str) -> tuple[int, list[str]]:
        """Return the next line, which must hold exactly ``count`` fields."""
        if self._pos >= len(self._lines):
            raise FormatError(self.path, self.last_line, f"file ends early: expected {what}")
        number, fields = self._lines[self._pos]
        self._pos += 1
        if len(fields) != count:
            raise FormatError(
                self.path, number, f"expected {what} ({count} fields), got {len(fields)} fields"
            )
        return number, fields

    def expect_end(self) -> None:
        """Raise if any non-blank line is left."""
        if self._pos < len(self._lines):
            number, _ = self._lines[self._pos]
            raise FormatError(self.path, number, "unexpected data after the last entry")

    def error(self, line: int | None, problem: str) -> FormatError:
        """Build a :class:`FormatError` for this file."""
        return FormatError(self.path, line, problem)


def parse_int(reader: LineReader, line: int, token: str, what: str) -> int:
    """Parse a non-negative decimal integer token or raise naming the line."""
    if not _INT.match(token):
        raise reader.error(line, f"{what} is not a non-negative integer: {token!r}")
    return int(token)


def parse_real(reader: LineReader, line: int, token: str, what: str) -> float:
    """Parse a finite decimal real (``3``, ``-2.``, ``.5``, ``1e-3``) or raise."""
    if not _REAL.match(token):
        raise reader.error(line, f"{what} is not a finite number: {token!r}")
    value = float(token)
    if not math.isfinite(value):
        # ``1e999`` matches the syntax but overflows to infinity.
        raise reader.error(line, f"{what} overflows to infinity: {token!r}")
    return value


def check_size(
    reader: LineReader, line: int, n: int, entries: int, max_variables: int, per_line: bool = True
) -> None:
    """Refuse a header whose sizes the file cannot hold, before allocating.

    ``n`` above ``max_variables`` is refused outright; ``entries`` (one per
    line) above the number of lines left means the header lies or the file is
    truncated.
    """
    if n > max_variables:
        raise reader.error(
            line, f"header claims n = {n} variables, above the limit of {max_variables}"
        )
    if per_line and entries > reader.remaining():
        raise reader.error(
            line,
            f"header claims {entries} entries but only {reader.remaining()} lines follow "
            "(truncated file?)",
        )


def iter_entries(
    reader: LineReader, count: int, n: int, what: str = "entry 'i j value'"
) -> Iterator[tuple[int, int, int, float]]:
    """Yield ``(line, i, j, value)`` for ``count`` lines ``i j value`` (1-indexed in file).

    Indices are checked to lie in ``1..n`` and returned 0-indexed.
    """
    for _ in range(count):
        line, (ti, tj, tv) = reader.next_fields(3, what)
        i = parse_int(reader, line, ti, "index i")
        j = parse_int(reader, line, tj, "index j")
        if not (1 <= i <= n and 1 <= j <= n):
            raise reader.error(line, f"index out of range 1..{n}: ({i}, {j})")
        yield line, i - 1, j - 1, parse_real(reader, line, tv, "value")
