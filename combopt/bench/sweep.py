"""Sweeps: instances x samplers x seeds, streamed to a JSONL file as they finish.

Each finished run is one JSON line appended to the output file at once
(written, flushed and ``fsync``'d by the parent process, the only writer), with
its seed, versions, machine and timings; ``resume=True`` skips every run whose
key is already in the file, so an interrupted sweep loses nothing. The SA
calibration of each instance (the wall time of SA's default run, which sets
the budget when none is given and SA's sweeps always) is stored in the same
file as a ``"kind": "calibration"`` line and reused on resume.

Runs execute in a local process pool (default) or on a Dask cluster
(``executor="dask"``, ``scheduler=ADDRESS``, or a ``distributed.Client``).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass

from combopt.bench.runners import SAMPLERS, calibrate_sa, run_one
from combopt.instances import load
from combopt.provenance import machine, versions
from combopt.solver import warmup

__all__ = ["Sweep", "Task", "append_record", "read_records", "run_task"]


@dataclass(frozen=True)
class Task:
    """One run of a sweep (picklable; shipped to workers)."""

    instance: str
    sampler: str
    seed: int
    num_reads: int
    budget: float
    budget_source: str
    sa_seconds: float | None
    data_dir: str | None
    target_gap: float = 0.0

    @property
    def key(self) -> str:
        """Identity of the run in the JSONL file (what ``resume`` matches)."""
        key = f"{self.instance}|{self.sampler}|{self.seed}|{self.num_reads}|{self.budget_source}"
        return key if not self.target_gap else f"{key}|gap{self.target_gap:g}"


def run_task(task: Task) -> dict:
    """Run one task and return its JSONL record (executed in a worker).

    The record (``"kind": "run"``) holds the raw outcome (energies per read,
    trace, timings) and the derived metrics: best and mean objective in the
    instance's sense, gap to best known (percent), success (the target
    reached: the best known, or within ``task.target_gap`` percent of it), time
    to target. A run that raises gives a ``"kind": "error"`` record with the
    message instead, so one failure does not end a long sweep; ``resume``
    retries it.
    """
    try:
        return _run_task(task)
    except Exception as exc:  # recorded, counted and reported by the caller
        return {"kind": "error", "key": task.key, **asdict(task),
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=6), "versions": versions(),
                "machine": machine()}


def _run_task(task: Task) -> dict:
    if task.data_dir is not None:
        os.environ["COMBOPT_DATA"] = task.data_dir
    inst = load(task.instance)
    target = inst.target_at_gap(task.target_gap)
    if task.sampler.startswith("combopt"):
        _warm()
    started = time.time()
    out = run_one(task.sampler, inst.bqm, seed=task.seed, num_reads=task.num_reads,
                  budget=task.budget, target_energy=target, sa_seconds=task.sa_seconds)
    rec = {"kind": "run", "key": task.key, **asdict(task), "n": inst.n, "sense": inst.sense,
           "best_known": inst.best_known, "started_at": started}
    if "skipped" in out:
        rec["skipped"] = out["skipped"]
    else:
        rec.update(out)
        rec.update(_metrics(inst, out, target))
    rec["versions"] = versions()
    rec["machine"] = machine()
    return rec


_WARMED: list[float] = []


def _warm() -> None:
    """Compile or load every kernel once per worker process, outside any timed run."""
    if not _WARMED:
        _WARMED.append(warmup())


def _metrics(inst, out: dict, target: float | None) -> dict:
    objectives = [inst.objective(e) for e in out["energies"]]
    best_energy = min(out["energies"])
    best = inst.objective(best_energy)
    success = target is not None and best_energy <= target + 1e-9 * max(1.0, abs(target))
    ttt = None
    if success:
        tol = 1e-9 * max(1.0, abs(target))
        hits = [t for t, e in out.get("trace") or () if e <= target + tol]
        if hits:
            # Search seconds at the first best-so-far at or below the target, plus
            # what came before the search (BQM conversion, lowering, initial states).
            timing = out.get("timing", {})
            ttt = hits[0] + timing.get("adapter", 0.0) + timing.get("preprocess", 0.0)
        else:
            # No trace, or the target was reached by the closing polish.
            ttt = out["wall_seconds"]
    evaluations = out.get("evaluations")
    return {
        "best_energy": best_energy,
        "best_objective": best,
        "mean_objective": sum(objectives) / len(objectives),
        "gap_percent": inst.gap_percent(best),
        "mean_gap_percent": None if inst.best_known is None
        else sum(inst.gap_percent(o) for o in objectives) / len(objectives),
        "success": bool(success),
        "ttt_seconds": ttt,
        "evaluations_per_second": None if not evaluations or out["wall_seconds"] <= 0
        else evaluations / out["wall_seconds"],
    }


def append_record(path: str | os.PathLike, record: dict) -> None:
    """Append one JSON line and make it durable (flush + fsync) before returning."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, default=_jsonable) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_records(path: str | os.PathLike) -> list[dict]:
    """Records of a JSONL file; a torn last line (a crash mid-write) is ignored.

    Raises
    ------
    ValueError
        For a malformed line other than the last one (names file and line).
    """
    records = []
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines) or (number == len(lines) - 1 and not lines[-1]):
                continue
            raise ValueError(f"{path}:{number}: not a JSON record") from None
    return records


class Sweep:
    """A benchmark sweep.

    Parameters
    ----------
    instances : list of str
        Instance names (see :func:`combopt.instances.expand`).
    samplers : list of str
        From :data:`combopt.bench.runners.SAMPLERS`.
    seeds : list of int
    out : path
        The JSONL file (appended to).
    time_limit : float, optional
        Budget in seconds per run; ``None`` means SA's default-run time on
        each instance (measured once, stored as a calibration record).
    num_reads : int
        Reads per run.
    target_gap : float
        Success and time to target mean reaching within this percentage of
        the best known (0: the best known itself).

    Examples
    --------
    >>> import tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "s.jsonl")
    >>> sweep = Sweep(["gka1b"], ["combopt-tabu", "random"], [1], out, time_limit=0.05)
    >>> [r["sampler"] for r in sweep.run(workers=0)]
    ['combopt-tabu', 'random']
    >>> sweep.run(workers=0, resume=True)
    []
    """

    def __init__(self, instances, samplers, seeds, out, *, time_limit=None, num_reads=1,
                 target_gap=0.0):
        unknown = [s for s in samplers if s not in SAMPLERS]
        if unknown:
            raise ValueError(f"unknown sampler(s) {', '.join(unknown)}; choose from {', '.join(SAMPLERS)}")
        if time_limit is not None and not time_limit > 0:
            raise ValueError(f"time_limit must be positive, got {time_limit}")
        if num_reads < 1:
            raise ValueError(f"num_reads must be >= 1, got {num_reads}")
        if not target_gap >= 0:
            raise ValueError(f"target_gap must be >= 0 (percent), got {target_gap}")
        self.instances = list(instances)
        self.samplers = list(samplers)
        self.seeds = [int(s) for s in seeds]
        self.out = os.fspath(out)
        self.time_limit = time_limit
        self.num_reads = int(num_reads)
        self.target_gap = float(target_gap)
        self.data_dir = os.environ.get("COMBOPT_DATA") or None

    def _calibrations(self, done: list[dict]) -> dict[str, float]:
        """SA default-run seconds per instance, measured once and recorded."""
        known = {r["instance"]: r["sa_seconds"] for r in done
                 if r.get("kind") == "calibration" and r.get("num_reads") == self.num_reads}
        needed = self.time_limit is None or "sa" in self.samplers
        for name in self.instances if needed else ():
            if name not in known:
                seconds = calibrate_sa(load(name).bqm, self.num_reads, seed=0)
                known[name] = seconds
                append_record(self.out, {"kind": "calibration", "instance": name,
                                         "num_reads": self.num_reads, "sa_seconds": seconds,
                                         "versions": versions(), "machine": machine()})
        return known

    def tasks(self, done: Iterable[dict] = ()) -> list[Task]:
        """Tasks not yet in ``done``; calibrates SA where needed (appending to the file)."""
        done = list(done)
        calib = self._calibrations(done)
        finished = {r["key"] for r in done if r.get("kind") == "run"}
        out = []
        for name in self.instances:
            budget = self.time_limit if self.time_limit is not None else calib[name]
            source = f"{self.time_limit}s" if self.time_limit is not None else "sa-default"
            for sampler in self.samplers:
                for seed in self.seeds:
                    task = Task(name, sampler, seed, self.num_reads, budget, source,
                                calib.get(name), self.data_dir, self.target_gap)
                    if task.key not in finished:
                        out.append(task)
        return out

    def run(self, *, workers: int | None = None, executor: str = "local", scheduler=None,
            resume: bool = False, progress: bool = False,
            on_record: Callable[[dict], None] | None = None) -> list[dict]:
        """Run the sweep; return the records written by this call.

        Runs that raised are written as ``"kind": "error"`` records (and
        returned); ``resume`` runs them again.

        Parameters
        ----------
        workers : int, optional
            Local processes (default ``os.cpu_count()``); 0 runs in this
            process (no pool), which tests and debugging use.
        executor : {"local", "dask"}
        scheduler : str or distributed.Client, optional
            Dask scheduler address or client (``executor="dask"``).
        resume : bool
            Skip runs already in the output file. Without it, an existing
            output file is refused rather than mixed into.
        progress : bool
            Show a tqdm progress bar on stderr.
        on_record : callable, optional
            Called with each record after it is written.
        """
        exists = os.path.exists(self.out) and os.path.getsize(self.out) > 0
        if exists and not resume:
            raise OSError(f"{self.out} exists: pass resume to continue it or choose another file")
        done = read_records(self.out) if exists else []
        tasks = self.tasks(done)
        bar = None
        if progress:
            from tqdm import tqdm  # the optional "progress" extra

            bar = tqdm(total=len(tasks), unit="run", desc="bench", dynamic_ncols=True)
        written = []

        def finish(record):
            append_record(self.out, record)
            written.append(record)
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"{record['instance']} {record['sampler']}")
            if on_record is not None:
                on_record(record)

        try:
            if executor == "dask":
                _run_dask(tasks, scheduler, finish)
            elif executor != "local":
                raise ValueError(f"executor must be 'local' or 'dask', got {executor!r}")
            elif workers == 0 or len(tasks) <= 1:
                for task in tasks:
                    finish(run_task(task))
            else:
                # spawn, not fork: forking a process whose Numba already started
                # OpenMP threads aborts the child.
                ctx = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                    futures = [pool.submit(run_task, t) for t in tasks]
                    for fut in as_completed(futures):
                        finish(fut.result())
        finally:
            if bar is not None:
                bar.close()
        return written


def _run_dask(tasks, scheduler, finish) -> None:
    from distributed import Client  # the optional "dask" extra
    from distributed import as_completed as dask_completed

    if scheduler is None:
        raise ValueError("the dask executor needs a scheduler address (--scheduler)")
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = client.map(run_task, tasks, pure=False)
        for fut in dask_completed(futures):
            finish(fut.result())
    finally:
        if client is not scheduler:
            client.close()
