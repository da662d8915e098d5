"""A slow reference of the COO reader: dimod's text format one line at a time (see naive.py)."""

from __future__ import annotations


def read_coo_bqm(path, vartype=None, max_variables=10_000_000):
    """dimod's COO text format, one line at a time into a dimod BQM (the old reader).

    Labels above ``2**63 - 1`` are refused, as the array reader does; every
    other rule, message and line number is the reference for ``read_coo``.
    """
    import re

    import dimod

    from combopt.io._text import LineReader, parse_int, parse_real

    reader = LineReader(path, comment="#")
    given = None if vartype is None else dimod.as_vartype(vartype)
    header = None
    for line, text in reader.comments:
        match = re.match(r"#.*?vartype[:=][ \t]*([-_.a-zA-Z0-9]+)", text)
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
        for token, label in ((tu, u), (tv, v)):
            if label > 2**63 - 1:
                raise reader.error(line, f"label {token!r} is above 2**63 - 1")
        if u == v:
            bqm.add_linear(u, bias)
        else:
            bqm.add_quadratic(u, v, bias)
        if bqm.num_variables > max_variables:
            raise reader.error(line, f"more than {max_variables} variables")
    return bqm


def symmetric_couplings(rows, cols, data, n):
    """``S = Q + Q^T`` off the diagonal as a dict ``{(i, j): value}``, and ``diag(Q)``."""
    S = {}
    diag = [0.0] * n
    for i, j, v in zip(rows, cols, data):
        if i == j:
            diag[i] += v
        else:
            S[i, j] = S.get((i, j), 0.0) + v
            S[j, i] = S.get((j, i), 0.0) + v
    return S, diag
