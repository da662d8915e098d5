"""One benchmark run: a sampler on an instance with a seed and a time limit.

Every sampler gets the same wall-time limit ``T`` (seconds per run of
``num_reads`` reads); samplers without a time parameter are matched to it:

=====================  ====================================================
sampler                how the time limit is applied
=====================  ====================================================
``combopt-paper``      ``combopt.solve(time_limit=T, target_energy=best)``
``combopt-anneal``     same, heat-bath annealing; one annealing cycle spans
                       the time limit (the engine schedules beta by the clock)
``combopt-metropolis`` same, annealing with the Metropolis rule
``combopt-tabu``       same, tabu search
``combopt-auto``       same, ``strategy="auto"`` (listed only where
                       :func:`combopt.strategies.resolve_strategy` knows it)
``combopt-training``   the network-training route, ``time_limit=T``
``sa``                 dwave ``SimulatedAnnealingSampler``: ``num_sweeps``
                       fitted so that its wall time, preprocessing included,
                       is ``T`` (:func:`combopt.bench.calibrate.calibrate_sa`);
                       a run more than 10% off ``T`` is re-run with scaled
                       sweeps (at most twice; the nearest to ``T`` is kept)
``tabu``               dwave ``TabuSampler``: ``timeout = T / num_reads``
                       ms per read (``T`` at one read), ``energy_threshold=best``
``sd``                 dwave ``SteepestDescentSolver``: batches of random
                       restarts until ``T`` is spent
``random``             dimod ``RandomSampler``: batches until ``T``
``exact``              dimod ``ExactSolver`` (n <= 20 only; no time limit)
=====================  ====================================================

Samplers that accept a target stop when they reach the best-known energy, so
their time to target is the wall time of the run; for the others it is the
wall time of a successful run (an upper bound). Numba kernels run on one
thread per run (the sweep parallelises across runs), like the single-threaded
dwave samplers. Seeds are in ``[0, 2**53)`` (exact in every JSON reader);
the dwave samplers take 32-bit seeds and get ``seed % 2**32``.
"""

from __future__ import annotations

import math
import time

import dimod
import numba

from combopt._validation import SEED_LIMIT
from combopt.adapters.dimod import bqm_to_objective
from combopt.bench.calibrate import calibrate_sa, on_time_limit
from combopt.samplers import TrainingRouteSampler
from combopt.solver import solve
from combopt.strategies import resolve_strategy

__all__ = ["SAMPLERS", "SEED_LIMIT", "available_samplers", "run_one", "time_to_solution",
           "unavailable"]

SAMPLERS = (
    "combopt-paper",
    "combopt-anneal",
    "combopt-metropolis",
    "combopt-tabu",
    "combopt-auto",
    "combopt-training",
    "sa",
    "tabu",
    "sd",
    "random",
    "exact",
)

EXACT_MAX_VARIABLES = 20
#: Re-runs of an SA run whose wall time missed its limit (see :func:`run_one`).
SA_CORRECTIONS = 2


def unavailable(sampler: str) -> str | None:
    """Why ``sampler`` cannot run with this combopt, or ``None`` when it can.

    Examples
    --------
    >>> unavailable("combopt-tabu") is None
    True
    """
    if sampler not in SAMPLERS:
        return f"unknown sampler {sampler!r}; expected one of {', '.join(SAMPLERS)}"
    if sampler.startswith("combopt-") and sampler != "combopt-training":
        try:
            resolve_strategy(sampler.split("-", 1)[1])
        except ValueError:
            strategy = sampler.split("-", 1)[1]
            return f"{sampler} needs strategy {strategy!r}, which this combopt lacks"
    return None


def available_samplers() -> list[str]:
    """:data:`SAMPLERS` without those this combopt cannot run (``combopt-auto`` without "auto")."""
    return [s for s in SAMPLERS if unavailable(s) is None]


def _peer_seed(seed: int) -> int:
    """The dwave samplers' seed for a sweep seed (they take 32 bits)."""
    return seed % 2**32


def _combopt(bqm, strategy, seed, num_reads, time_limit, target):
    # The BQM -> arrays conversion is part of the run, as it is inside dwave's samplers.
    t_adapter = time.perf_counter()
    objective, domain, _ = bqm_to_objective(bqm)
    adapter = time.perf_counter() - t_adapter
    params = {"strategy": strategy, "time_limit": time_limit, "target_energy": target}
    # With a time limit and no iteration count, the engine anneals over the whole
    # time limit itself (beta follows the clock), as SA's sweeps are fitted to it here.
    t0 = time.perf_counter()
    res = solve(objective, domain, strategy=strategy, num_reads=num_reads, seed=seed,
                time_limit=time_limit, target_energy=target)
    wall = time.perf_counter() - t0 - res.timing["compile"] + adapter
    return {
        "energies": [float(e) for e in res.energies],
        "wall_seconds": wall,
        "evaluations": int(res.evaluations),
        "trace": [[float(t), float(e)] for t, e in res.best_trace],
        "timing": {**res.timing, "adapter": adapter},
        "stopped_at_target": res.stop_reason == "target",
        "params": params,
        # What ran: for "auto", the strategy it chose and why.
        "strategy_run": res.strategy,
        "auto": res.info.get("auto"),
    }


def _training(bqm, seed, num_reads, time_limit, target):
    t0 = time.perf_counter()
    ss = TrainingRouteSampler().sample(bqm, num_reads=num_reads, seed=seed, strategy="tabu",
                                       time_limit=time_limit, target_energy=target)
    compile_s = ss.info["timing"]["compile_ns"] / 1e9
    return {
        "energies": [float(e) for e in ss.record.energy],
        "wall_seconds": time.perf_counter() - t0 - compile_s,
        "evaluations": int(ss.info["evaluations"]),
        "stopped_at_target": ss.info["stop_reason"] == "target",
        "params": {"strategy": "tabu", "time_limit": time_limit, "target_energy": target},
    }


def _sa(bqm, seed, num_reads, sweeps):
    from dwave.samplers import SimulatedAnnealingSampler

    t0 = time.perf_counter()
    ss = SimulatedAnnealingSampler().sample(bqm, num_reads=num_reads, num_sweeps=sweeps,
                                            seed=_peer_seed(seed))
    wall = time.perf_counter() - t0
    return {
        "energies": [float(e) for e in ss.record.energy],
        "wall_seconds": wall,
        # One spin-update attempt per variable per sweep per read.
        "evaluations": int(num_reads * sweeps * bqm.num_variables),
        "params": {"num_sweeps": sweeps, "seed": _peer_seed(seed)},
    }


def _sa_on_time(bqm, seed, num_reads, sweeps, time_limit, corrections):
    """:func:`_sa`, re-run with scaled sweeps while its wall time misses the limit.

    On a shared or virtual machine the cost of a sweep drifts by tens of
    percent between the calibration and the run, so a fitted sweep count
    alone leaves many runs far from their budget. Which run is kept depends
    on wall times only, never on energies; every attempt is recorded.
    """
    runs = [_sa(bqm, seed, num_reads, sweeps)]
    while len(runs) <= corrections and not on_time_limit(runs[-1]["wall_seconds"], time_limit):
        last = runs[-1]
        scaled = max(1, round(last["params"]["num_sweeps"] * time_limit / last["wall_seconds"]))
        runs.append(_sa(bqm, seed, num_reads, scaled))
    kept = min(runs, key=lambda r: abs(r["wall_seconds"] - time_limit))
    kept["params"]["attempts"] = [[r["params"]["num_sweeps"], r["wall_seconds"]] for r in runs]
    return kept


def _tabu(bqm, seed, num_reads, time_limit, target):
    from dwave.samplers import TabuSampler

    timeout_ms = max(1, round(1000.0 * time_limit / num_reads))
    t0 = time.perf_counter()
    ss = TabuSampler().sample(bqm, num_reads=num_reads, seed=_peer_seed(seed), timeout=timeout_ms,
                              energy_threshold=target)
    wall = time.perf_counter() - t0
    return {
        "energies": [float(e) for e in ss.record.energy],
        "wall_seconds": wall,
        "stopped_at_target": target is not None and float(ss.first.energy) <= target,
        "params": {"timeout_ms": timeout_ms, "energy_threshold": target,
                   "seed": _peer_seed(seed)},
    }


def _batches(sampler, bqm, seed, num_reads, time_limit, **kwargs):
    """Call ``sampler`` (``num_reads`` reads, seeds ``seed+k``) until ``time_limit`` is spent."""
    energies: list[float] = []
    batches = 0
    t0 = time.perf_counter()
    while True:
        ss = sampler.sample(bqm, num_reads=num_reads, seed=_peer_seed(seed + batches), **kwargs)
        energies.extend(float(e) for e in ss.record.energy)
        batches += 1
        if time.perf_counter() - t0 >= time_limit:
            break
    return {"energies": energies, "wall_seconds": time.perf_counter() - t0,
            "params": {"batches": batches, "reads_per_batch": num_reads}}


def run_one(
    sampler: str,
    bqm: dimod.BinaryQuadraticModel,
    *,
    seed: int,
    num_reads: int,
    time_limit: float,
    target_energy: float | None,
    sa_sweeps: int | None = None,
    sa_corrections: int = SA_CORRECTIONS,
) -> dict:
    """Run one sampler once; return its raw outcome.

    Parameters
    ----------
    sampler : str
        One of :data:`SAMPLERS`.
    bqm : dimod.BinaryQuadraticModel
        Minimisation form.
    seed : int
        In ``[0, 2**53)``.
    num_reads : int
    time_limit : float
        Wall seconds for the run (all reads).
    target_energy : float, optional
        BQM energy of the best-known value; samplers that can stop there do.
    sa_sweeps : int, optional
        SA's sweeps for ``time_limit`` (``"sa"`` only). Default: fitted here
        by :func:`combopt.bench.calibrate.calibrate_sa` (which costs a few
        runs of about ``time_limit``).
    sa_corrections : int
        ``"sa"`` only: when a run's wall time misses ``time_limit`` by more
        than :data:`~combopt.bench.calibrate.TOLERANCE`, run it again (same
        seed) with its sweeps scaled by ``time_limit / wall``, at most this
        many times, and keep the run whose wall time is nearest the limit
        (0: run ``sa_sweeps`` as given, as for SA's default budget).

    Returns
    -------
    dict
        ``energies`` (one per read, at least ``num_reads``), ``wall_seconds``
        (the achieved wall time, compile excluded), ``params`` and, when
        known, ``evaluations``, ``trace`` (best-so-far ``[seconds, energy]``),
        ``timing``, ``stopped_at_target``. ``{"skipped": reason}`` when the
        sampler does not apply (``exact`` above 20 variables).

    Examples
    --------
    >>> import dimod
    >>> bqm = dimod.BQM({0: -1.0}, {(0, 1): 2.0}, 0.0, "BINARY")
    >>> out = run_one("exact", bqm, seed=0, num_reads=1, time_limit=1.0, target_energy=-1.0)
    >>> min(out["energies"])
    -1.0
    """
    reason = unavailable(sampler)
    if reason is not None:
        raise ValueError(reason)
    if sampler.startswith("combopt-") and sampler != "combopt-training":
        _single_thread()
        return _combopt(bqm, sampler.split("-", 1)[1], seed, num_reads, time_limit, target_energy)
    if sampler == "combopt-training":
        _single_thread()
        return _training(bqm, seed, num_reads, time_limit, target_energy)
    if sampler == "sa":
        if sa_sweeps is None:
            sa_sweeps = calibrate_sa(bqm, num_reads, time_limit=time_limit)["num_sweeps"]
        return _sa_on_time(bqm, seed, num_reads, int(sa_sweeps), time_limit, sa_corrections)
    if sampler == "tabu":
        return _tabu(bqm, seed, num_reads, time_limit, target_energy)
    if sampler == "sd":
        from dwave.samplers import SteepestDescentSolver

        return _batches(SteepestDescentSolver(), bqm, seed, num_reads, time_limit)
    if sampler == "random":
        return _batches(dimod.RandomSampler(), bqm, seed, num_reads, time_limit)
    if bqm.num_variables > EXACT_MAX_VARIABLES:
        return {"skipped": f"exact needs n <= {EXACT_MAX_VARIABLES}, n = {bqm.num_variables}"}
    t0 = time.perf_counter()
    ss = dimod.ExactSolver().sample(bqm)
    return {"energies": [float(ss.first.energy)], "wall_seconds": time.perf_counter() - t0,
            "params": {}}


def _single_thread() -> None:
    """One Numba thread per run: runs are parallel across processes, not inside."""
    numba.set_num_threads(1)


def time_to_solution(success_rate: float, seconds: float, confidence: float = 0.99) -> float:
    """Time to solution: ``seconds * ln(1 - confidence) / ln(1 - p)`` (``inf`` when p = 0).

    Examples
    --------
    >>> round(time_to_solution(0.5, 2.0), 3)
    13.288
    >>> time_to_solution(1.0, 2.0), time_to_solution(0.0, 2.0)
    (2.0, inf)
    """
    if success_rate <= 0:
        return math.inf
    if success_rate >= confidence:
        return seconds
    return seconds * math.log(1 - confidence) / math.log(1 - success_rate)
