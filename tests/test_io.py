"""Readers: exact energies on small files, strict one-line errors on bad ones."""

from __future__ import annotations

import itertools
import re
import tracemalloc

import dimod
import numpy as np
import pytest
from dimod.serialization import coo as dimod_coo

from combopt.io import (
    FormatError,
    detect_format,
    read,
    read_bqm_file,
    read_coo,
    read_gka,
    read_gset,
    read_orlib,
)


def write(tmp_path, name, text, newline="\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode())
    return path


def all_points(n, vartype):
    vals = (0, 1) if vartype is dimod.BINARY else (-1, 1)
    return np.array(list(itertools.product(vals, repeat=n)), dtype=float)


def published_qubo(n, entries, x):
    """sum q_ii x_i + 2 sum_{i<j} q_ij x_i x_j with each pair listed once (1-indexed)."""
    total = 0.0
    for i, j, q in entries:
        total += q * x[i - 1] if i == j else 2 * q * x[i - 1] * x[j - 1]
    return total


# Integer coefficients: every energy below is exact, so the readers are checked with ==.
ENTRIES = [(1, 1, 5), (2, 2, -1), (1, 2, 3), (3, 1, -4), (3, 3, 2), (2, 4, 7), (4, 4, -6)]


def test_orlib_energy_is_minus_published_objective_on_every_point(tmp_path):
    body = "".join(f" {i} {j} {q} \n" for i, j, q in ENTRIES)
    other = " 2 1 \n 1 2 9 \n"
    path = write(tmp_path, "bqp4.txt", f" 2 \n 4 {len(ENTRIES)} \n{body}{other}")
    first, second = read_orlib(path)
    assert first.vartype is dimod.BINARY and list(first.variables) == [0, 1, 2, 3]
    for x in all_points(4, dimod.BINARY):
        assert first.energy(x) == -published_qubo(4, ENTRIES, x)
    assert second.num_variables == 2 and second.energy([1, 1]) == -18.0


def test_gka_energy_is_published_objective_on_every_point(tmp_path):
    body = "".join(f"{i} {j} {q}\n" for i, j, q in ENTRIES)
    bqm = read_gka(write(tmp_path, "g.sparse", f"4 {len(ENTRIES)}\n{body}"))
    for x in all_points(4, dimod.BINARY):
        assert bqm.energy(x) == published_qubo(4, ENTRIES, x)


@pytest.mark.parametrize("vartype", [dimod.SPIN, dimod.BINARY])
def test_gset_energy_is_minus_cut_exactly(tmp_path, vartype):
    edges = [(1, 2, 1), (2, 3, -1), (1, 3, 1), (3, 4, 1), (4, 5, -1), (1, 5, 1)]
    text = "5 6 \n" + "".join(f"{i} {j} {w}\n" for i, j, w in edges)
    bqm = read_gset(write(tmp_path, "G0", text, newline="\r\n"), vartype=vartype)
    assert bqm.vartype is vartype
    for x in all_points(5, vartype):
        side = x > 0
        cut = sum(w for i, j, w in edges if side[i - 1] != side[j - 1])
        assert bqm.energy(x) == -cut


def test_coo_reads_every_valid_number_that_dimod_drops(tmp_path):
    text = "# vartype=BINARY\n0 1 1e-3\n1 1 2.\n0 0 -.5\n2 0 +3E2\n0 1 1\n"
    path = write(tmp_path, "m.coo", text)
    ours = read_coo(path)
    assert ours.linear[1] == 2.0 and ours.linear[0] == -0.5
    assert ours.quadratic[0, 1] == 1.001  # repeats accumulate, as in dimod
    assert ours.quadratic[0, 2] == 300.0
    # dimod's own loader loses the first two lines (the reason for this reader).
    theirs = dimod_coo.loads(text)
    assert theirs != ours


def test_coo_matches_dimod_on_what_dimod_reads(tmp_path):
    bqm = dimod.generators.gnp_random_bqm(12, 0.5, "SPIN", random_state=3)
    text = dimod_coo.dumps(bqm, vartype_header=True)
    ours = read_coo(write(tmp_path, "r.coo", text))
    assert ours == dimod_coo.loads(text)


def test_coo_vartype_rules(tmp_path):
    plain = write(tmp_path, "p.coo", "0 1 1\n")
    with pytest.raises(FormatError, match="no '# vartype"):
        read_coo(plain)
    assert read_coo(plain, "SPIN").vartype is dimod.SPIN
    headed = write(tmp_path, "h.coo", "# vartype=SPIN\n0 1 1\n")
    with pytest.raises(FormatError, match="file says vartype=SPIN but BINARY"):
        read_coo(headed, dimod.BINARY)
    bad = write(tmp_path, "b.coo", "# vartype=TERNARY\n0 1 1\n")
    with pytest.raises(FormatError, match=r"b\.coo:1: unknown vartype"):
        read_coo(bad)


def test_bqm_file_round_trip_and_corruption(tmp_path):
    bqm = dimod.BQM({"a": 1.5, 3: -2.0}, {("a", 3): 0.25}, 7.0, "SPIN")
    path = tmp_path / "m.bqm"
    path.write_bytes(bqm.to_file().read())
    assert read_bqm_file(path) == bqm
    assert read(path).format == "bqm"
    raw = path.read_bytes()
    (tmp_path / "cut.bqm").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(FormatError, match=re.escape("cut.bqm")):
        read_bqm_file(tmp_path / "cut.bqm")
    (tmp_path / "junk.bqm").write_bytes(b"NOTABQM" * 4)
    with pytest.raises(FormatError, match="no DIMODBQM magic"):
        read_bqm_file(tmp_path / "junk.bqm")


def test_bqm_file_header_claiming_huge_size_is_refused(tmp_path):
    raw = dimod.BQM({0: 1.0}, {}, 0.0, "BINARY").to_file().read()
    forged = raw.replace(b'"shape": [1, 0]', b'"shape": [1000000000, 0]')
    # Keep the header length: pad by removing spaces from the JSON padding.
    extra = len(forged) - len(raw)
    forged = forged.replace(b"\n" + b" " * extra, b"\n", 1)
    assert len(forged) == len(raw)
    (tmp_path / "big.bqm").write_bytes(forged)
    with pytest.raises(FormatError, match="1000000000 variables"):
        read_bqm_file(tmp_path / "big.bqm")


BAD_GKA = [
    ("", "file ends early"),
    ("3 2\n1 1 4\n", "claims 2 entries but only 1"),
    ("3 1\n1 1 4\n1 2 3\n", "unexpected data"),
    ("3 1\n1 4 4\n", "index out of range"),
    ("3 1\n0 1 4\n", "index out of range"),
    ("3 1\n1 x 4\n", "not a non-negative integer"),
    ("3 1\n1 1.0 4\n", "not a non-negative integer"),
    ("3 1\n1 2 nan\n", "not a finite number"),
    ("3 1\n1 2 inf\n", "not a finite number"),
    ("3 1\n1 2 1_0\n", "not a finite number"),
    ("3 1\n1 2 1e999\n", "overflows"),
    ("3 1\n1 2\n", "got 2 fields"),
    ("3 2\n1 2 1\n2 1 5\n", "already given on line 2"),
    ("3\n1 2 1\n", "header 'n m'"),
    ("1000000000 1\n1 1 1\n", "n = 1000000000"),
    ("3 99999999999\n1 1 1\n", "claims 99999999999 entries"),
    ("0 0\n", "n = 0"),
]


@pytest.mark.parametrize("text, message", BAD_GKA)
def test_gka_bad_files_give_one_line_naming_file_and_line(tmp_path, text, message):
    path = write(tmp_path, "bad.sparse", text)
    with pytest.raises(FormatError) as info:
        read(path)
    msg = str(info.value)
    assert message in msg and "\n" not in msg
    assert msg.startswith(f"{path}:")


@pytest.mark.parametrize(
    "text, message",
    [
        ("2\n2 1\n1 1 4\n", "file ends early"),
        ("x\n", "instance count"),
        ("1\n2 1\n3 1 4\n", "index out of range"),
        ("1\n2 4\n1 1 1\n1 2 1\n2 2 1\n2 1 1\n", "nnz = 4 exceeds"),
    ],
)
def test_orlib_bad_files(tmp_path, text, message):
    path = write(tmp_path, "bad.txt", text)
    with pytest.raises(FormatError, match=message):
        read_orlib(path)


def test_gset_rejects_self_loops_and_repeated_edges(tmp_path):
    with pytest.raises(FormatError, match=r"G9:2: self-loop on vertex 2"):
        read_gset(write(tmp_path, "G9", "3 1\n2 2 1\n"))
    with pytest.raises(FormatError, match=r"G9:3: edge \(2, 1\) already given on line 2"):
        read_gset(write(tmp_path, "G9", "3 2\n1 2 1\n2 1 1\n"))


def test_absurd_header_is_refused_before_allocation(tmp_path):
    path = write(tmp_path, "huge.txt", "1\n1000000000 1\n1 1 1\n")
    tracemalloc.start()
    with pytest.raises(FormatError, match="n = 1000000000 variables"):
        read_orlib(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1_000_000


def test_non_text_file_is_refused(tmp_path):
    path = tmp_path / "bin.sparse"
    path.write_bytes(b"2 1\n\xff\xfe 1 1\n")
    with pytest.raises(FormatError, match=r"bin\.sparse:2: not a text file"):
        read_gka(path)


def test_detect_format_and_read_dispatch(tmp_path):
    orlib = write(tmp_path, "x.txt", " 1 \n 2 1 \n 1 2 3 \n")
    assert detect_format(orlib) == "orlib"
    assert read(orlib).index == 1
    assert detect_format(write(tmp_path, "y.sparse", "2 1\n1 2 3\n")) == "gka"
    assert detect_format(write(tmp_path, "G3", "2 1\n1 2 1\n")) == "gset"
    assert detect_format(write(tmp_path, "z.dat", "# vartype=SPIN\n0 1 1\n")) == "coo"
    unknown = write(tmp_path, "mystery.dat", "2 1\n1 2 1\n")
    with pytest.raises(FormatError, match="pass a format"):
        detect_format(unknown)
    assert read(unknown, "gka").sense == "min"
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        read(unknown, "xml")
    with pytest.raises(ValueError, match="OR-Library files only"):
        read(unknown, "gka", index=2)


def test_orlib_file_with_several_instances_needs_an_index(tmp_path):
    path = write(tmp_path, "two.txt", "2\n1 1\n1 1 3\n1 1\n1 1 -2\n")
    with pytest.raises(ValueError, match="holds 2 instances"):
        read(path)
    assert read(path, index=2).bqm.energy([1]) == 2.0
    with pytest.raises(ValueError, match=re.escape("index 3 is not in 1..2")):
        read(path, index=3)
