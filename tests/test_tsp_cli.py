"""solve_tsp, plotting and the ``combopt tsp`` command."""

import json
import os

import numpy as np
import pytest

from combopt import cli
from combopt.tsp import held_karp, load_instance, solve_tsp
from combopt.tsp.plot import plot_tour, save_tour_plot
from combopt.tsp.sources import from_matrix

needs_data = pytest.mark.skipif(
    not os.environ.get("COMBOPT_DATA"),
    reason="COMBOPT_DATA is not set (point it at the published data folder)",
)


def _points(n, seed):
    """Random points with TSPLIB-style rounded (integer) distances: lengths compare exactly."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2))
    d = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) + 0.5)
    return from_matrix(d, name=f"random{n}", coordinates=xy)


@pytest.fixture
def tsp_main(monkeypatch):
    """``combopt`` with only the ``tsp`` sub-command (other modules are not this test's)."""
    monkeypatch.setattr(cli, "SUBCOMMANDS", ("tsp",))
    return cli.main


@pytest.mark.parametrize("encoding", ["successor", "permutation", "qubo"])
def test_solve_tsp_small_instance_reaches_held_karp(encoding):
    inst = _points(7, 1)
    res = solve_tsp(inst, encoding, "tabu", max_iterations=100, num_reads=2, seed=3)
    assert res.valid and sorted(res.tour) == list(range(7))
    assert res.optimum == held_karp(inst)[1]  # unnamed n <= 12: exact reference
    assert res.length == inst.tour_length(res.tour) == res.engine_length
    assert res.gap_percent == pytest.approx(100 * (res.length - res.optimum) / res.optimum)
    assert res.length == res.optimum
    if encoding == "qubo":
        assert res.lagrange > 0 and 0 <= res.feasible_reads <= 2
    else:
        assert res.lagrange is None and res.feasible_reads == 2


def test_refinement_is_reported_apart_and_never_worse():
    inst = _points(30, 2)
    res = solve_tsp(inst, strategy="paper", max_iterations=3, num_reads=2, seed=1, refine=True)
    assert res.refined and res.valid
    assert res.length <= res.engine_length
    assert res.engine_length == min(res.solve_result.energies)


def test_time_limited_anneal_uses_the_instance_scale_and_respects_the_budget():
    inst = _points(25, 3)
    res = solve_tsp(inst, "permutation", time_limit=0.5, num_reads=2, seed=4)
    assert res.valid
    # Temperatures from the instance's scale: hot end ln 2 / (2 * mean nearest neighbour).
    d = inst.distances + np.diag(np.full(inst.n, np.inf))
    hot, cold = res.solve_result.info["beta_range"]
    assert hot == pytest.approx(np.log(2) / (2 * d.min(axis=1).mean()))
    assert cold == pytest.approx(np.log(100) / d[d > 0].min())
    assert res.solve_result.timing["solve"] < 1.5


def test_default_encoding_is_successor_for_symmetric_and_permutation_otherwise():
    assert solve_tsp(_points(9, 4), max_iterations=5, num_reads=1, seed=0).encoding == "successor"
    d = np.arange(36, dtype=float).reshape(6, 6)
    np.fill_diagonal(d, 0)
    res = solve_tsp(d, max_iterations=5, num_reads=1, seed=0)
    assert res.encoding == "permutation" and res.valid
    with pytest.raises(ValueError, match="symmetric distances"):
        solve_tsp(d, "successor", max_iterations=5)


def test_plot_draws_the_closed_tour(tmp_path):
    inst = _points(6, 5)
    ax = plot_tour(inst, [0, 1, 2, 3, 4, 5])
    xs = ax.lines[0].get_xdata()
    assert len(xs) == 7 and xs[0] == xs[-1]
    save_tour_plot(inst, [5, 4, 3, 2, 1, 0], tmp_path / "t.png")
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="no coordinates"):
        plot_tour(from_matrix(np.ones((3, 3))), [0, 1, 2])


def test_cli_json_record_and_plot(tsp_main, tmp_path, capsys):
    inst = _points(8, 6)
    np.save(tmp_path / "d.npy", inst.distances)
    code = tsp_main(["tsp", str(tmp_path / "d.npy"), "--encoding", "qubo", "--strategy", "tabu",
                     "--time-limit", "0.3", "--seed", "2", "--num-reads", "2", "--json"])
    assert code == 0
    rec = json.loads(capsys.readouterr().out)
    for key in ("instance", "n", "encoding", "length", "optimum", "gap_percent", "valid",
                "feasible_reads", "seconds"):
        assert key in rec
    assert rec["n"] == 8 and rec["encoding"] == "qubo" and rec["valid"] is True
    assert rec["optimum"] == held_karp(inst)[1]
    assert sorted(rec["tour"]) == list(range(1, 9))  # 1-based city ids, as in the text output
    assert rec["length"] == inst.tour_length([c - 1 for c in rec["tour"]])
    assert rec["seconds"] == rec["timing"]["search"] <= rec["timing"]["total"]


@needs_data
def test_cli_published_instance_with_plot(tsp_main, tmp_path, capsys):
    out = tmp_path / "tour.png"
    code = tsp_main(["tsp", "ulysses16", "--time-limit", "0.5", "--seed", "1", "--refine",
                     "--plot", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert text.startswith("ulysses16 (n=16, successor, ils): length")
    assert "engine alone:" in text and out.stat().st_size > 0
    assert load_instance("ulysses16").n == 16


@pytest.mark.parametrize("argv, message", [
    (["tsp", "no-such-instance-anywhere"], "no such file or published TSPLIB instance"),
    (["tsp", "x", "--lagrange", "3"], "--lagrange applies to --encoding qubo only"),
])
def test_cli_bad_input_is_one_line_exit_2(tsp_main, capsys, argv, message):
    assert tsp_main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("argv, message", [
    (["tsp", "x", "--time-limit", "-1"], "argument --time-limit: must be a positive finite number"),
    (["tsp", "x", "--num-reads", "two"], "argument --num-reads: not an integer: 'two'"),
    (["tsp", "x", "--seed", "-3"], "argument --seed: must be >= 0"),
])
def test_cli_bad_numbers_are_usage_errors(tsp_main, capsys, argv, message):
    """The same converters as every other sub-command (combopt.cli._argtypes)."""
    with pytest.raises(SystemExit) as info:
        tsp_main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cli_text_tour_is_labelled_and_matches_the_json_tour(tsp_main, tmp_path, capsys):
    inst = _points(6, 3)
    np.save(tmp_path / "d.npy", inst.distances)
    argv = ["tsp", str(tmp_path / "d.npy"), "--time-limit", "0.2", "--seed", "5",
            "--num-reads", "1"]
    assert tsp_main([*argv, "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert tsp_main(argv) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.startswith("tour (1-based city ids): ")
    assert [int(c) for c in line.split(": ")[1].split()] == rec["tour"]


def test_cli_malformed_file_names_the_line(tsp_main, tmp_path, capsys):
    bad = tmp_path / "bad.tsp"
    bad.write_text("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n"
                   "1 0 0\n2 1 oops\n3 2 2\n")
    assert tsp_main(["tsp", str(bad)]) == 2
    assert "bad.tsp line 6: expected a number, got 'oops'" in capsys.readouterr().err


def test_the_successor_route_defaults_to_one_read_the_others_to_four():
    rng = np.random.default_rng(4)
    d = np.round(rng.uniform(1, 9, (7, 7)))
    sym = from_matrix(d + d.T)
    assert solve_tsp(sym, max_iterations=20, seed=1).num_reads == 1
    assert solve_tsp(sym, "permutation", max_iterations=20, seed=1).num_reads == 4
    np.fill_diagonal(d, 0)
    asym = solve_tsp(from_matrix(d + np.triu(d)), max_iterations=20, seed=1)
    assert (asym.encoding, asym.num_reads) == ("permutation", 4)
    assert solve_tsp(sym, num_reads=3, max_iterations=20, seed=1).num_reads == 3
