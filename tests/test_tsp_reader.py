"""TSPLIB reader, other instance sources and the Held-Karp oracle (combopt.tsp).

TSPLIB distances are integers (checked below), so tour lengths are exact in any
summation order and are compared with ``==``.
"""

import os
import re

import networkx as nx
import numpy as np
import pytest

from combopt.tsp.exact import brute_force, held_karp
from combopt.tsp.sources import (
    best_known,
    from_matrix,
    from_networkx,
    load_instance,
    optimal_tour,
    tsplib_names,
)
from combopt.tsp.tsplib import TSPLIBError, coordinate_distances, read_tour, read_tsplib

needs_data = pytest.mark.skipif(
    not os.environ.get("COMBOPT_DATA"),
    reason="COMBOPT_DATA is not set (point it at the published data folder)",
)


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def _naive_length(d, tour):
    return sum(d[tour[p]][tour[(p + 1) % len(tour)]] for p in range(len(tour)))


# ---------------------------------------------------------------- published data


@needs_data
@pytest.mark.parametrize("name", tsplib_names())
def test_every_published_instance_reads(name):
    inst = load_instance(name)
    assert inst.name == name
    assert inst.symmetric
    assert np.all(np.diag(inst.distances) == 0)
    assert np.all(inst.distances == np.round(inst.distances))


@needs_data
@pytest.mark.parametrize("name", [n for n in tsplib_names() if optimal_tour(n) is not None])
def test_every_optimal_tour_recomputes_to_the_published_optimum(name):
    tour = optimal_tour(name)
    assert load_instance(name).tour_length(tour) == best_known(name)
    assert _naive_length(load_instance(name).distances, tour) == best_known(name)


@needs_data
def test_published_optimal_tours_cover_every_weight_format():
    kinds = set()
    for name in tsplib_names():
        if optimal_tour(name) is not None:  # the tours checked above
            path = os.path.join(os.environ["COMBOPT_DATA"], "tsplib", f"{name}.tsp")
            with open(path) as fh:
                text = fh.read().upper()
            kinds |= {k for k in ("EUC_2D", "ATT", "GEO", "FULL_MATRIX", "UPPER_ROW",
                                  "LOWER_DIAG_ROW") if k in text}
    assert kinds == {"EUC_2D", "ATT", "GEO", "FULL_MATRIX", "UPPER_ROW", "LOWER_DIAG_ROW"}


@needs_data
def test_held_karp_matches_published_optima_of_small_instances():
    for name in tsplib_names(max_n=14):
        tour, length = held_karp(load_instance(name))
        assert length == best_known(name)
        assert load_instance(name).tour_length(tour) == length


# ---------------------------------------------------------------- formats


def _explicit(fmt, weights, n=4):
    return (f"NAME: m\nTYPE: TSP\nDIMENSION: {n}\nEDGE_WEIGHT_TYPE: EXPLICIT\n"
            f"EDGE_WEIGHT_FORMAT: {fmt}\nEDGE_WEIGHT_SECTION\n{weights}\nEOF\n")


MATRIX = np.array([[0, 1, 2, 3], [1, 0, 4, 5], [2, 4, 0, 6], [3, 5, 6, 0]], float)


@pytest.mark.parametrize("fmt, weights", [
    ("FULL_MATRIX", "0 1 2 3\n1 0 4 5\n2 4 0 6\n3 5 6 0"),
    ("UPPER_ROW", "1 2 3\n4 5\n6"),
    ("LOWER_ROW", "1\n2 4\n3 5 6"),
    ("UPPER_DIAG_ROW", "0 1 2 3 0 4 5 0 6 0"),
    ("LOWER_DIAG_ROW", "0 1 0 2 4 0 3 5 6 0"),
    ("UPPER_COL", "1 2 4 3 5 6"),
    ("LOWER_DIAG_COL", "0 1 2 3 0 4 5 0 6 0"),
])
def test_explicit_formats(tmp_path, fmt, weights):
    inst = read_tsplib(_write(tmp_path, "m.tsp", _explicit(fmt, weights)))
    np.testing.assert_array_equal(inst.distances, MATRIX)


def test_coordinate_weight_types_follow_tsplib_definitions():
    xy = np.array([[0.0, 0.0], [3.0, 4.4], [10.0, 0.2]])
    euc = coordinate_distances(xy, "EUC_2D")
    assert euc[0, 1] == 5.0 and euc[0, 2] == 10.0  # nint(5.42) = 5, nint(10.002) = 10
    assert coordinate_distances(xy, "CEIL_2D")[0, 1] == 6.0
    assert coordinate_distances(xy, "MAN_2D")[0, 1] == 7.0  # nint(7.4)
    assert coordinate_distances(xy, "MAX_2D")[0, 1] == 4.0
    # ATT: r = sqrt(28.36 / 10) = 1.68, nint(r) = 2 >= r, so 2; r = sqrt(100 / 10)
    # = 3.16 has nint(r) = 3 < r, so 4.
    assert coordinate_distances(xy, "ATT")[0, 1] == 2.0
    assert coordinate_distances(xy, "ATT")[0, 2] == 4.0
    # GEO: 1 degree of latitude on the TSPLIB sphere, floor(111.3 + 1) = 112.
    assert coordinate_distances(np.array([[0.0, 0.0], [1.0, 0.0]]), "GEO")[0, 1] == 112.0


def test_node_coords_in_any_order_and_display_data(tmp_path):
    text = ("NAME : t\nTYPE : TSP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EUC_2D\n"
            "NODE_COORD_SECTION\n3 0 4\n1 0 0\n2 3 0\nEOF\n")
    inst = read_tsplib(_write(tmp_path, "t.tsp", text))
    assert inst.name == "t" and inst.n == 3
    np.testing.assert_array_equal(inst.coordinates, [[0, 0], [3, 0], [0, 4]])
    assert inst.tour_length([0, 1, 2]) == 12.0


@pytest.mark.parametrize("text, message", [
    ("TYPE: TSP\nDIMENSION: x\n", "line 2: DIMENSION must be an integer"),
    ("TYPE: ATSP\nDIMENSION: 3\n", "line 1: only TYPE: TSP"),
    ("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_3D\nNODE_COORD_SECTION\n1 0 0\n",
     "line 3: unsupported EDGE_WEIGHT_TYPE"),
    ("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 1 zz\n",
     "line 6: expected a number, got 'zz'"),
    ("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 1 1\n",
     "line 6: NODE_COORD_SECTION lists 2 nodes, DIMENSION is 3"),
    ("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n1 1 1\n3 2 2\n",
     "line 6: node 1 listed twice"),
    ("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n7 1 1\n3 2 2\n",
     "line 6: node id must be an integer in 1..3"),
    (("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: UPPER_ROW\n"
      "EDGE_WEIGHT_SECTION\n1 2\n"), "line 6: EDGE_WEIGHT_SECTION ends with 2 of the 3 weights"),
    (("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: UPPER_ROW\n"
      "EDGE_WEIGHT_SECTION\n1 2\n3\n4\n"), "line 8: EDGE_WEIGHT_SECTION has more than the 3"),
    (("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: FUNCTION\n"
      "EDGE_WEIGHT_SECTION\n1 2 3\n"), "line 4: unsupported EDGE_WEIGHT_FORMAT"),
    (("TYPE: TSP\nDIMENSION: 2\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: FULL_MATRIX\n"
      "EDGE_WEIGHT_SECTION\n0 1\n2 0\n"),
     "line 5: FULL_MATRIX of a TYPE: TSP instance must be symmetric"),
    ("TYPE: TSP\nEDGE_WEIGHT_TYPE: EUC_2D\n", "missing DIMENSION"),
    ("TYPE: TSP\nDIMENSION: 3\nnonsense here\n", "line 3: expected 'KEY : VALUE'"),
    ("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nDEMAND_SECTION\n1 0\n",
     "line 4: unsupported section DEMAND_SECTION"),
])
def test_malformed_files_give_one_line_errors_with_line_numbers(tmp_path, text, message):
    with pytest.raises(TSPLIBError) as err:
        read_tsplib(_write(tmp_path, "bad.tsp", text))
    assert message in str(err.value)
    assert str(err.value).startswith("bad.tsp")
    assert "\n" not in str(err.value)


def test_tour_files(tmp_path):
    good = _write(tmp_path, "a.opt.tour", "NAME: a\nTYPE: TOUR\nDIMENSION: 4\nTOUR_SECTION\n"
                                          "1 3\n4\n2\n-1\nEOF\n")
    np.testing.assert_array_equal(read_tour(good), [0, 2, 3, 1])
    with pytest.raises(TSPLIBError, match=re.escape("line 5: tour entries must be node ids 1..4")):
        read_tour(_write(tmp_path, "b.tour",
                         "TYPE: TOUR\nDIMENSION: 4\nTOUR_SECTION\n1 2\n9\n-1\n"))
    with pytest.raises(TSPLIBError, match="not terminated by -1"):
        read_tour(_write(tmp_path, "c.tour", "TYPE: TOUR\nDIMENSION: 2\nTOUR_SECTION\n1 2\n"))
    with pytest.raises(TSPLIBError, match="exactly once"):
        read_tour(_write(tmp_path, "d.tour", "TYPE: TOUR\nDIMENSION: 3\nTOUR_SECTION\n1 2 2\n-1\n"))
    with pytest.raises(TSPLIBError, match="does not match 5 cities"):
        read_tour(good, n=5)


# ---------------------------------------------------------------- other sources


def test_matrix_and_networkx_sources_agree(tmp_path):
    rng = np.random.default_rng(3)
    d = rng.integers(1, 20, (6, 6)).astype(float)
    d = d + d.T
    np.fill_diagonal(d, 0)
    g = nx.Graph()
    for u in range(6):
        for v in range(u + 1, 6):
            g.add_edge(f"c{u}", f"c{v}", weight=d[u, v])
    np.testing.assert_array_equal(from_networkx(g).distances, d)
    np.save(tmp_path / "d.npy", d)
    np.savetxt(tmp_path / "d.csv", d, delimiter=",")
    np.testing.assert_array_equal(load_instance(tmp_path / "d.npy").distances, d)
    np.testing.assert_array_equal(load_instance(str(tmp_path / "d.csv")).distances, d)
    np.testing.assert_array_equal(load_instance(d.tolist()).distances, d)


def test_bad_sources():
    g = nx.complete_graph(4)
    nx.set_edge_attributes(g, 1.0, "weight")
    g.remove_edge(0, 3)
    with pytest.raises(ValueError, match="not complete"):
        from_networkx(g)
    with pytest.raises(ValueError, match="square"):
        from_matrix([[0, 1, 2]])
    with pytest.raises(ValueError, match="finite"):
        from_matrix([[0, np.inf], [1, 0]])
    with pytest.raises(ValueError, match="no such file or published TSPLIB instance"):
        load_instance("surely-not-an-instance-name")


# ---------------------------------------------------------------- exact solvers


@pytest.mark.parametrize("n", range(2, 9))
@pytest.mark.parametrize("symmetric", [True, False])
def test_held_karp_agrees_with_brute_force(n, symmetric):
    rng = np.random.default_rng(100 * n + symmetric)
    for _ in range(4):
        d = rng.integers(1, 100, (n, n)).astype(float)
        if symmetric:
            d = d + d.T
        np.fill_diagonal(d, 0)
        tour, length = held_karp(d)
        assert sorted(tour) == list(range(n)) and tour[0] == 0
        assert length == _naive_length(d, tour)
        assert length == brute_force(d)[1]


def test_exact_solvers_refuse_large_instances():
    with pytest.raises(ValueError, match="n <= 15"):
        held_karp(np.ones((16, 16)))
    with pytest.raises(ValueError, match="n <= 9"):
        brute_force(np.ones((10, 10)))
