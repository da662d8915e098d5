"""experiments/tsp_bench.py: its tables from the JSONL file, and resuming a sweep."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(EXPERIMENTS))  # the script imports its sibling tsp_peers
    spec = importlib.util.spec_from_file_location("tsp_bench", EXPERIMENTS / "tsp_bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rec(instance, peer, seed, gap, cls="small"):
    return {"experiment": "tsp_bench", "instance": instance, "n": 50, "class": cls,
            "peer": peer, "seed": seed, "time_limit": 5.0, "wall_seconds": 5.0,
            "length": 100 + gap, "optimum": 100.0, "gap_percent": gap, "valid": True}


def test_size_classes(bench):
    assert [bench.size_class(n) for n in (51, 76, 77, 280, 299, 1002, 1173)] == [
        "small", "small", "mid", "mid", "large", "large", "xl"]


def test_report_means_per_class_and_the_distance_to_the_peers(bench, tmp_path):
    records = [_rec("a", "combopt/successor", 1, 1.0), _rec("a", "combopt/successor", 2, 3.0),
               _rec("b", "combopt/successor", 1, 0.0), _rec("a", "fast-tsp", 1, 0.0),
               _rec("b", "fast-tsp", 1, 0.5), _rec("a", "ortools", 1, 4.0)]
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    lines = bench.report(path)
    row = next(line for line in lines if "| combopt/successor | 2 | 3 |" in line)
    assert "| 1.00 | 3.00 |" in row  # mean over instances of the per-instance means
    assert "| small | combopt/successor | fast-tsp | 2 | +0.75 |" in lines
    assert "| small | combopt/successor | ortools | 1 | -2.00 |" in lines  # common instances


def test_sweep_streams_records_and_resumes(bench, tmp_path, monkeypatch, capsys):
    pytest.importorskip("fast_tsp")
    monkeypatch.setenv("COMBOPT_DATA", str(tmp_path))
    xy = np.random.default_rng(1).uniform(0, 100, (25, 2))
    np.save(tmp_path / "c25.npy", np.rint(np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1))))
    out = tmp_path / "b.jsonl"
    argv = ["--instances", str(tmp_path / "c25.npy"), "--peers", "fast-tsp", "--seeds", "1", "2",
            "--budget", "small=0.2", "--out", str(out)]
    assert bench.main(argv) == 0
    first = out.read_text().splitlines()
    assert len(first) == 2 and all(json.loads(line)["valid"] for line in first)
    assert bench.main([*argv, "--resume"]) == 0
    assert out.read_text().splitlines() == first  # nothing ran again
    with pytest.raises(SystemExit, match="--resume"):
        bench.main(argv)
    capsys.readouterr()
