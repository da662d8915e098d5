"""The DIMACS reader, DSATUR, the colouring objective and ``combopt color``."""

import json
import os

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from combopt import cli
from combopt.coloring import (
    color_graph,
    coloring_objective,
    conflicts,
    dsatur,
    load_graph,
    max_k_cut,
)
from combopt.io.dimacs import ColGraph, read_col

needs_data = pytest.mark.skipif(
    not os.environ.get("COMBOPT_DATA"),
    reason="COMBOPT_DATA is not set (point it at the published data folder)",
)


@pytest.fixture
def color_main(monkeypatch):
    """``combopt`` with only the ``color`` sub-command."""
    monkeypatch.setattr(cli, "SUBCOMMANDS", ("color",))
    return cli.main


def _write(tmp_path, text, name="g.col"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_edges_in_both_directions_count_once(tmp_path):
    g = read_col(_write(tmp_path, "c x\np edge 4 5\ne 1 2\ne 2 1\ne 3 4\ne 4 3\ne 1 4\n"))
    assert g.name == "g" and g.num_vertices == 4
    assert g.edges.tolist() == [[0, 1], [0, 3], [2, 3]]


@pytest.mark.parametrize(
    "text, message",
    [
        ("c only\n", "no problem line"),
        ("p edge 3 1\np edge 3 1\ne 1 2\n", r":2: second problem line \(the first is on line 1\)"),
        ("e 1 2\np edge 3 1\n", ":1: edge before the problem line"),
        ("p edge 3 2\ne 1 2\ne 2 2\n", ":3: self-loop on vertex 2"),
        ("p edge 3 1\ne 1 4\n", ":2: vertex 4 is outside 1..3"),
        ("p edge 3 1\ne 0 1\n", ":2: vertex 0 is outside 1..3"),
        ("p edge 3 1\ne 1 x\n", ":2: vertex v is not a non-negative integer"),
        ("p edge 3 1\ne 1 2 3\n", ":2: expected 'e u v'"),
        ("p edge 3 1\nn 1 2\n", ":2: unknown line type 'n'"),
        ("p edge 3 5\ne 1 2\n", ":1: M = 5 edges but only 1 lines follow"),
        ("p edge 3 1\ne 1 2\ne 2 3\n", ":1: M = 1 but the file lists 2 edge lines"),
        ("p edge 0 0\n", ":1: N = 0"),
        ("p cnf 3 1\ne 1 2\n", ":1: expected the problem line"),
    ],
)
def test_bad_files_are_refused_with_the_line(tmp_path, text, message):
    with pytest.raises(ValueError, match=message) as info:
        read_col(_write(tmp_path, text))
    assert "\n" not in str(info.value)


graphs = st.integers(1, 12).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
                .filter(lambda e: e[0] < e[1]), max_size=30),
    )
)


def _edges(pairs):
    return np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)


@given(graphs)
def test_dsatur_colours_without_conflict(graph):
    n, pairs = graph
    colours = dsatur(n, _edges(pairs))
    assert colours.shape == (n,) and colours.min() >= 0
    assert conflicts(_edges(pairs), colours) == 0
    assert colours.max() + 1 <= max((sum(1 for e in pairs if v in e) for v in range(n)),
                                    default=0) + 1


@given(graphs, st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_objective_energy_is_the_conflict_count(graph, k, seed):
    n, pairs = graph
    edges = _edges(pairs)
    colours = np.random.default_rng(seed).integers(0, k, n)
    assert float(coloring_objective(n, edges, k).energy(colours)) == conflicts(edges, colours)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_the_downward_search_reaches_the_chromatic_number_of_small_graphs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 9))
    g = nx.gnp_random_graph(n, 0.5, seed=int(seed % 2**31))
    edges = _edges((min(e), max(e)) for e in g.edges)
    chromatic = min(k for k in range(1, n + 1)
                    if any(conflicts(edges, np.array(c)) == 0
                           for c in np.ndindex(*(k,) * n)))
    r = color_graph(ColGraph("random", n, edges), time_limit=2.0, seed=1, strategy="tabu")
    assert r.valid and r.colors == chromatic and conflicts(edges, r.coloring) == 0


def test_cli_json_record_is_one_line(tmp_path, color_main, capsys):
    path = _write(tmp_path, "p edge 5 5\ne 1 2\ne 2 3\ne 3 4\ne 4 5\ne 5 1\n", "c5.col")
    assert color_main(["color", path, "--colors", "3", "--time-limit", "1", "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    record = json.loads(out)
    assert {k: record[k] for k in ("instance", "n", "edges", "colors", "conflicts", "valid")} == {
        "instance": "c5", "n": 5, "edges": 5, "colors": 3, "conflicts": 0, "valid": True}
    assert set(record["coloring"]) == {"1", "2", "3", "4", "5"}
    colouring = {int(v): c for v, c in record["coloring"].items()}
    assert all(colouring[u] != colouring[u % 5 + 1] for u in range(1, 6))
    assert set(colouring.values()) <= {1, 2, 3} and record["seed"] == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["g", "--colors", "0"], "--colors: must be >= 1"),
        (["g", "--time-limit", "-1"], "--time-limit: must be a positive"),
        (["g", "--seed", "x"], "--seed: not an integer"),
    ],
)
def test_cli_bad_options_exit_2_with_one_line(color_main, capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        color_main(["color", *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cli_unknown_graph_exits_2_with_one_line(color_main, capsys):
    assert color_main(["color", "no_such_graph"]) == 2
    err = capsys.readouterr().err
    assert "no file 'no_such_graph'" in err and err.count("\n") == 1


def test_cli_bad_file_exits_2_with_the_line(tmp_path, color_main, capsys):
    path = _write(tmp_path, "p edge 3 1\ne 1 7\n")
    assert color_main(["color", path]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "g.col:2: vertex 7 is outside 1..3" in err


@needs_data
def test_published_graph_by_name():
    g = load_graph("queen6_6")
    assert (g.num_vertices, g.edges.shape[0]) == (36, 290)
    r = color_graph(g, 7, time_limit=10.0, seed=1, strategy="tabu")
    assert r.best_known == 7 and r.valid


@settings(max_examples=15, deadline=None)
@given(graphs, st.integers(2, 4), st.integers(0, 2**32 - 1))
def test_max_k_cut_reaches_the_brute_force_optimum(graph, k, seed):
    n, pairs = graph
    if n > 7:
        return
    edges = _edges(pairs)
    weights = np.random.default_rng(seed).integers(1, 5, edges.shape[0]).astype(float)
    best = max(float(weights[np.array(p)[edges[:, 0]] != np.array(p)[edges[:, 1]]].sum())
               for p in np.ndindex(*(k,) * n)) if edges.size else 0.0
    cut, parts = max_k_cut(n, edges, weights, k, time_limit=0.5, seed=1, strategy="tabu")
    assert cut == best
    assert cut == float(weights[parts[edges[:, 0]] != parts[edges[:, 1]]].sum())
