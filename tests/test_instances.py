"""Instances by name, senses and gaps, and the readers against published values.

The published instances have integer weights, so every energy is an integer far below
2**53, exact in any summation order: comparing energies with ``==`` is safe here.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import dimod
import numpy as np
import pytest

from combopt import instances
from combopt.instances import Instance, expand, from_file, load, names

DATA = os.environ.get("COMBOPT_DATA")
needs_data = pytest.mark.skipif(
    not DATA,
    reason="needs the published instances beyond the embedded set: set COMBOPT_DATA "
    "(e.g. COMBOPT_DATA=../shared/data)",
)


@pytest.fixture
def embedded(monkeypatch):
    monkeypatch.delenv("COMBOPT_DATA", raising=False)


def test_embedded_set_loads_without_data_dir(embedded):
    inst = load("bqp50.1")
    assert (inst.name, inst.sense, inst.best_known, inst.n) == ("bqp50.1", "max", 2098.0, 50)
    assert load("gka4d").sense == "min" and load("gka4d").best_known == -10727.0
    assert load("G11").best_known == 564.0
    assert names("bqp100") == [f"bqp100.{k}" for k in range(1, 11)]
    assert set(names("gka")) == {"gka1a", "gka1b", "gka1c", "gka4d"}
    with pytest.raises(ValueError, match=r"not found in the embedded set \(COMBOPT_DATA unset\)"):
        load("bqp250.1")


def test_every_embedded_instance_has_a_best_known_value(embedded):
    for name in names("bqp") + names("gka") + names("gset"):
        assert load(name).best_known is not None, name


def test_sense_objective_and_gap():
    bqm = dimod.BQM({0: -1.0}, {}, 0.0, "BINARY")
    mx = Instance("m", bqm, "max", 200.0)
    mn = Instance("n", bqm, "min", -200.0)
    assert mx.objective(-190.0) == 190.0 and mn.objective(-190.0) == -190.0
    assert mx.gap_percent(190.0) == 5.0 and mn.gap_percent(-190.0) == 5.0
    assert mx.gap_percent(200.0) == 0.0 and mn.gap_percent(-200.0) == 0.0
    assert mx.target_energy == -200.0 and mn.target_energy == -200.0
    assert Instance("u", bqm, "min").gap_percent(3.0) is None
    with pytest.raises(ValueError, match="sense"):
        Instance("x", bqm, "maximise")


def test_bad_names_and_lists(embedded):
    with pytest.raises(ValueError, match="unknown instance name 'bqp50'"):
        load("bqp50")
    with pytest.raises(ValueError, match=re.escape("holds instances 1..10")):
        load("bqp50.11")
    with pytest.raises(ValueError, match="empty G-set range"):
        expand("G5-G2")
    assert expand("gka4d, bqp50.2,G1-2") == ["gka4d", "bqp50.2", "G1", "G2"]


def test_data_dir_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("COMBOPT_DATA", str(tmp_path / "missing"))
    with pytest.raises(OSError, match="is not a directory"):
        load("bqp50.1")


def test_from_file_picks_the_instance_and_its_best_known(embedded):
    path = instances.data_dir() / "bqp" / "orlib" / "bqp100.txt"
    inst = from_file(f"{path}#4")
    assert (inst.name, inst.best_known) == ("bqp100.4", load("bqp100.4").best_known)
    assert inst.bqm == load("bqp100.4").bqm
    with pytest.raises(ValueError, match="bad instance index 'x'"):
        from_file(f"{path}#x")


def test_embedded_bqp50_best_known_reached_with_this_reading(embedded):
    """A reader is right only if the published optimum is reached with its reading."""
    from dwave.samplers import TabuSampler

    for name in names("bqp50") + names("gka"):
        inst = load(name)
        best = TabuSampler().sample(inst.bqm, num_reads=2, seed=5, timeout=100).first.energy
        assert inst.objective(best) == inst.best_known, name


@needs_data
def test_every_published_file_reads_with_the_listed_size():
    root = Path(DATA)
    for sub in ("bqp", "gset"):
        with open(root / sub / "best_known.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        for row in rows:
            path = instances._locate(row["instance"], root)[1]
            if not path.is_file():
                continue  # the csv lists a few GKA instances the folder does not ship
            inst = load(row["instance"])
            assert inst.n == int(row["n"]) and inst.sense == row["sense"], row["instance"]


@needs_data
def test_gset_energy_is_minus_cut_from_the_raw_edges():
    inst = load("G14")
    lines = Path(inst.source).read_text().split()
    edges = np.array(lines[2:], dtype=np.int64).reshape(-1, 3)
    rng = np.random.default_rng(1)
    for _ in range(5):
        s = rng.choice([-1, 1], size=inst.n)
        cut = edges[s[edges[:, 0] - 1] != s[edges[:, 1] - 1], 2].sum()
        assert inst.objective(inst.bqm.energy(s)) == cut


@needs_data
@pytest.mark.slow
def test_published_values_reached_with_this_reading():
    from dwave.samplers import TabuSampler

    for name in ["bqp100.3", "bqp250.1", "bqp500.2", "gka10b", "gka9d"]:
        inst = load(name)
        best = TabuSampler().sample(inst.bqm, num_reads=2, seed=2, timeout=1500).first.energy
        assert inst.objective(best) == inst.best_known, name


def test_names_come_from_the_files_present(tmp_path, monkeypatch):
    """GKA sets e and f (and any bqp/gka/*.sparse) resolve by name, with their best known."""
    gka = tmp_path / "bqp" / "gka"
    gka.mkdir(parents=True)
    (gka / "gka5f.sparse").write_text("2 2\n1 1 -4\n1 2 1\n")
    (gka / "gka12e.sparse").write_text("1 1\n1 1 -3\n")
    (tmp_path / "bqp" / "best_known.csv").write_text(
        "instance,n,best_known,sense,source\ngka5f,2,-4,min,test\n")
    monkeypatch.setenv("COMBOPT_DATA", str(tmp_path))
    inst = load("gka5f")
    assert (inst.sense, inst.best_known, inst.n) == ("min", -4.0, 2)
    assert load("gka12e").best_known is None
    assert names("gka") == ["gka5f", "gka12e"]
    assert expand("gka5f,gka") == ["gka5f", "gka12e"]
    with pytest.raises(ValueError, match="no file"):
        load("gka7f")  # a GKA name whose file is absent: says so, not "unknown name"
    with pytest.raises(ValueError, match="unknown instance name 'foo'"):
        expand("foo")
