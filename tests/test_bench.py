"""Benchmark harness: records, metrics, resume, executors, report, CLI."""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from combopt.bench import Sweep, read_records, run_one, time_to_solution
from combopt.bench.calibrate import on_time_limit
from combopt.bench.report import summarise, write_report
from combopt.bench.runners import unavailable
from combopt.cli import main
from combopt.cli.bench import parse_samplers, parse_seeds
from combopt.instances import load


@pytest.fixture(autouse=True)
def embedded(monkeypatch):
    monkeypatch.delenv("COMBOPT_DATA", raising=False)


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    """gka1b (n = 20, min) and bqp50.4 (max) x four samplers x two seeds, 50 ms time limit."""
    out = tmp_path_factory.mktemp("sweep") / "runs.jsonl"
    sweep = Sweep(["gka1b", "bqp50.4"], ["combopt-tabu", "tabu", "sa", "exact"], [1, 2], out,
                  time_limit=0.05)
    return out, sweep.run(workers=0)


def test_every_run_is_a_complete_record_on_disk(small_sweep):
    out, written = small_sweep
    on_disk = read_records(out)
    runs = [r for r in on_disk if r["kind"] == "run"]
    assert len(runs) == len(written) == 16
    assert {r["key"] for r in runs} == {r["key"] for r in written}
    calib = [r for r in on_disk if r["kind"] == "calibration"]
    assert {c["instance"] for c in calib} == {"gka1b", "bqp50.4"}  # "sa" needs its sweep rate
    for r in runs:
        assert {"seed", "versions", "machine", "time_limit", "started_at"} <= set(r)
        assert r["versions"]["dimod"] and r["machine"]["cpus"] >= 1
        assert len(r["versions"]["combopt_source"]) == 12
    skipped = [r for r in runs if "skipped" in r]
    assert [(r["instance"], r["sampler"]) for r in skipped] == [("bqp50.4", "exact")] * 2


def test_metrics_follow_the_instance_sense(small_sweep):
    _, written = small_sweep
    for r in written:
        if "skipped" in r:
            continue
        inst = load(r["instance"])
        assert r["best_objective"] == inst.objective(r["best_energy"])
        assert r["gap_percent"] == pytest.approx(inst.gap_percent(r["best_objective"]))
        assert r["success"] == (r["best_objective"] == inst.best_known)
        assert (r["ttt_seconds"] is not None) == r["success"]
        if r["success"]:
            assert 0 <= r["ttt_seconds"] <= r["wall_seconds"] + 1e-3
    exact = [r for r in written if r["sampler"] == "exact" and "skipped" not in r]
    assert all(r["success"] and r["best_objective"] == -133.0 for r in exact)


def test_equal_time_limit_matching(small_sweep):
    out, written = small_sweep
    calib = {r["instance"]: r for r in read_records(out) if r["kind"] == "calibration"}
    for r in written:
        assert r["time_limit"] == 0.05 and r["time_limit_source"] == "0.05s"
        if r["sampler"] == "sa":
            # The sweeps SA's calibration fitted (and checked) for this instance and limit,
            # then corrected while a run's wall time missed it (the kept run is the nearest).
            attempts = r["params"]["attempts"]
            assert attempts[0][0] == r["sa_sweeps"] == calib[r["instance"]]["num_sweeps"]
            assert all(not on_time_limit(wall, 0.05) for _, wall in attempts[:-1])
            kept = min(attempts, key=lambda a: abs(a[1] - 0.05))
            assert [r["params"]["num_sweeps"], r["wall_seconds"]] == kept
            assert calib[r["instance"]]["time_limit"] == 0.05
        if r["sampler"] == "tabu":
            assert r["params"]["timeout_ms"] == 50
        if r["sampler"] == "combopt-tabu":
            assert r["params"]["time_limit"] == 0.05


def test_every_run_records_its_achieved_wall_time(small_sweep):
    _, written = small_sweep
    for r in written:
        if "skipped" in r:
            continue
        assert r["wall_ratio"] == pytest.approx(r["wall_seconds"] / 0.05)
        if r["sampler"] == "exact" or r.get("stopped_at_target"):
            assert r["on_time_limit"] is None  # the limit did not bind
        else:
            assert r["on_time_limit"] == (abs(r["wall_ratio"] - 1) <= 0.1)


def test_resume_after_interruption_loses_and_repeats_nothing(tmp_path):
    out = tmp_path / "r.jsonl"
    sweep = Sweep(["gka1a"], ["combopt-paper", "random"], [1, 2, 3], out, time_limit=0.01)

    seen = []

    def interrupt_after_two(record):
        seen.append(record)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep.run(workers=0, on_record=interrupt_after_two)
    assert len([r for r in read_records(out) if r["kind"] == "run"]) == 2
    with pytest.raises(OSError, match="pass resume"):
        sweep.run(workers=0)
    rest = sweep.run(workers=0, resume=True)
    assert len(rest) == 4
    keys = [r["key"] for r in read_records(out) if r["kind"] == "run"]
    assert len(keys) == len(set(keys)) == 6
    assert sweep.run(workers=0, resume=True) == []


def test_time_limit_defaults_to_sa_default_run_time(tmp_path):
    out = tmp_path / "d.jsonl"
    [rec] = Sweep(["gka1a"], ["sa"], [4], out).run(workers=0)
    [calib] = [r for r in read_records(out) if r["kind"] == "calibration"]
    assert rec["time_limit_source"] == "sa-default"
    assert rec["time_limit"] == calib["default_seconds"]
    assert rec["params"]["num_sweeps"] == 1000  # SA's own default, by construction


def test_torn_last_line_is_announced_but_a_bad_middle_line_is_refused(tmp_path):
    good = json.dumps({"kind": "run", "key": "a"})
    path = tmp_path / "t.jsonl"
    path.write_text(good + "\n" + '{"kind": "ru')
    messages = []
    assert read_records(path, on_torn=messages.append) == [{"kind": "run", "key": "a"}]
    assert messages == [f"{path}:2: torn last line (12 bytes, no newline) left out"]
    with pytest.warns(RuntimeWarning, match="torn last line"):
        read_records(path)
    # A record that lost only its newline is whole: kept, nothing announced.
    path.write_text(good + "\n" + good)
    assert len(read_records(path, on_torn=messages.append)) == 2 and len(messages) == 1
    # A bad line with a newline after it is not a crash mid-write: refused.
    for text in (good + "\nnot json\n" + good + "\n", good + "\n[1, 2]\n"):
        path.write_text(text)
        with pytest.raises(ValueError, match=r"t\.jsonl:2: not a JSON record"):
            read_records(path)


def test_repair_tail_moves_a_fragment_aside_and_completes_a_whole_record(tmp_path):
    from combopt.bench.records import repair_tail

    good = json.dumps({"kind": "run", "key": "a"})
    path = tmp_path / "t.jsonl"
    path.write_text(good + "\n" + good[:9])
    assert repair_tail(path) == (f"{path}:2: torn last line (9 bytes) moved to {path}.torn "
                                 "and cut off")
    assert path.read_text() == good + "\n"
    assert (tmp_path / "t.jsonl.torn").read_text() == good[:9] + "\n"
    assert repair_tail(path) is None and path.read_text() == good + "\n"
    path.write_text(good)
    assert "completed it" in repair_tail(path) and path.read_text() == good + "\n"


def _cut_last_line(path, keep):
    """Cut the file inside its last line, keeping ``keep`` of that line's characters."""
    text = path.read_text()
    start = text.rstrip("\n").rfind("\n") + 1
    path.write_text(text[:start + keep])
    return text[start:].rstrip("\n")


def test_a_torn_sweep_file_resumes_cleanly_twice(tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    argv = ["bench", "run", "--instances", "gka1a", "--samplers", "random", "--seeds", "1-3",
            "--time-limit", "0.01", "--out", str(out), "--workers", "0"]
    assert main(argv) == 0
    lost = []
    for keep in (40, 7):  # two crashes, each tearing the last record, each resumed
        lost.append(json.loads(_cut_last_line(out, keep))["key"])
        capsys.readouterr()
        assert main([*argv, "--resume"]) == 0
        captured = capsys.readouterr()
        assert "torn last line" in captured.err and f"moved to {out}.torn" in captured.err
        assert "1 runs appended" in captured.out  # exactly the torn run, again
    lines = out.read_text().split("\n")
    assert lines[-1] == "" and all(json.loads(line) for line in lines[:-1])
    keys = [r["key"] for r in read_records(out) if r["kind"] == "run"]
    assert sorted(keys) == [f"gka1a|random|{s}|1|0.01s" for s in (1, 2, 3)]
    assert set(lost) <= set(keys)
    assert len((tmp_path / "r.jsonl.torn").read_text().splitlines()) == 2
    assert main([*argv, "--resume"]) == 0 and "0 runs appended" in capsys.readouterr().out


def test_report_announces_a_torn_tail_and_refuses_a_corrupt_middle(tmp_path, capsys):
    out = tmp_path / "c.jsonl"
    Sweep(["gka1a"], ["random"], [1, 2], out, time_limit=0.01).run(workers=0, notify=print)
    _cut_last_line(out, 20)
    report = ["bench", "report", str(out), "--out", str(tmp_path / "rep"), "--no-figures"]
    capsys.readouterr()
    assert main(report) == 0
    err = capsys.readouterr().err
    assert f"{out}:" in err and "torn last line" in err
    assert "Note: " in (tmp_path / "rep" / "report.md").read_text()
    text = out.read_text().split("\n")
    out.write_text("\n".join([text[0], "garbage", *text[1:]]))
    assert main(report) == 2
    assert f"{out}:2: not a JSON record" in capsys.readouterr().err


def test_local_pool_and_dask_give_the_same_runs(tmp_path):
    from distributed import Client, LocalCluster

    # SA's calibrations are jobs too: each instance's sa runs follow its calibration.
    args = (["gka1a", "gka1b"], ["sd", "random", "sa"], [1, 2])
    quiet = {"notify": lambda message: None}
    local = Sweep(*args, tmp_path / "l.jsonl", time_limit=0.02).run(workers=2, **quiet)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        dask = Sweep(*args, tmp_path / "d.jsonl", time_limit=0.02).run(
            executor="dask", scheduler=client, **quiet)
    assert sorted(r["key"] for r in local) == sorted(r["key"] for r in dask)
    assert len(local) == 12
    # Batches until the time limit is spent depend on timing, so compare completeness only.
    assert all(r["gap_percent"] >= 0 and r["versions"] for r in dask)
    for path in (tmp_path / "l.jsonl", tmp_path / "d.jsonl"):
        records = read_records(path)
        kinds = [r["kind"] for r in records]
        assert kinds.count("calibration") == 2 and kinds.count("run") == 12
        calibrated = {r["instance"]: r["num_sweeps"] for r in records
                      if r["kind"] == "calibration"}
        for i, r in enumerate(records):
            if r["kind"] == "run" and r["sampler"] == "sa":
                assert r["sa_sweeps"] == calibrated[r["instance"]]
                assert any(c["kind"] == "calibration" and c["instance"] == r["instance"]
                           for c in records[:i])


def test_time_to_solution_formula():
    assert time_to_solution(0.5, 1.0) == pytest.approx(math.log(0.01) / math.log(0.5))
    assert time_to_solution(0.995, 3.0) == 3.0 and math.isinf(time_to_solution(0.0, 3.0))


def test_report_is_built_from_the_jsonl_alone(small_sweep, tmp_path, monkeypatch):
    out, written = small_sweep
    monkeypatch.setenv("COMBOPT_DATA", str(tmp_path))  # no instances reachable
    path = write_report(out, tmp_path / "rep")
    text = path.read_text()
    per_instance, per_class = summarise(read_records(out))
    m = per_class[("gka", "combopt-tabu")]
    assert f"| combopt-tabu | 1 | 2 | 0.05 | {m['mean_gap']:.3f} |" in text
    tabu = [r for r in written if r["sampler"] == "tabu" and r["instance"] == "gka1b"]
    assert per_instance[("gka1b", "tabu")]["success"] == sum(r["success"] for r in tabu) / 2
    assert (tmp_path / "rep" / "gap_vs_time_gka.png").stat().st_size > 1000
    assert "Skipped: exact (exact needs n <= 20, n = 50)" in text


def test_run_one_rejects_unknown_samplers():
    with pytest.raises(ValueError, match="unknown sampler 'qbsolv'"):
        run_one("qbsolv", load("gka1a").bqm, seed=1, num_reads=1, time_limit=0.1,
                target_energy=None)


def test_cli_parsers():
    assert parse_seeds("3,1-2,3") == [3, 1, 2]
    ours = ["combopt-paper", "combopt-anneal", "combopt-metropolis", "combopt-tabu"]
    ours += ["combopt-auto"] if unavailable("combopt-auto") is None else []
    assert parse_samplers("combopt,sa") == [*ours, "combopt-training", "sa"]
    with pytest.raises(ValueError, match="bad seed"):
        parse_seeds("5-2")


def test_cli_run_and_report(tmp_path, capsys):
    out = tmp_path / "c.jsonl"
    argv = ["bench", "run", "--instances", "gka1a", "--samplers", "random,sd", "--seeds", "1",
            "--time-limit", "0.01", "--out", str(out), "--workers", "0"]
    assert main(argv) == 0
    assert "2 runs appended" in capsys.readouterr().out
    assert main(argv) == 2
    assert "pass resume" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0
    assert main(["bench", "report", str(out), "--out", str(tmp_path / "rep"), "--no-figures"]) == 0
    assert (tmp_path / "rep" / "report.md").exists()


@pytest.mark.parametrize("argv, message", [
    (["--samplers", "qbsolv"], "unknown sampler 'qbsolv'"),
    (["--executor", "dask"], "needs --scheduler"),
    (["--instances", "nope"], "unknown instance name"),
    (["--time-limit", "inf"], "time_limit must be positive and finite"),
    (["--seeds", "9007199254740992"], "seeds are integers in [0, 2**53)"),
])
def test_cli_bad_input_exits_2(tmp_path, capsys, argv, message):
    base = ["bench", "run", "--instances", "gka1a", "--out", str(tmp_path / "x.jsonl")]
    assert main(base + argv) == 2
    assert message in capsys.readouterr().err


def test_target_reached_only_by_the_closing_polish_counts_at_the_end_of_the_run():
    from combopt.bench.sweep import _metrics

    inst = load("gka1a")  # minimum -3414
    out = {"energies": [-3414.0], "wall_seconds": 0.5, "trace": [[0.0, -100.0], [0.1, -3400.0]],
           "timing": {"preprocess": 0.01}}
    m = _metrics(inst, out, inst.target_energy)
    assert m["success"] and m["ttt_seconds"] == 0.5 and m["gap_percent"] == 0.0
    out["trace"].append([0.2, -3414.0])
    assert _metrics(inst, out, inst.target_energy)["ttt_seconds"] == pytest.approx(0.21)
    # Within 1% of -3414 is anything <= -3379.86: the trace point -3400 at 0.1 s.
    assert _metrics(inst, out, inst.target_at_gap(1.0))["ttt_seconds"] == pytest.approx(0.11)


def test_target_gap_sweep(tmp_path):
    out = tmp_path / "g.jsonl"
    recs = Sweep(["gka1a"], ["sd"], [1], out, time_limit=0.01, target_gap=50.0).run(workers=0)
    assert recs[0]["key"].endswith("|gap50") and recs[0]["target_gap"] == 50.0
    assert recs[0]["success"] == (recs[0]["gap_percent"] <= 50.0)
    with pytest.raises(ValueError, match="target_gap"):
        Sweep(["gka1a"], ["sd"], [1], out, target_gap=-1)


def test_progress_bar_reports_the_sweep(tmp_path, capsys):
    Sweep(["gka1a"], ["random"], [1, 2], tmp_path / "p.jsonl", time_limit=0.01).run(
        workers=0, progress=True)
    err = capsys.readouterr().err
    assert "bench" in err and "2/2" in err


def test_cli_dask_executor_with_a_scheduler_address(tmp_path, capsys):
    from distributed import LocalCluster

    out = tmp_path / "dask.jsonl"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        code = main(["bench", "run", "--instances", "gka1a", "--samplers", "random",
                     "--seeds", "1-2", "--time-limit", "0.01", "--out", str(out),
                     "--executor", "dask", "--scheduler", cluster.scheduler_address])
    assert code == 0 and "2 runs appended" in capsys.readouterr().out
    assert sorted(r["seed"] for r in read_records(out) if r["kind"] == "run") == [1, 2]


def test_a_failing_run_is_recorded_and_retried_on_resume(tmp_path, capsys, monkeypatch):
    import combopt.bench.sweep as sweep_module

    real = sweep_module.run_one

    def flaky(sampler, bqm, **kw):
        if kw["seed"] == 2:
            raise RuntimeError("sampler crashed")
        return real(sampler, bqm, **kw)

    monkeypatch.setattr(sweep_module, "run_one", flaky)
    out = tmp_path / "e.jsonl"
    argv = ["bench", "run", "--instances", "gka1a", "--samplers", "random", "--seeds", "1-3",
            "--time-limit", "0.01", "--out", str(out), "--workers", "0"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "2 runs appended" in captured.out and "RuntimeError: sampler crashed" in captured.err
    [error] = [r for r in read_records(out) if r["kind"] == "error"]
    assert error["seed"] == 2 and "sampler crashed" in error["traceback"]
    report = write_report(out, tmp_path / "rep", figures=False).read_text()
    assert "Failed and not retried (1 runs, not in the tables): gka1a|random|2|1|0.01s" in report
    monkeypatch.setattr(sweep_module, "run_one", real)
    assert main([*argv, "--resume"]) == 0
    assert sorted(r["seed"] for r in read_records(out) if r["kind"] == "run") == [1, 2, 3]


# --- a killed sweep leaves no process behind ------------------------------------------------

def _children(pid):
    """Pids of the live children of ``pid``, from /proc (Linux)."""
    out = set()
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            out.update(int(p) for p in path.read_text().split())
    return out


def _descendants(pid):
    found, todo = set(), [pid]
    while todo:
        new = _children(todo.pop()) - found
        found |= new
        todo.extend(new)
    return found


def _alive(pid):
    """Running (a zombie waiting for a reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _python_env():
    import combopt

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(combopt.__file__).parents[1]),
                                         env.get("PYTHONPATH", "")])
    return env


needs_proc = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")


@needs_proc
@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_killing_a_sweep_leaves_no_process_behind(tmp_path, signum):
    out = tmp_path / "k.jsonl"
    code = "import sys; from combopt.cli import main; sys.exit(main(sys.argv[1:]))"
    argv = [sys.executable, "-c", code, "bench", "run", "--instances", "gka1a,gka1b",
            "--samplers", "combopt-tabu,random", "--seeds", "1-50", "--time-limit", "0.5",
            "--workers", "2", "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(argv, env=_python_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        # Runs are being written: both workers (and the resource tracker) are up.
        assert _wait_until(lambda: out.exists() and out.stat().st_size > 0, 240), "no run"
        family = _descendants(proc.pid)
        assert len(family) >= 3, family  # two workers and the resource tracker
        proc.send_signal(signum)
        proc.wait(timeout=30)
        assert _wait_until(lambda: not any(_alive(p) for p in family), 5), (
            [p for p in family if _alive(p)])
    finally:
        if proc.poll() is None:
            proc.kill()
    if signum == signal.SIGTERM:
        assert proc.returncode == 143 and "terminated" in proc.stderr.read()
    proc.stderr.close()
    records = read_records(out)  # whatever was written is whole
    assert records and all(r["kind"] == "run" for r in records)


@needs_proc
def test_the_watchdog_alone_ends_a_worker_whose_parent_died(tmp_path):
    # Without PR_SET_PDEATHSIG (as off Linux): the worker sees its parent change and exits.
    worker = ("import os, time; from combopt.bench._pool import die_with_parent; "
              "die_with_parent(os.getppid(), prctl=False, poll=0.05); "
              "print('watching', flush=True); time.sleep(60)")
    parent = ("import subprocess, sys, time; "
              f"p = subprocess.Popen([sys.executable, '-c', {worker!r}]); "
              "print(p.pid, flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", parent], env=_python_env(),
                            stdout=subprocess.PIPE, text=True)
    try:
        child = int(proc.stdout.readline())
        assert proc.stdout.readline() == "watching\n"  # the worker shares the pipe
        assert _alive(child)
        proc.kill()
        proc.wait(timeout=10)
        assert _wait_until(lambda: not _alive(child), 5)
    finally:
        proc.kill()
        proc.stdout.close()


def test_seeds_cover_2_53_and_dwave_gets_32_bits(tmp_path):
    assert parse_seeds(f"{2**53 - 1}") == [2**53 - 1]
    with pytest.raises(ValueError, match=r"\[0, 2\*\*53\)"):
        parse_seeds(f"{2**53}")
    with pytest.raises(ValueError, match=r"seeds must be integers in \[0, 2\*\*53\)"):
        Sweep(["gka1a"], ["sd"], [2**53], tmp_path / "s.jsonl")
    seed = 2**40 + 7
    [rec] = Sweep(["gka1a"], ["tabu"], [seed], tmp_path / "s.jsonl", time_limit=0.01).run(
        workers=0, notify=lambda message: None)
    assert rec["seed"] == seed and rec["params"]["seed"] == seed % 2**32


def test_combopt_auto_is_listed_only_where_the_strategy_exists(monkeypatch):
    from combopt.bench import runners

    def without_auto(name):
        if name == "auto":
            raise ValueError("no such strategy")

    monkeypatch.setattr(runners, "resolve_strategy", without_auto)
    assert "combopt-auto" not in parse_samplers("all")
    with pytest.raises(ValueError, match="combopt-auto needs strategy 'auto'"):
        parse_samplers("combopt-auto,sa")
    monkeypatch.setattr(runners, "resolve_strategy", lambda name: None)
    assert "combopt-auto" in parse_samplers("combopt")


def test_equal_time_experiment_tables_put_the_samplers_side_by_side():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "experiments" / "bench_performance.py"
    spec = importlib.util.spec_from_file_location("bench_performance", path)
    experiment = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(experiment)

    def run(instance, sampler, gap, wall, ttt=None, source="1.0s"):
        return {"kind": "run", "instance": instance, "sampler": sampler, "gap_percent": gap,
                "success": ttt is not None, "ttt_seconds": ttt, "wall_seconds": wall,
                "best_objective": -gap, "sense": "min", "time_limit": 1.0,
                "time_limit_source": source, "on_time_limit": abs(wall - 1) <= 0.1}

    records = [run("G1", "combopt-metropolis", 0.1, 1.0), run("G1", "sa", 0.4, 1.3),
               run("G1", "tabu", 0.8, 1.05), run("bqp250.1", "combopt-metropolis", 0.0, 0.2, 0.2),
               run("bqp250.1", "sa", 0.0, 0.95, 0.9), run("bqp250.1", "tabu", 0.0, 0.4, 0.4),
               run("G1", "sa", 9.0, 10.0, source="10.0s")]  # another time limit: left out
    text = "\n".join(experiment.tables(records, "1.0s"))
    assert "== time limit 1.0s ==" in text
    gap_row = next(line for line in text.splitlines() if line.startswith("gset"))
    assert gap_row.split() == ["gset", "0.100", "0.400", "0.800"]
    assert "1.300 (  1)" in text  # SA's median wall, and its one run off the limit
    [gset] = [line for line in text.splitlines() if line.startswith("gset     combopt")]
    assert "0.25" in gset and "gap <= 0.5x SA: met" in gset
    [bqp] = [line for line in text.splitlines() if line.startswith("bqp250   combopt")]
    assert "1.00" in bqp and "0.50" in bqp and "TTT <= 0.5x Tabu: met" in bqp
    with pytest.raises(ValueError, match="positive"):
        experiment._time_limits("1,-2")
