"""Sweeps: instances x samplers x seeds, streamed to a JSONL file as they finish.

Each finished run is one JSON line appended to the output file at once
(written, flushed and ``fsync``'d by the parent process, the only writer;
:mod:`combopt.bench.records`), with its seed, versions, machine and timings,
its time limit and the wall time it achieved. ``resume=True`` first repairs a
torn last line (a crash mid-write), then skips every run whose key is
already in the file, so an interrupted sweep loses nothing. SA's calibration
on each instance (:func:`combopt.bench.calibrate.calibrate_sa`: its default
run, which sets the time limit when none is given, and its sweeps for the
time limit) is stored in the same file as a ``"kind": "calibration"`` line
and reused on resume.

Runs execute in a local process pool (default; its workers die with the
sweep, :mod:`combopt.bench._pool`) or on a Dask cluster (``executor="dask"``,
``scheduler=ADDRESS``, or a ``distributed.Client``). ``SIGTERM`` ends a sweep
like ``Ctrl-C``: the workers are stopped, what was written stays, and
:class:`combopt.bench._pool.Terminated` (exit status 143) propagates.
"""

from __future__ import annotations

import os
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass

from combopt.bench._pool import process_pool, terminate_raises
from combopt.bench.calibrate import TOLERANCE, calibrate_sa, on_time_limit
from combopt.bench.records import append_record, read_records, repair_tail
from combopt.bench.runners import SEED_LIMIT, run_one, unavailable
from combopt.provenance import machine, versions

__all__ = ["Sweep", "Task", "run_task"]


@dataclass(frozen=True)
class Task:
    """One run of a sweep (picklable; shipped to workers)."""

    instance: str
    sampler: str
    seed: int
    num_reads: int
    time_limit: float
    time_limit_source: str
    sa_sweeps: int | None
    data_dir: str | None
    target_gap: float = 0.0

    @property
    def key(self) -> str:
        """Identity of the run in the JSONL file (what ``resume`` matches)."""
        key = (f"{self.instance}|{self.sampler}|{self.seed}|{self.num_reads}"
               f"|{self.time_limit_source}")
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
    except Exception as exc:  # noqa: BLE001 - recorded, counted and reported by the caller
        return {"kind": "error", "key": task.key, **asdict(task),
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=6), "versions": versions(),
                "machine": machine()}


def _run_task(task: Task) -> dict:
    if task.data_dir is not None:
        os.environ["COMBOPT_DATA"] = task.data_dir
    from combopt.instances import load

    inst = load(task.instance)
    target = inst.target_at_gap(task.target_gap)
    if task.sampler.startswith("combopt"):
        _warm()
    started = time.time()
    out = run_one(task.sampler, inst.bqm, seed=task.seed, num_reads=task.num_reads,
                  time_limit=task.time_limit, target_energy=target, sa_sweeps=task.sa_sweeps)
    rec = {"kind": "run", "key": task.key, **asdict(task), "n": inst.n, "sense": inst.sense,
           "best_known": inst.best_known, "started_at": started}
    if "skipped" in out:
        rec["skipped"] = out["skipped"]
    else:
        rec.update(out)
        rec.update(_metrics(inst, out, target))
        rec.update(_time_use(task, out))
    rec["versions"] = versions()
    rec["machine"] = machine()
    return rec


_WARMED: list[float] = []


def _warm() -> None:
    """Compile or load every kernel once per worker process, outside any timed run."""
    if not _WARMED:
        from combopt.solver import warmup

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


def _time_use(task: Task, out: dict) -> dict:
    """The achieved wall time against the time limit.

    ``on_time_limit`` is ``None`` where the limit does not bind: a run that
    stopped at its target, and ``exact``.
    """
    ratio = out["wall_seconds"] / task.time_limit
    binding = task.sampler != "exact" and not out.get("stopped_at_target", False)
    return {"wall_ratio": ratio,
            "on_time_limit": on_time_limit(out["wall_seconds"], task.time_limit) if binding
            else None}


class Sweep:
    """A benchmark sweep.

    Parameters
    ----------
    instances : list of str
        Instance names (see :func:`combopt.instances.expand`).
    samplers : list of str
        From :data:`combopt.bench.runners.SAMPLERS`.
    seeds : list of int
        In ``[0, 2**53)``.
    out : path
        The JSONL file (appended to).
    time_limit : float, optional
        Wall seconds per run; ``None`` means SA's default-run time on each
        instance (measured once, stored as a calibration record).
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
        reasons = [r for r in map(unavailable, samplers) if r is not None]
        if reasons:
            raise ValueError("; ".join(reasons))
        if time_limit is not None and not time_limit > 0:
            raise ValueError(f"time_limit must be positive, got {time_limit}")
        if num_reads < 1:
            raise ValueError(f"num_reads must be >= 1, got {num_reads}")
        if not target_gap >= 0:
            raise ValueError(f"target_gap must be >= 0 (percent), got {target_gap}")
        bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int)
               or not 0 <= s < SEED_LIMIT]
        if bad:
            raise ValueError(f"seeds must be integers in [0, 2**53), got {bad[0]!r}")
        self.instances = list(instances)
        self.samplers = list(samplers)
        self.seeds = [int(s) for s in seeds]
        self.out = os.fspath(out)
        self.time_limit = None if time_limit is None else float(time_limit)
        self.num_reads = int(num_reads)
        self.target_gap = float(target_gap)
        self.data_dir = os.environ.get("COMBOPT_DATA") or None

    def _matches(self, record: dict) -> bool:
        """Whether a calibration record applies to this sweep's reads and time limit."""
        return (record.get("kind") == "calibration" and record.get("sampler") == "sa"
                and record.get("num_reads") == self.num_reads
                and record.get("time_limit") == self.time_limit)

    def _calibrations(self, done: list[dict], notify) -> dict[str, dict]:
        """SA's calibration per instance, measured once and recorded."""
        from combopt.instances import load

        known = {r["instance"]: r for r in done if self._matches(r)}
        needed = self.time_limit is None or "sa" in self.samplers
        for name in self.instances if needed else ():
            if name in known:
                continue
            calib = calibrate_sa(load(name).bqm, self.num_reads, time_limit=self.time_limit)
            record = {"kind": "calibration", "instance": name, **calib,
                      "versions": versions(), "machine": machine()}
            append_record(self.out, record)
            known[name] = record
            if calib["within_tolerance"] is False:
                sweeps, seconds = calib["checks"][-1]
                notify(f"{name}: SA took {seconds:.3g} s at {sweeps} sweeps, not within "
                       f"{TOLERANCE:.0%} of the {self.time_limit:g} s time limit after "
                       f"{len(calib['checks'])} checks; its runs record their wall time")
        return known

    def tasks(self, done: Iterable[dict] = (), notify: Callable[[str], None] | None = None
              ) -> list[Task]:
        """Tasks not yet in ``done``; calibrates SA where needed (appending to the file)."""
        done = list(done)
        calib = self._calibrations(done, _notifier(notify))
        finished = {r["key"] for r in done if r.get("kind") == "run"}
        out = []
        for name in self.instances:
            if self.time_limit is None:
                limit, source = calib[name]["default_seconds"], "sa-default"
            else:
                limit, source = self.time_limit, f"{self.time_limit}s"
            sweeps = calib[name].get("num_sweeps", 1000) if name in calib else None
            for sampler in self.samplers:
                for seed in self.seeds:
                    task = Task(name, sampler, seed, self.num_reads, limit, source,
                                sweeps if sampler == "sa" else None, self.data_dir,
                                self.target_gap)
                    if task.key not in finished:
                        out.append(task)
        return out

    def run(self, *, workers: int | None = None, executor: str = "local", scheduler=None,
            resume: bool = False, progress: bool = False,
            on_record: Callable[[dict], None] | None = None,
            notify: Callable[[str], None] | None = None) -> list[dict]:
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
            Repair a torn last line, then skip runs already in the output
            file. Without it, an existing output file is refused rather than
            mixed into.
        progress : bool
            Show a tqdm progress bar on stderr.
        on_record : callable, optional
            Called with each record after it is written.
        notify : callable, optional
            Called with one-line messages for the user: a repaired file, a
            calibration or runs off their time limit. Default: warnings.

        Raises
        ------
        combopt.bench._pool.Terminated
            On ``SIGTERM`` (after stopping the workers).
        """
        notify = _notifier(notify)
        if executor not in ("local", "dask"):
            raise ValueError(f"executor must be 'local' or 'dask', got {executor!r}")
        exists = os.path.exists(self.out) and os.path.getsize(self.out) > 0
        if exists and not resume:
            raise OSError(f"{self.out} exists: pass resume to continue it or choose another file")
        if exists:
            repaired = repair_tail(self.out)
            if repaired:
                notify(repaired)
        done = read_records(self.out) if exists else []
        bar = None
        written = []

        def finish(record):
            append_record(self.out, record)
            written.append(record)
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"{record['instance']} {record['sampler']}")
            if on_record is not None:
                on_record(record)

        with terminate_raises():
            tasks = self.tasks(done, notify)
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=len(tasks), unit="run", desc="bench", dynamic_ncols=True)
            try:
                if executor == "dask":
                    _run_dask(tasks, scheduler, finish)
                elif workers == 0 or len(tasks) <= 1:
                    for task in tasks:
                        finish(run_task(task))
                else:
                    with process_pool(workers) as pool:
                        futures = [pool.submit(run_task, t) for t in tasks]
                        for fut in as_completed(futures):
                            finish(fut.result())
            finally:
                if bar is not None:
                    bar.close()
        off = Counter(r["sampler"] for r in written if r.get("on_time_limit") is False)
        if off:
            notify(f"{sum(off.values())} of {len(written)} runs not within {TOLERANCE:.0%} of "
                   "their time limit (on_time_limit: false): "
                   + ", ".join(f"{s} {k}" for s, k in sorted(off.items())))
        return written


def _notifier(notify):
    if notify is not None:
        return notify
    return lambda message: warnings.warn(message, RuntimeWarning, stacklevel=3)


def _run_dask(tasks, scheduler, finish) -> None:
    from distributed import Client
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
