"""The array COO reader against the line-by-line reference, and the sparse lowering it feeds."""

from __future__ import annotations

import tracemalloc

import naive_io
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from combopt.instances import from_file
from combopt.io import CooModel, FormatError, read_coo, read_coo_model
from combopt.objectives import QuadraticObjective

small_label = st.one_of(
    st.integers(0, 6).map(str),
    st.integers(0, 6).map(lambda k: f"+{k}"),
    st.integers(0, 6).map(lambda k: f"00{k}"),
)
huge_label = st.sampled_from(
    [str(2**63 - 1), "4000000000000000000", "123456789012345", "0" * 30 + "5"]
)
bias = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),  # up to 17 digits: off the fast path
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["1e-3", ".5", "2.", "+3E2", "-0", "0e99999", "1e-400", "-.25e+1",
                     "9007199254740993", "0.1000000000000000055511151231257827",
                     "1" + "0" * 70, "1e22", "3e23", "123456789012345e-22"]),
)
bad_line = st.sampled_from([
    "0 1", "0 1 2 3", "a 1 2", "1.0 1 2", "0 1 nan", "0 1 inf", "0 1 1_0", "-1 2 3",
    "0 1 1,5", "0 1 e5", "0 1 .", "0 1 1e", "0 1 1e+", "0 1 1e999", "0 1 -1e400",
    "+ 1 2", "0 0x1 2", "0 1 --1", str(2**63) + " 1 1", "0 " + "9" * 25 + " 1",
])
comment = st.sampled_from(["# note", "# vartype=SPIN", "#vartype: BINARY", "  # indented",
                           "# vartype=TERNARY", "#"])
exotic = st.sampled_from(["# caf\u00e9", "0\x0c1 2", "0 1\u00a02", "\x0b"])
blank = st.sampled_from(["", " ", "\t", " \t "])


@st.composite
def entry(draw):
    u = draw(st.one_of(small_label, small_label, huge_label))
    v = draw(st.one_of(small_label, small_label, huge_label))
    gaps = [draw(st.sampled_from([" ", "\t", "  ", " \t"])) for _ in range(2)]
    lead, trail = draw(blank), draw(blank)
    return f"{lead}{u}{gaps[0]}{v}{gaps[1]}{draw(bias)}{trail}"


@st.composite
def coo_text(draw):
    """A COO file's text: valid lines only (half the time), or any kind of line."""
    if draw(st.booleans()):
        kinds = st.one_of(entry(), entry(), st.sampled_from(["# note", "  # i", "#"]), blank)
    else:
        kinds = st.one_of(entry(), entry(), entry(), comment, blank, bad_line, exotic)
    lines = draw(st.lists(kinds, max_size=12))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = end.join(lines)
    if draw(st.booleans()):
        text += end
    return text


def outcome(read, *args):
    """``(message, None)`` if reading fails, else ``(None, bqm)``."""
    try:
        return None, read(*args)
    except FormatError as exc:
        return str(exc), None


@settings(max_examples=400, deadline=None)
@given(coo_text(), st.sampled_from([None, "SPIN", "SPIN", "BINARY"]), st.sampled_from([3, 1000]))
def test_array_reader_matches_the_line_reader(tmp_path_factory, text, vartype, max_variables):
    path = tmp_path_factory.mktemp("coo") / "m.coo"
    path.write_bytes(text.encode("utf-8"))
    want_error, want = outcome(naive_io.read_coo_bqm, path, vartype, max_variables)
    got_error, got = outcome(
        lambda *a: read_coo(*a[:2], max_variables=a[2]), path, vartype, max_variables
    )
    assert got_error == want_error
    if want is not None:
        assert got == want
        assert list(got.variables) == list(want.variables)  # order of first appearance


def test_errors_name_the_line_across_line_ends_blanks_and_comments(tmp_path):
    path = tmp_path / "e.coo"
    path.write_bytes(b"# vartype=SPIN\r\n\r\n0 1 1\r2 3 4\n\n  # c\n4 5 1e999\n6 7 x\n")
    with pytest.raises(FormatError, match=r"e\.coo:7: bias overflows to infinity: '1e999'"):
        read_coo_model(path)
    path.write_bytes(b"# vartype=SPIN\n0 1 1\n\n2 3 x\n4 5 1e999\n")
    with pytest.raises(FormatError, match=r"e\.coo:4: bias is not a finite number: 'x'"):
        read_coo_model(path)
    path.write_bytes(b"# vartype=SPIN\n0 1 1\r\n" + str(2**63).encode() + b" 1 1\n")
    with pytest.raises(FormatError, match=r"e\.coo:3: label '9223372036854775808' is above"):
        read_coo_model(path)


def test_too_many_variables_names_the_line_whatever_the_labels(tmp_path):
    for big in (0, 10**15):  # dense labels use a lookup table, sparse huge ones a sort
        path = tmp_path / f"v{big}.coo"
        lines = [f"{big} {big + 1} 1", "", f"{big + 2} {big} 1", f"{big + 3} 1 1"]
        path.write_text("# vartype=BINARY\n" + "\n".join(lines) + "\n")
        with pytest.raises(FormatError, match=rf"v{big}\.coo:4: more than 2 variables"):
            read_coo_model(path, max_variables=2)
        model = read_coo_model(path, max_variables=5)
        assert model.labels.tolist() == [big, big + 1, big + 2, big + 3, 1][: model.num_variables]


def test_biases_off_the_fast_path_are_correctly_rounded(tmp_path):
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.uniform(-1, 1, 200), rng.standard_normal(200) * 1e-300,
                             rng.standard_normal(200) * 1e300])
    tokens = [repr(float(v)) for v in values] + ["0." + "3" * 80, "7" * 30 + "e-30"]
    path = tmp_path / "r.coo"
    path.write_text("".join(f"{k} {k + 1} {t}\n" for k, t in enumerate(tokens)))
    model = read_coo_model(path, "SPIN")
    assert model.quadratic.tolist() == [float(t) for t in tokens]


def test_reading_allocates_a_few_times_the_file_not_objects_per_line(tmp_path):
    rng = np.random.default_rng(0)
    n, m = 20_000, 60_000
    rows, cols, vals = rng.integers(n, size=m), rng.integers(n, size=m), rng.uniform(-1, 1, m)
    path = tmp_path / "mem.coo"
    path.write_text("# vartype=SPIN\n" + "".join(
        f"{i} {j} {b:.6f}\n" for i, j, b in zip(rows.tolist(), cols.tolist(), vals.tolist())))
    read_coo_model(path)  # compile (or load) the scanner first
    tracemalloc.start()
    model = read_coo_model(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert model.row.size == np.count_nonzero(rows != cols)
    # The bytes, 24 per entry while parsing, then 16 per coupling: ~2.5x here (the
    # line-by-line reader took ~40x).
    assert peak < 3 * path.stat().st_size


def test_model_objective_and_instance_agree_with_the_bqm(tmp_path):
    rng = np.random.default_rng(2)
    lines = [f"{rng.integers(30)} {rng.integers(30)} {rng.integers(-9, 10)}" for _ in range(120)]
    path = tmp_path / "big.coo"
    path.write_text("# vartype=SPIN\n" + "\n".join(lines))
    bqm = naive_io.read_coo_bqm(path)
    inst = from_file(path)
    assert isinstance(inst.model, CooModel) and inst.n == bqm.num_variables
    assert inst.bqm == bqm
    objective, domain, labels = inst.to_objective()
    assert labels == list(bqm.variables) and domain.values.tolist() == [-1.0, 1.0]
    x = rng.choice([-1.0, 1.0], size=(16, len(labels)))
    want = [bqm.energy(dict(zip(labels, row))) for row in x]
    assert objective.energy(x).tolist() == want  # integer data: exact
    assert [objective.energy(row) for row in x] == want


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 9), st.data(), st.sampled_from([np.int32, np.int64]))
def test_sparse_lowering_is_the_symmetric_sum(n, data, index):
    m = data.draw(st.integers(0, 40))
    rows = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=index)
    cols = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=index)
    vals = np.array(data.draw(st.lists(st.integers(-5, 5), min_size=m, max_size=m)), dtype=float)
    Q = sp.coo_array((vals, (rows, cols)), shape=(n, n))
    problem, _ = QuadraticObjective(Q, representation="sparse")._lower()
    S, diag = naive_io.symmetric_couplings(rows.tolist(), cols.tolist(), vals.tolist(), n)
    assert problem.diag.tolist() == diag
    got = {}
    for i in range(n):
        row = problem.indices[problem.indptr[i] : problem.indptr[i + 1]]
        assert np.all(np.diff(row) > 0)  # sorted, each pair once
        got.update({(i, int(j)): float(v) for j, v in
                    zip(row, problem.data[problem.indptr[i] : problem.indptr[i + 1]])})
    assert got == S
    assert problem.indices.dtype == problem.indptr.dtype == np.int64
