"""Property tests: any QUBO written in a published format reads back to the same energies."""

from __future__ import annotations

import dimod
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from combopt.io import read_coo, read_gka, read_gset, read_orlib

coefficient = st.one_of(st.integers(-1000, 1000),
                        st.floats(-1e3, 1e3, allow_nan=False).map(lambda v: round(v, 3)))


@st.composite
def upper_entries(draw, max_n=7):
    """(n, {(i, j): q}) with 1 <= i <= j <= n, at least one entry."""
    n = draw(st.integers(1, max_n))
    pairs = [(i, j) for i in range(1, n + 1) for j in range(i, n + 1)]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, unique=True))
    return n, {p: draw(coefficient) for p in chosen}


def objective(entries, x):
    return sum(q * x[i - 1] if i == j else 2 * q * x[i - 1] * x[j - 1]
               for (i, j), q in entries.items())


def points(n, values, seed):
    rng = np.random.default_rng(seed)
    return rng.choice(values, size=(8, n))


@settings(max_examples=60, deadline=None)
@given(upper_entries(), st.booleans(), st.integers(0, 2**32 - 1))
def test_gka_and_orlib_round_trip(tmp_path_factory, data, swap, seed):
    n, entries = data
    # Either order of a pair means the same coefficient; the formats list it once.
    lines = [f"{j} {i} {q!r}" if swap and i != j else f"{i} {j} {q!r}"
             for (i, j), q in entries.items()]
    d = tmp_path_factory.mktemp("rt")
    (d / "g.sparse").write_text(f"{n} {len(lines)}\n" + "\n".join(lines) + "\n")
    (d / "o.txt").write_text(f" 1 \n {n} {len(lines)} \n" + "\n".join(f" {s} " for s in lines))
    gka = read_gka(d / "g.sparse")
    [orlib] = read_orlib(d / "o.txt")
    for x in points(n, [0, 1], seed):
        want = objective(entries, x)
        assert np.isclose(gka.energy(x), want, rtol=1e-12, atol=1e-9)
        assert np.isclose(orlib.energy(x), -want, rtol=1e-12, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 8), st.data())
def test_gset_energy_is_minus_cut(tmp_path_factory, n, data):
    pairs = [(i, j) for i in range(1, n + 1) for j in range(i + 1, n + 1)]
    edges = data.draw(st.lists(st.sampled_from(pairs), min_size=1, unique=True))
    weights = data.draw(st.lists(st.sampled_from([-1, 1]), min_size=len(edges),
                                 max_size=len(edges)))
    d = tmp_path_factory.mktemp("g")
    text = f"{n} {len(edges)} \r\n" + "".join(f"{i} {j} {w}\r\n"
                                               for (i, j), w in zip(edges, weights))
    (d / "G0").write_text(text, newline="")
    spin, binary = read_gset(d / "G0"), read_gset(d / "G0", vartype="BINARY")
    for s in points(n, [-1, 1], data.draw(st.integers(0, 2**32 - 1))):
        cut = sum(w for (i, j), w in zip(edges, weights) if s[i - 1] != s[j - 1])
        assert spin.energy(s) == -cut
        assert binary.energy((s + 1) // 2) == -cut


@settings(max_examples=60, deadline=None)
@given(upper_entries(max_n=6), st.sampled_from(["SPIN", "BINARY"]))
def test_coo_matches_a_bqm_built_term_by_term(tmp_path_factory, data, vartype):
    _, entries = data
    d = tmp_path_factory.mktemp("c")
    body = "".join(f"{i - 1} {j - 1} {q!r}\n" for (i, j), q in entries.items())
    (d / "m.coo").write_text(f"# vartype={vartype}\n{body}")
    expected = dimod.BQM(vartype)
    for (i, j), q in entries.items():
        if i == j:
            expected.add_linear(i - 1, float(q))
        else:
            expected.add_quadratic(i - 1, j - 1, float(q))
    assert read_coo(d / "m.coo") == expected
