"""Byte-level scanner of dimod's COO text format (``i j bias`` per line).

The scanner walks the file's bytes twice (a branch-free check and line count,
then the parse), at the speed of compiled code, and never builds a Python
object per line. It takes the plain-ASCII case only
(printable characters, spaces, tabs, ``\\n``, ``\\r``, ``\\r\\n``) and splits
lines and fields exactly as Python's ``str.splitlines`` and ``str.split`` do on
such text; the reader sends any file with another byte to its line-by-line
path, so the two can never disagree.

It checks the syntax of every entry (``[+]?digits`` labels up to ``2**63 - 1``;
biases ``[+-]?(digits[.digits*] | .digits)([eE][+-]?digits)?``) and stops
parsing entries at the first line that fails, reporting that line; the caller
explains the failure in words. A bias with at most 15 significant digits and a
decimal exponent of at most 22 in size is exactly ``mantissa * 10**e`` or
``mantissa / 10**-e`` of two exact doubles, one correctly rounded operation
(Clinger's fast path), the same double as Python's ``float``. Any other bias is
stored as NaN and its byte span recorded, for the caller to convert with a
correctly rounded parser.
"""

import numpy as np
from numba import njit

# 10**k is exact in binary64 for k <= 22.
_POW10 = np.array([10.0**k for k in range(23)])
_FAST_MANTISSA = 2**53
_LABEL_MAX = 2**63 - 1
_SPACE, _TAB, _LF, _CR, _HASH = 32, 9, 10, 13, 35
_PLUS, _MINUS, _DOT, _ZERO, _NINE = 43, 45, 46, 48, 57


@njit(cache=True, inline="always")
def _blank(b):
    return b in (_SPACE, _TAB)


@njit(cache=True, inline="always")
def _digit(b):
    return _ZERO <= b <= _NINE


@njit(cache=True, inline="always")
def _next_line(buf, pos):
    """``(a, b, next)``: the line at ``pos`` stripped of blanks is ``buf[a:b]``."""
    end = pos
    size = buf.shape[0]
    while end < size and buf[end] != _LF and buf[end] != _CR:
        end += 1
    after = end + 1
    if end + 1 < size and buf[end] == _CR and buf[end + 1] == _LF:
        after = end + 2
    a, b = pos, end
    while a < b and _blank(buf[a]):
        a += 1
    while b > a and _blank(buf[b - 1]):
        b -= 1
    return a, b, after


@njit(cache=True)
def scan_bytes(buf):
    """``(bound, plain)`` of a COO file's bytes ``buf`` (uint8, 1-D).

    ``bound`` is at least the number of entry lines (lines, and at most one per
    6 bytes: ``"0 0 0\\n"`` is the shortest); ``plain`` says whether every byte
    is printable ASCII, a tab, ``\\n`` or ``\\r``. One branch-free pass.
    """
    size = buf.shape[0]
    newlines = 0
    returns = 0
    odd = 0
    for p in range(size):
        b = buf[p]
        newlines += b == _LF
        returns += b == _CR
        odd += ((b < _SPACE) & (b != _TAB) & (b != _LF) & (b != _CR)) | (b > 126)
    lines = newlines + 1
    if returns:
        for p in range(size):  # a lone \r ends a line too, \r\n is one line end
            if buf[p] == _CR and (p + 1 == size or buf[p + 1] != _LF):
                lines += 1
    return min(lines, (size + 1) // 6), odd == 0


@njit(cache=True, inline="always")
def _label(buf, p, b):
    """``(value, end)`` of the label ``[+]?digits`` at ``p``; value -1 if none or > 2**63 - 1."""
    if p < b and buf[p] == _PLUS:
        p += 1
    start = p
    value = 0
    significant = 0
    while p < b and _digit(buf[p]):
        d = buf[p] - _ZERO
        p += 1
        if significant == 0 and d == 0:
            continue  # a leading zero
        significant += 1
        # Up to 18 digits cannot overflow int64; the 19th is checked against 2**63 - 1.
        if significant > 19 or (significant == 19 and (
            value > _LABEL_MAX // 10 or (value == _LABEL_MAX // 10 and d > _LABEL_MAX % 10)
        )):
            return -1, p
        value = value * 10 + d
    if p == start:
        return -1, p
    return value, p


@njit(cache=True, inline="always")
def _bias(buf, a, b):
    """``(ok, value)`` of the bias ``buf[a:b]``; value is NaN when off the fast path."""
    p = a
    negative = False
    if p < b and (buf[p] == _PLUS or buf[p] == _MINUS):
        negative = buf[p] == _MINUS
        p += 1
    mantissa = 0
    significant = 0  # digits after the leading zeros, kept or not
    exponent = 0
    digits = 0
    while p < b and _digit(buf[p]):
        d = buf[p] - _ZERO
        digits += 1
        if significant > 0 or d != 0:
            significant += 1
            if significant <= 18:
                mantissa = mantissa * 10 + d
            else:
                exponent += 1
        p += 1
    if p < b and buf[p] == _DOT:
        p += 1
        while p < b and _digit(buf[p]):
            d = buf[p] - _ZERO
            digits += 1
            if significant > 0 or d != 0:
                significant += 1
                if significant <= 18:
                    mantissa = mantissa * 10 + d
                    exponent -= 1
            else:
                exponent -= 1
            p += 1
    if digits == 0:
        return False, 0.0
    if p < b and (buf[p] == 101 or buf[p] == 69):  # e, E
        p += 1
        sign = 1
        if p < b and (buf[p] == _PLUS or buf[p] == _MINUS):
            sign = -1 if buf[p] == _MINUS else 1
            p += 1
        if p >= b:
            return False, 0.0
        written = 0
        while p < b and _digit(buf[p]):
            if written < 100_000:  # beyond this only 0 or overflow; stays off the fast path
                written = written * 10 + (buf[p] - _ZERO)
            p += 1
        exponent += sign * written
    if p != b:
        return False, 0.0
    if mantissa == 0 and significant == 0:
        value = 0.0
    elif significant > 15 or mantissa > _FAST_MANTISSA or abs(exponent) > 22:
        return True, np.nan
    elif exponent >= 0:
        value = mantissa * _POW10[exponent]
    else:
        value = mantissa / _POW10[-exponent]
    return True, -value if negative else value


@njit(cache=True, inline="always")
def _append(table, count, a, b, c):
    """Write the row ``(a, b, c)`` at ``count``, doubling ``table`` when full; return it."""
    if count == table.shape[0]:
        grown = np.empty((2 * count, 3), dtype=np.int64)
        grown[:count] = table
        table = grown
    table[count, 0] = a
    table[count, 1] = b
    table[count, 2] = c
    return table


@njit(cache=True)
def parse_coo(buf, rows, cols, biases):
    """Parse the entries of a COO file's bytes into preallocated arrays.

    Parameters
    ----------
    buf : uint8 array, shape (size,)
        The file (plain ASCII: :func:`scan_bytes` found no other byte).
    rows, cols : int64 arrays, shape (bound,)
        Filled with the labels ``i``, ``j`` of each entry line, in file order
        (``bound`` from :func:`scan_bytes`).
    biases : float64 array, shape (bound,)
        The bias of each entry; NaN where it needs the slow conversion.

    Returns
    -------
    parsed : int
        Entries parsed before the first bad entry line (all of them if none).
    bad : int64 array, shape (3,)
        ``(line number, start, stop)`` of the first bad entry line, zeros if none.
    hard : int64 array, shape (k, 3)
        ``(entry, start, stop)`` of each bias stored as NaN.
    comments : int64 array, shape (c, 3)
        ``(line number, start, stop)`` of every comment line.
    """
    size = buf.shape[0]
    bad = np.zeros(3, dtype=np.int64)
    hard = np.empty((16, 3), dtype=np.int64)
    num_hard = 0
    comments = np.empty((4, 3), dtype=np.int64)
    parsed = 0
    found = 0
    line = 0
    pos = 0
    while pos < size:
        line += 1
        a, b, pos = _next_line(buf, pos)
        if a == b:
            continue
        if buf[a] == _HASH:
            comments = _append(comments, found, line, a, b)
            found += 1
            continue
        if bad[0] != 0:
            continue  # only comments are still collected after a bad line
        # One pass over the fields; the line is stripped, so a blank after a
        # label is followed by another field, and the bias must end the line.
        u, p = _label(buf, a, b)
        ok = u >= 0 and p < b and _blank(buf[p])
        if ok:
            while _blank(buf[p]):
                p += 1
            v, p = _label(buf, p, b)
            ok = v >= 0 and p < b and _blank(buf[p])
        if ok:
            while _blank(buf[p]):
                p += 1
            start = p
            ok, value = _bias(buf, p, b)
        if not ok:
            bad[0] = line
            bad[1] = a
            bad[2] = b
            continue
        rows[parsed] = u
        cols[parsed] = v
        biases[parsed] = value
        if np.isnan(value):
            hard = _append(hard, num_hard, parsed, start, b)
            num_hard += 1
        parsed += 1
    return parsed, bad, hard[:num_hard].copy(), comments[:found].copy()


@njit(cache=True)
def entry_line(buf, entry):
    """Line number of the ``entry``-th (0-based) entry line of ``buf``; 0 if none."""
    size = buf.shape[0]
    line = 0
    seen = 0
    pos = 0
    while pos < size:
        line += 1
        a, b, pos = _next_line(buf, pos)
        if a < b and buf[a] != _HASH:
            if seen == entry:
                return line
            seen += 1
    return 0


@njit(cache=True)
def gather_tokens(buf, starts, stops, width):
    """Bytes ``buf[starts[k]:stops[k]]`` as rows of a zero-padded uint8 (k, width) array."""
    out = np.zeros((starts.shape[0], width), dtype=np.uint8)
    for k in range(starts.shape[0]):
        length = min(stops[k] - starts[k], width)
        out[k, :length] = buf[starts[k] : starts[k] + length]
    return out


@njit(cache=True)
def first_appearance(rows, cols, table, out_rows, out_cols, labels, max_variables):
    """Number the labels in order of first appearance (``i`` before ``j`` on each line).

    ``table`` (all -1, length above the largest label) maps a label to its
    column; ``out_rows``/``out_cols`` get each entry's columns and ``labels``
    (length >= the number of distinct labels, or ``max_variables + 1``) the
    label of each column. Returns ``(n, entry)``: the number of distinct
    labels, and the first entry at which ``n`` passed ``max_variables`` (-1 if
    it never did; numbering stops there).
    """
    n = 0
    for k in range(rows.shape[0]):
        u = rows[k]
        if table[u] < 0:
            table[u] = n
            labels[n] = u
            n += 1
        v = cols[k]
        if table[v] < 0:
            table[v] = n
            labels[n] = v
            n += 1
        if n > max_variables:
            return n, k
        out_rows[k] = table[u]
        out_cols[k] = table[v]
    return n, -1
