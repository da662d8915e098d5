"""``combopt reduce``: check, convert both ways and solve, in-process through ``main``."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from combopt.cli import main
from reductions import qubo_energy, training_loss

DATA = os.environ.get("COMBOPT_DATA")


def needs_data(test):
    """Mark a test as needing the published instances; skip it when COMBOPT_DATA is unset."""
    skip = pytest.mark.skipif(not DATA, reason="COMBOPT_DATA is not set (published instances)")
    return pytest.mark.data(skip(test))


def run_json(capsys, argv):
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_check_random_exhaustive_json(capsys):
    code, rec = run_json(capsys, ["reduce", "check", "--random", "12", "--seed", "4"])
    assert code == 0
    for key in ("n", "shift", "condition_number", "max_abs_error", "max_rel_error",
                "argmin_equal", "points_checked", "passed"):
        assert key in rec
    assert rec["n"] == 12 and rec["points_checked"] == 4096 and rec["method"] == "exhaustive"
    assert rec["argmin_equal"] is True and rec["passed"] is True
    assert rec["max_abs_error"] <= rec["tolerance"]


def test_check_with_samples_uses_random_points(capsys):
    code, rec = run_json(capsys, ["reduce", "check", "--random", "40", "--samples", "64",
                                  "--rows", "50", "--mix-seed", "2", "--spin"])
    assert code == 0 and rec["method"] == "random" and rec["points_checked"] == 66
    assert rec["argmin_equal"] is None and rec["n_samples"] == 50 and rec["variables"] == "spin"


def test_convert_to_training_and_back(tmp_path, capsys):
    rng = np.random.default_rng(7)
    Q, b = rng.normal(size=(6, 6)), rng.normal(size=6)
    src = tmp_path / "q.npz"
    np.savez(src, Q=Q, linear=b, offset=1.25)
    train = tmp_path / "t.npz"
    back = tmp_path / "back.npz"
    assert main(["reduce", str(src), "--to", "training", "--out", str(train), "--rows", "9"]) == 0
    assert main(["reduce", str(train), "--to", "qubo", "--out", str(back)]) == 0
    capsys.readouterr()
    z = ((np.arange(64)[:, None] >> np.arange(6)) & 1).astype(float)
    want = qubo_energy(Q, b, 1.25, z)
    with np.load(train) as t:
        assert t["X"].shape == (9, 6)
        np.testing.assert_allclose(training_loss(t["X"], t["Y"], z, float(t["offset"])), want,
                                   atol=1e-10)
    with np.load(back) as q:
        np.testing.assert_allclose(qubo_energy(q["Q"], q["linear"], float(q["offset"]), z), want,
                                   atol=1e-10)
    code, rec = run_json(capsys, ["reduce", "check", str(back)])
    assert code == 0 and rec["passed"]


def test_convert_ternary_training_set(tmp_path, capsys):
    rng = np.random.default_rng(8)
    src = tmp_path / "train.npz"
    np.savez(src, X=rng.normal(size=(5, 3)), Y=rng.normal(size=(5, 2)))
    out = tmp_path / "q.npz"
    code, rec = run_json(capsys, ["reduce", str(src), "--to", "qubo", "--out", str(out),
                                  "--weights=-1,0,1"])
    assert code == 0 and rec["encoding"] == "expansion" and rec["n"] == 3 * 2 * 2
    with np.load(out) as q:
        assert q["Q"].shape == (12, 12) and list(q["weight_values"]) == [-1.0, 0.0, 1.0]


def test_check_exits_1_when_the_check_fails(tmp_path, capsys, monkeypatch):
    import combopt.cli.reduce as reduce_cli
    from reductions.cholesky import TrainingReduction

    real = reduce_cli.qubo_to_training

    def broken(*args, **kwargs):
        r = real(*args, **kwargs)
        return TrainingReduction(r.X, r.Y * 1.01, r.offset, r.shift, r.condition_number, r.source)

    monkeypatch.setattr(reduce_cli, "qubo_to_training", broken)
    code, rec = run_json(capsys, ["reduce", "check", "--random", "8"])
    assert code == 1 and rec["passed"] is False


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["reduce", "check"], "exactly one of SOURCE and --random"),
        (["reduce", "check", "missing.npz"], "No such file"),
        (["reduce", "check", "--random", "8", "--shift", "-1000"], "Cholesky"),
        (["reduce", "check", "--random", "31", "--exhaustive"], "d <= 30"),
        (["reduce", "check", "--random", "8", "--shift", "big"], "--shift"),
        (["reduce", "--random", "8"], "--to training|qubo"),
        (["reduce", "--random", "8", "--to", "qubo", "--out", "x.npz"], "training set"),
        (["reduce", "check", "--random", "4", "--rows", "3"], "at least the number"),
        (["reduce", "check", "a.npz", "b.npz"], "one SOURCE"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


@needs_data
def test_check_and_solve_a_published_instance(capsys):
    code, rec = run_json(capsys, ["reduce", "check", "bqp50.1", "--samples", "200"])
    assert code == 0 and rec["passed"] and rec["source"] == "bqp50.1" and rec["n"] == 50
    code, rec = run_json(capsys, ["reduce", "solve", "bqp50.3", "--strategy", "tabu",
                                  "--max-iterations", "200", "--num-reads", "2", "--seed", "3"])
    assert code == 0 and rec["route"] == "training"
    assert -rec["energy"] == 4626  # the published maximum of bqp50.3
    assert rec["training_energy"] == pytest.approx(rec["energy"], abs=1e-9)
    assert len(rec["sample"]) == 50
