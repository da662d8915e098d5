"""``combopt solve``: sources, JSON record, exit codes (run in-process)."""

from __future__ import annotations

import json

import dimod
import pytest

from combopt.cli import main
from combopt.instances import data_dir, load

KEYS = {"instance", "n", "strategy", "objective", "sense", "best_known", "gap_percent", "energy",
        "seconds", "timing", "evaluations", "seed"}


def labelled(sample: dict) -> dict:
    """A JSON sample mapping with its numeric labels back as ints (JSON keys are strings)."""
    return {int(k) if k.lstrip("-").isdigit() else k: v for k, v in sample.items()}


@pytest.fixture(autouse=True)
def embedded(monkeypatch):
    monkeypatch.delenv("COMBOPT_DATA", raising=False)


def run_json(capsys, *argv):
    code = main(["solve", *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_named_instance_reaches_its_optimum_in_its_own_sense(capsys):
    rec = run_json(capsys, "bqp50.3", "--strategy", "tabu", "--num-reads", "2", "--seed", "1",
                   "--sample")
    assert set(rec) >= KEYS
    assert (rec["instance"], rec["n"], rec["sense"], rec["best_known"]) == ("bqp50.3", 50, "max",
                                                                             4626.0)
    assert rec["objective"] == -rec["energy"] == 4626.0 and rec["gap_percent"] == 0.0
    assert rec["seed"] == 1 and rec["evaluations"] > 0 and rec["seconds"] > 0
    inst = load("bqp50.3")
    assert inst.bqm.energy(labelled(rec["sample"])) == rec["energy"]
    assert list(rec["sample"]) == [str(k) for k in range(50)]  # numeric order
    assert set(rec["timing"]) >= {"read", "compile", "search", "total"}
    assert rec["seconds"] == rec["timing"]["search"] <= rec["timing"]["total"]


def test_minimisation_instance_and_gap_sign(capsys):
    rec = run_json(capsys, "gka1b", "--strategy", "paper", "--seed", "3", "--max-iterations", "1")
    assert rec["sense"] == "min" and rec["objective"] == rec["energy"]
    assert rec["gap_percent"] == pytest.approx(
        100 * (rec["objective"] - rec["best_known"]) / abs(rec["best_known"]))
    assert rec["gap_percent"] >= 0


def test_same_seed_same_answer(capsys):
    a = run_json(capsys, "bqp100.2", "--strategy", "anneal", "--seed", "9", "--sample")
    b = run_json(capsys, "bqp100.2", "--strategy", "anneal", "--seed", "9", "--sample")
    assert a["sample"] == b["sample"] and a["energy"] == b["energy"]


def test_orlib_file_with_index_forms(capsys):
    path = str(data_dir() / "bqp" / "orlib" / "bqp50.txt")
    a = run_json(capsys, f"{path}#2", "--seed", "1")
    b = run_json(capsys, path, "--index", "2", "--seed", "1")
    assert a["instance"] == b["instance"] == "bqp50.2" and a["best_known"] == 3702.0
    assert a["energy"] == b["energy"]


def test_coo_file_with_labels_and_vartype(tmp_path, capsys):
    path = tmp_path / "m.coo"
    path.write_text("0 1 1.5\n1 7 -2\n7 7 1e-1\n")
    with pytest.raises(SystemExit):
        main(["solve", str(path), "--vartype", "TERNARY"])
    capsys.readouterr()
    assert main(["solve", str(path)]) == 2
    err = capsys.readouterr().err
    assert "no '# vartype" in err and "--vartype SPIN|BINARY" in err and err.count("\n") == 1
    rec = run_json(capsys, str(path), "--vartype", "SPIN", "--sample", "--seed", "0",
                   "--strategy", "anneal")
    assert rec["sense"] == "min" and rec["best_known"] is None and rec["gap_percent"] is None
    assert list(rec["sample"]) == ["0", "1", "7"]
    bqm = dimod.BQM({7: 0.1}, {(0, 1): 1.5, (1, 7): -2.0}, 0.0, "SPIN")
    assert rec["energy"] == pytest.approx(dimod.ExactSolver().sample(bqm).first.energy)
    assert bqm.energy(labelled(rec["sample"])) == pytest.approx(rec["energy"])


def test_sample_is_in_numeric_label_order_in_json_and_text(tmp_path, capsys):
    """Variable 14 first in the file: the sample still lists 0..14 in order, labelled."""
    path = tmp_path / "m.coo"
    lines = ["# vartype=BINARY", "14 14 -1"] + [f"{i} {i + 1} 1" for i in range(14)]
    path.write_text("\n".join(lines) + "\n")
    rec = run_json(capsys, str(path), "--sample", "--seed", "1")
    assert list(rec["sample"]) == [str(k) for k in range(15)]
    bqm = dimod.BQM({14: -1.0}, {(i, i + 1): 1.0 for i in range(14)}, 0.0, "BINARY")
    assert bqm.energy(labelled(rec["sample"])) == rec["energy"]
    assert main(["solve", str(path), "--sample", "--seed", "1"]) == 0
    text = capsys.readouterr().out.splitlines()[-1]
    assert text == "sample: " + " ".join(f"{k}={v}" for k, v in rec["sample"].items())


def test_empty_file_is_reported_as_empty(tmp_path, capsys):
    path = tmp_path / "empty.coo"
    path.write_text("")
    assert main(["solve", str(path)]) == 2
    err = capsys.readouterr().err
    assert "empty" in err and "vartype" not in err


def test_human_readable_output(capsys):
    assert main(["solve", "gka1a", "--seed", "2", "--num-reads", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("gka1a: n=50  minimise  best known -3414")
    assert "objective -3414" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["nothing-here"], "is neither a file nor an instance name"),
        (["bqp50.11"], "holds instances 1..10"),
        (["bqp250.1"], "not found in the embedded set"),
        (["./missing.txt"], "no such file"),
    ],
)
def test_bad_sources_exit_2_with_one_line(capsys, argv, message):
    assert main(["solve", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_bad_file_exits_2_naming_file_and_line(tmp_path, capsys):
    path = tmp_path / "bad.sparse"
    path.write_text("3 2\n1 1 4\n1 2 nan\n")
    assert main(["solve", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:3: value is not a finite number: 'nan'" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv", [[], ["bqp50.1", "--num-reads", "0"], ["bqp50.1", "--seed", "-1"],
                                  ["bqp50.1", "--time-limit", "nan"],
                                  ["bqp50.1", "--format", "xml"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(["solve", *argv])
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_dimod_bqm_file_and_time_limit(tmp_path, capsys):
    bqm = dimod.generators.gnp_random_bqm(12, 0.5, "BINARY", random_state=7)
    path = tmp_path / "model.bqm"
    path.write_bytes(bqm.to_file().read())
    rec = run_json(capsys, str(path), "--strategy", "anneal", "--num-reads", "3", "--seed", "4",
                   "--time-limit", "0.2", "--sample")
    assert rec["n"] == 12 and rec["sense"] == "min" and rec["num_reads"] == 3
    assert rec["energy"] == pytest.approx(dimod.ExactSolver().sample(bqm).first.energy)
    assert bqm.energy(labelled(rec["sample"])) == pytest.approx(rec["energy"])
