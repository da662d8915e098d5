"""SA's sweeps fitted to a wall-time limit: the calibration and the per-run correction.

A fake clock and a fake SA make every figure exact: the tests check the arithmetic of
the fit, the secant re-fit and the correction of runs that miss their limit.
"""

import dimod
import pytest

from combopt.bench import run_one
from combopt.instances import load


class _FakeClock:
    now = 0.0

    def perf_counter(self):
        return self.now


def _fake_sa(monkeypatch, seconds_for):
    """SA whose ``sample`` advances a fake clock by ``seconds_for(sweeps)``."""
    import dwave.samplers

    from combopt.bench import calibrate

    clock = _FakeClock()
    calls = []

    class FakeSA:
        def sample(self, bqm, *, num_reads, num_sweeps, seed):
            calls.append(num_sweeps)
            clock.now += seconds_for(num_sweeps)

    monkeypatch.setattr(calibrate, "time", clock)
    monkeypatch.setattr(dwave.samplers, "SimulatedAnnealingSampler", FakeSA)
    return calls


def test_sa_calibration_separates_the_fixed_cost(monkeypatch):
    from combopt.bench.calibrate import calibrate_sa

    # 80 ms of preprocessing + 100 us per sweep: the old one-run scaling
    # (1000 sweeps take 0.18 s -> 0.3 s is 1667 sweeps) would give SA 0.247 s of 0.3 s.
    calls = _fake_sa(monkeypatch, lambda sweeps: 0.08 + 1e-4 * sweeps)
    cal = calibrate_sa(load("gka1a").bqm, 1, time_limit=0.3, repeats=1)
    assert cal["fixed_seconds"] == pytest.approx(0.08)
    assert cal["sweep_seconds"] == pytest.approx(1e-4)
    assert cal["num_sweeps"] == 2200 and cal["within_tolerance"] is True
    assert cal["checks"] == [[2200, pytest.approx(0.3)]]
    assert cal["default_seconds"] == pytest.approx(0.18) and calls[1] == 1000


def test_sa_calibration_refits_when_its_check_misses(monkeypatch):
    from combopt.bench.calibrate import calibrate_sa

    # Sweeps get dearer on long runs (caches, clocks): the short-run fit over-shoots
    # 10 s (14.5 s), and the fit through the runs nearest 10 s corrects it.
    calls = _fake_sa(monkeypatch, lambda s: 0.01 + 1e-4 * s * (1 + s / 2e5))
    cal = calibrate_sa(load("gka1a").bqm, 1, time_limit=10.0, repeats=1)
    first, *rest = cal["checks"]
    assert first[1] > 11.0 and rest  # the first check missed, then a re-fit
    assert cal["within_tolerance"] and abs(cal["checks"][-1][1] / 10 - 1) <= 0.1
    assert cal["num_sweeps"] == cal["checks"][-1][0] == calls[-1]


def test_sa_calibration_survives_a_flat_noisy_secant(monkeypatch):
    from combopt.bench.calibrate import calibrate_sa

    # G47 under load: checks at 35477 and 25315 sweeps both took ~1.4 s, the secant fell
    # below zero and SA ran 1 sweep. Now the count used is a measured check.
    _fake_sa(monkeypatch, lambda s: 0.02 + 2.76e-5 * s if s < 20_000 else 1.4 + 1e-6 * s)
    cal = calibrate_sa(load("gka1a").bqm, 1, time_limit=1.0, repeats=1)
    assert cal["num_sweeps"] in [c[0] for c in cal["checks"]] and cal["num_sweeps"] > 10_000


def test_sa_calibration_says_when_the_time_limit_is_below_its_fixed_cost(monkeypatch):
    from combopt.bench.calibrate import calibrate_sa

    _fake_sa(monkeypatch, lambda s: 0.5 + 1e-5 * s)
    cal = calibrate_sa(load("gka1a").bqm, 1, time_limit=0.1, repeats=1)
    assert cal["num_sweeps"] == 1 and cal["within_tolerance"] is False


def test_sa_runs_are_corrected_towards_the_time_limit(monkeypatch):
    # A machine where a sweep costs twice what the calibration saw: the first run takes
    # 2 s of a 1 s limit, the re-run at half the sweeps lands on it and is kept.
    from combopt.bench import runners

    def fake_sa(bqm, seed, num_reads, sweeps):
        return {"energies": [0.0], "wall_seconds": 2e-4 * sweeps,
                "params": {"num_sweeps": sweeps, "seed": seed}}

    monkeypatch.setattr(runners, "_sa", fake_sa)
    bqm = dimod.BQM({0: 1.0}, {}, 0.0, "BINARY")
    out = run_one("sa", bqm, seed=1, num_reads=1, time_limit=1.0, target_energy=None,
                  sa_sweeps=10_000)
    assert out["params"]["attempts"] == [[10_000, 2.0], [5000, 1.0]]
    assert out["params"]["num_sweeps"] == 5000 and out["wall_seconds"] == 1.0
    # SA's default budget runs its sweeps as given.
    out = run_one("sa", bqm, seed=1, num_reads=1, time_limit=1.0, target_energy=None,
                  sa_sweeps=10_000, sa_corrections=0)
    assert out["params"]["attempts"] == [[10_000, 2.0]]
