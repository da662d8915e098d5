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
:class:`combopt.bench.Terminated` (exit status 143) propagates.
"""

from __future__ import annotations

import math
import numbers
import os
import time
import traceback
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import asdict, dataclass

import dimod

from combopt.bench._pool import process_pool, terminate_raises
from combopt.bench.calibrate import TOLERANCE, calibrate_sa, on_time_limit
from combopt.bench.records import append_record, read_records, repair_tail
from combopt.bench.runners import SA_CORRECTIONS, SEED_LIMIT, run_one, unavailable
from combopt.instances import load
from combopt.provenance import machine, versions
from combopt.solver import warmup

__all__ = ["Calibration", "Sweep", "Task", "run_calibration", "run_task"]


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


@dataclass(frozen=True)
class Calibration:
    """SA's calibration on one instance (a job like a run, shipped to workers)."""

    instance: str
    num_reads: int
    time_limit: float | None
    data_dir: str | None

    @property
    def key(self) -> str:
        return f"{self.instance}|sa-calibration|{self.num_reads}|{self.time_limit}"


def run_calibration(job: Calibration) -> dict:
    """:func:`~combopt.bench.calibrate.calibrate_sa` on one instance, as a JSONL record.

    A failure gives a ``"kind": "error"`` record; that instance's runs then
    wait for a ``resume``.
    """
    try:
        if job.data_dir is not None:
            os.environ["COMBOPT_DATA"] = job.data_dir
        calib = calibrate_sa(load(job.instance).bqm, job.num_reads, time_limit=job.time_limit)
        return {"kind": "calibration", "instance": job.instance, **calib,
                "versions": versions(), "machine": machine()}
    except Exception as exc:  # recorded, counted and reported by the caller
        return _error_record(job, exc, sampler="sa-calibration")


def _error_record(job, exc: Exception, **extra) -> dict:
    return {"kind": "error", "key": job.key, **asdict(job), **extra,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=6), "versions": versions(),
            "machine": machine()}


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
        return _error_record(task, exc)


def _run_task(task: Task) -> dict:
    if task.data_dir is not None:
        os.environ["COMBOPT_DATA"] = task.data_dir
    inst = load(task.instance)
    target = inst.target_at_gap(task.target_gap)
    if task.sampler.startswith("combopt"):
        _warm()
    elif task.sampler in _PEERS:
        _warm_peer(task.sampler)
    started = time.time()
    out = run_one(task.sampler, inst.bqm, seed=task.seed, num_reads=task.num_reads,
                  time_limit=task.time_limit, target_energy=target, sa_sweeps=task.sa_sweeps,
                  # SA's default budget is its default sweeps, exactly.
                  sa_corrections=0 if task.time_limit_source == "sa-default" else SA_CORRECTIONS)
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
        _WARMED.append(warmup())


_PEERS = {"sa": "SimulatedAnnealingSampler", "tabu": "TabuSampler", "sd": "SteepestDescentSolver"}


def _warm_peer(sampler: str) -> None:
    """One tiny call of a dwave sampler per worker, as combopt's kernels are warmed.

    The first call in a fresh process pays one-off costs (loading the
    extension, first allocations) that are no part of a run.
    """
    if sampler not in _WARMED_PEERS:
        import dwave.samplers

        bqm = dimod.BQM({0: -1.0, 1: 1.0}, {(0, 1): 0.5}, 0.0, "BINARY")
        kwargs = {"timeout": 1} if sampler == "tabu" else {}
        getattr(dwave.samplers, _PEERS[sampler])().sample(bqm, num_reads=1, seed=0, **kwargs)
        _WARMED_PEERS.add(sampler)


_WARMED_PEERS: set[str] = set()


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
        if time_limit is not None and not 0 < time_limit < math.inf:
            raise ValueError(f"time_limit must be positive and finite, got {time_limit}")
        if num_reads < 1:
            raise ValueError(f"num_reads must be >= 1, got {num_reads}")
        if not target_gap >= 0:
            raise ValueError(f"target_gap must be >= 0 (percent), got {target_gap}")
        bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, numbers.Integral)
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

    def calibrations_needed(self, done: Iterable[dict] = ()) -> list[Calibration]:
        """SA calibrations this sweep needs and ``done`` does not hold."""
        known = {r["instance"] for r in done if self._matches(r)}
        needed = self.time_limit is None or "sa" in self.samplers
        return [Calibration(name, self.num_reads, self.time_limit, self.data_dir)
                for name in self.instances if needed and name not in known]

    def tasks(self, done: Iterable[dict] = (), instances: Iterable[str] | None = None
              ) -> list[Task]:
        """Runs not yet in ``done`` that can start with the calibrations in ``done``.

        With a time limit only SA's runs need their instance's calibration
        (for their sweeps); without one, every run does (for the time limit).
        ``instances`` restricts the runs to those instances.
        """
        done = list(done)
        calib = {r["instance"]: r for r in done if self._matches(r)}
        finished = {r["key"] for r in done if r.get("kind") == "run"}
        out = []
        for name in self.instances if instances is None else instances:
            if name in calib or self.time_limit is not None:
                out += [task for task in self._instance_tasks(name, calib.get(name), finished)
                        if name in calib or task.sampler != "sa"]
        return out

    def _instance_tasks(self, name: str, calib: dict | None, finished: set) -> list[Task]:
        """The runs of one instance whose keys are not in ``finished``.

        Without its calibration, the tasks have the right keys but no time
        limit or sweeps (enough to count them).
        """
        if self.time_limit is None:
            limit, source = (calib or {}).get("default_seconds"), "sa-default"
        else:
            limit, source = self.time_limit, f"{self.time_limit}s"
        sweeps = calib.get("num_sweeps", 1000) if calib else None
        tasks = (Task(name, sampler, seed, self.num_reads, limit, source,
                      sweeps if sampler == "sa" else None, self.data_dir, self.target_gap)
                 for sampler in self.samplers for seed in self.seeds)
        return [task for task in tasks if task.key not in finished]

    def run(self, *, workers: int | None = None, executor: str = "local", scheduler=None,
            resume: bool = False, progress: bool = False,
            on_record: Callable[[dict], None] | None = None,
            notify: Callable[[str], None] | None = None) -> list[dict]:
        """Run the sweep; return the records written by this call.

        SA's calibrations run as jobs of the same executor as the runs, first,
        so that they are timed under the load the runs will see; an
        instance's SA runs (all its runs, without a time limit) start when
        its calibration is written. Runs that
        raised are written as ``"kind": "error"`` records (and returned);
        ``resume`` runs them again.

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
        combopt.bench.Terminated
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
        calibrations = self.calibrations_needed(done)
        jobs = [(run_calibration, c) for c in calibrations]
        jobs += [(run_task, t) for t in self.tasks(done)]
        bar = None
        if progress:
            from tqdm import tqdm  # the optional "progress" extra

            finished = {r["key"] for r in done if r.get("kind") == "run"}
            runs = sum(len(self._instance_tasks(name, None, finished)) for name in self.instances)
            bar = tqdm(total=runs, unit="run", desc="bench", dynamic_ncols=True)
        written = []

        def finish(record) -> list:
            """Write a finished job's record; return the jobs it makes ready."""
            append_record(self.out, record)
            if record["kind"] == "calibration":
                done.append(record)
                if record["within_tolerance"] is False:
                    sweeps, seconds = record["checks"][-1]
                    notify(f"{record['instance']}: SA took {seconds:.3g} s at {sweeps} sweeps, "
                           f"not within {TOLERANCE:.0%} of the {self.time_limit:g} s time limit "
                           f"after {len(record['checks'])} checks; its runs record their wall "
                           "time")
                # The runs this calibration was holding back.
                return [(run_task, t) for t in self.tasks(done, [record["instance"]])
                        if self.time_limit is None or t.sampler == "sa"]
            written.append(record)
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"{record['instance']} {record['sampler']}")
            if on_record is not None:
                on_record(record)
            return []

        try:
            with terminate_raises():
                if executor == "dask":
                    _run_dask(jobs, scheduler, finish)
                elif workers == 0 or (len(jobs) <= 1 and not calibrations):
                    _run_here(jobs, finish)
                else:
                    _run_pool(jobs, workers, finish)
        finally:
            if bar is not None:
                bar.close()
        off = Counter(r["sampler"] for r in written if r.get("on_time_limit") is False)
        if off:
            notify(f"{sum(off.values())} of {len(written)} runs not within {TOLERANCE:.0%} of "
                   "their time limit (on_time_limit: false): "
                   + ", ".join(f"{s} {k}" for s, k in sorted(off.items())))
        return written


def _run_here(jobs, finish) -> None:
    queue = deque(jobs)
    while queue:
        fn, arg = queue.popleft()
        queue.extend(finish(fn(arg)))


def _run_pool(jobs, workers, finish) -> None:
    with process_pool(workers) as pool:
        pending = {pool.submit(fn, arg) for fn, arg in jobs}
        while pending:
            ready, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in ready:
                pending |= {pool.submit(fn, arg) for fn, arg in finish(fut.result())}


def _notifier(notify):
    if notify is not None:
        return notify
    return lambda message: warnings.warn(message, RuntimeWarning, stacklevel=3)


def _run_dask(jobs, scheduler, finish) -> None:
    from distributed import Client  # the optional "dask" extra
    from distributed import as_completed as dask_completed

    if scheduler is None:
        raise ValueError("the dask executor needs a scheduler address (--scheduler)")
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = dask_completed([client.submit(fn, arg, pure=False) for fn, arg in jobs])
        for fut in futures:
            for fn, arg in finish(fut.result()):
                futures.add(client.submit(fn, arg, pure=False))
    finally:
        if client is not scheduler:
            client.close()
