"""Every sub-command's ``--json`` prints exactly one JSON object on one line.

One record per line is what lets ``combopt ... --json | jq`` and ``>> runs.jsonl``
work; the engine records also share one timing breakdown (``docs/cli.md``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from fake_terminal import Terminal

from combopt.cli import main

ENGINE_TIMING = {"read", "compile", "search", "total"}


@pytest.fixture(autouse=True)
def embedded(monkeypatch):
    monkeypatch.delenv("COMBOPT_DATA", raising=False)


def one_json_line(capsys, argv) -> dict:
    assert main(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1, out
    record = json.loads(out)
    assert isinstance(record, dict)
    return record


def check_engine_timing(record: dict) -> None:
    timing = record["timing"]
    assert set(timing) >= ENGINE_TIMING
    assert record["seconds"] == timing["search"]
    assert all(v >= 0 for v in timing.values())
    # ``total`` is the wall time around the three stages.
    assert timing["read"] + timing["compile"] + timing["search"] <= timing["total"] * (1 + 1e-9)


def test_solve(capsys):
    record = one_json_line(capsys, ["solve", "bqp50.1", "--seed", "1", "--max-iterations", "2",
                                    "--sample", "--json"])
    check_engine_timing(record)


def test_reduce_check_solve_and_convert(tmp_path, capsys):
    record = one_json_line(capsys, ["reduce", "check", "--random", "6", "--seed", "2", "--json"])
    assert record["passed"] is True
    record = one_json_line(capsys, ["reduce", "solve", "bqp50.1", "--strategy", "tabu",
                                    "--max-iterations", "2", "--json"])
    check_engine_timing(record)
    assert list(record["sample"]) == [str(k) for k in range(50)]
    out = tmp_path / "t.npz"
    one_json_line(capsys, ["reduce", "--random", "4", "--to", "training", "--out", str(out),
                           "--json"])


def test_reduce_gets_the_vartype_its_error_asks_for(tmp_path, capsys):
    path = tmp_path / "m.coo"
    path.write_text("0 1 1.5\n1 2 -2\n2 2 1\n")
    assert main(["reduce", "check", str(path)]) == 2
    assert "--vartype SPIN|BINARY" in capsys.readouterr().err
    record = one_json_line(capsys, ["reduce", "check", str(path), "--vartype", "SPIN", "--json"])
    assert record["variables"] == "spin" and record["passed"] is True
    record = one_json_line(capsys, ["reduce", "solve", str(path), "--vartype", "BINARY",
                                    "--strategy", "tabu", "--json"])
    energies = [1.5 * a * b - 2 * b * c + c for a in (0, 1) for b in (0, 1) for c in (0, 1)]
    assert record["energy"] == min(energies)


def test_tsp(tmp_path, capsys):
    rng = np.random.default_rng(0)
    points = rng.random((6, 2))
    np.save(tmp_path / "d.npy", np.linalg.norm(points[:, None] - points[None], axis=-1))
    record = one_json_line(capsys, ["tsp", str(tmp_path / "d.npy"), "--time-limit", "0.1",
                                    "--seed", "1", "--num-reads", "1", "--json"])
    check_engine_timing(record)
    assert sorted(record["tour"]) == list(range(1, 7))


def test_train(capsys):
    record = one_json_line(capsys, ["train", "iris", "--max-iterations", "1", "--segments", "1",
                                    "--json"])
    check_engine_timing(record)
    assert record["seconds"] > 0 and record["config"]["max_iterations"] == 1


def test_bench_run_and_report(tmp_path, capsys):
    out = tmp_path / "runs.jsonl"
    record = one_json_line(capsys, ["bench", "run", "--instances", "gka1b", "--samplers",
                                    "combopt-tabu", "--seeds", "1", "--time-limit", "0.05",
                                    "--workers", "0", "--out", str(out), "--json"])
    assert record == {"out": str(out), "appended": 1, "errors": []}
    record = one_json_line(capsys, ["bench", "report", str(out), "--out", str(tmp_path / "rep"),
                                    "--no-figures", "--json"])
    assert set(record) == {"report"}


def test_progress_goes_to_a_terminal_stderr_only(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    record = one_json_line(capsys, ["solve", "bqp50.1", "--seed", "1", "--max-iterations", "3",
                                    "--json"])
    assert record["instance"] == "bqp50.1"  # stdout still holds the one JSON line alone
    assert "bqp50.1" in terminal.text and "it" in terminal.text


def test_no_progress_when_stderr_is_not_a_terminal(capsys):
    assert main(["solve", "bqp50.1", "--seed", "1", "--max-iterations", "3"]) == 0
    assert capsys.readouterr().err == ""
