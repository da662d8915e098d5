"""Sampling a dimod CQM: rounds of the engine's search with adaptive penalty multipliers.

:func:`sample_cqm` is :meth:`combopt.samplers.CombOptSampler.sample_cqm`. The
CQM is encoded natively (:func:`combopt.adapters.cqm.cqm_to_objective`):
bounded integers and spins over their own values, one-hot groups as
categorical variables, every other constraint a penalised row that the
kernel keeps up to date. The search runs in ``rounds`` rounds of equal budget
(:func:`combopt.solve` each, every read starting where it ended the last
round). Between rounds the multipliers adapt by weight escalation: a
constraint violated by any read's returned state has its multiplier doubled,
so the penalty of each violated row grows until the search leaves it
satisfied; a linear penalty with a large enough multiplier is exact (its
minimum is the feasible minimum), and the doubling finds such a multiplier
within ``log2`` of its ratio to the start.

Each read returns the best feasible state it ended a round with (lowest CQM
objective), or, when none was feasible, its least-violated state. Feasibility
is dimod's: a constraint is satisfied when its violation is at most
``atol + rtol |rhs|`` (``1e-8`` and ``1e-6``).
"""

from __future__ import annotations

import time

import dimod
import numpy as np

from combopt.adapters.cqm import cqm_to_objective
from combopt.solver import solve

__all__ = ["sample_cqm"]

_RTOL, _ATOL = 1e-6, 1e-8
#: Factor of every multiplier after a round some read ended infeasible (squared for the
#: constraints it violated) ...
ESCALATION = 2.0
#: ... and after a round every read ended feasible.
RELAXATION = 0.8


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


def _round_seed(seed: int, r: int) -> int:
    """A seed in ``[0, 2**53)`` for round ``r``, derived from the run's seed."""
    return int(np.random.SeedSequence([seed, r]).generate_state(1, np.uint64)[0] >> np.uint64(11))


def _empty(cqm, num_reads, seed, strategy, t0):
    timing = {"preprocessing_ns": _ns(time.perf_counter() - t0), "sampling_ns": 0,
              "postprocessing_ns": 0, "compile_ns": 0}
    info = {"timing": timing, "trace": [], "seed": seed, "evaluations": 0,
            "strategy": getattr(strategy, "name", strategy), "stop_reason": "empty",
            "multipliers": {}, "rounds": [], "native_discrete": []}
    return dimod.SampleSet.from_samples_cqm(
        (np.empty((num_reads, 0)), []), cqm, info=info
    )


def _split(total, rounds, r):
    """The share of ``total`` left for round ``r`` of ``rounds`` (None stays None)."""
    if total is None:
        return None
    return max(total / (rounds - r), 0.0)


def sample_cqm(cqm, num_reads, seed, initial_states, strategy, time_limit, max_iterations,
               max_stall, rounds) -> dimod.SampleSet:
    """Sample ``cqm``; arguments already checked by the sampler (see ``CombOptSampler``)."""
    t0 = time.perf_counter()
    if len(cqm.variables) == 0:
        return _empty(cqm, num_reads or 1, seed, strategy, t0)
    enc = cqm_to_objective(cqm)
    objective = enc.objective
    initial = None
    if initial_states is not None:
        initial = enc.engine_points(initial_states, num_reads)
        num_reads = initial.shape[0]
    num_reads = num_reads or 1
    tol = _ATOL + _RTOL * np.abs(objective.rhs)
    weights = enc.initial_weights.copy()
    n = objective.num_variables
    best = np.zeros((num_reads, n))
    best_value = np.full(num_reads, np.inf)  # objective of the best feasible state per read
    least = np.full(num_reads, np.inf)  # total violation of the least-violated one
    history, trace = [], []
    totals = {"preprocess": time.perf_counter() - t0, "compile": 0.0, "solve": 0.0,
              "post": 0.0}
    evaluations, result, used = 0, None, weights
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    for r in range(rounds):
        remaining = None if deadline is None else deadline - time.perf_counter()
        if remaining is not None and remaining <= 0 and r > 0:
            break
        result = solve(
            objective.with_weights(weights), strategy=strategy, num_reads=num_reads,
            seed=_round_seed(seed, r), initial=initial,
            time_limit=_split(remaining, rounds, r),
            max_iterations=None if max_iterations is None else -(-max_iterations // rounds),
            max_stall=max_stall,
        )
        t_post = time.perf_counter()
        totals["compile"] += result.timing["compile"]
        totals["solve"] += result.timing["solve"]
        totals["preprocess"] += result.timing["preprocess"]
        evaluations += result.evaluations
        samples = np.asarray(result.samples)
        value = objective.row_values(samples)[:, 0]
        violation = objective.violations(samples)
        violated = violation > tol
        feasible = ~violated.any(axis=1)
        better = feasible & (value < best_value)
        best_value[better] = value[better]
        total_violation = violation.sum(axis=1)
        fallback = ~np.isfinite(best_value) & (total_violation < least)
        least[fallback] = total_violation[fallback]
        best[better | fallback] = samples[better | fallback]
        history.append({
            "multipliers": weights.tolist(),
            "feasible_reads": int(feasible.sum()),
            "violated_constraints": int(violated.any(axis=0).sum()),
            "best_objective": float(best_value.min()) if np.isfinite(best_value).any() else None,
        })
        if history[-1]["best_objective"] is not None:
            trace.append((time.perf_counter() - t0, history[-1]["best_objective"]))
        used = weights
        if feasible.all():
            weights = weights * RELAXATION
        else:
            weights = np.where(violated.any(axis=0), weights * ESCALATION**2, weights * ESCALATION)
        initial = samples
        totals["post"] += time.perf_counter() - t_post + result.timing["polish"]
    t_post = time.perf_counter()
    info = {
        "timing": {
            "preprocessing_ns": _ns(totals["preprocess"]),
            "sampling_ns": _ns(totals["solve"]),
            "compile_ns": _ns(totals["compile"]),
        },
        "trace": trace,
        "seed": int(seed),
        "evaluations": int(evaluations),
        "strategy": result.strategy,
        "stop_reason": result.stop_reason,
        "multipliers": dict(zip(enc.penalised, used.tolist())),
        "initial_multipliers": dict(zip(enc.penalised, enc.initial_weights.tolist())),
        "rounds": history,
        "native_discrete": list(enc.native_discrete),
    }
    if "auto" in result.info:
        info["auto"] = dict(result.info["auto"])
    sampleset = dimod.SampleSet.from_samples_cqm((enc.samples(best), enc.variables), cqm,
                                                 info=info)
    info = sampleset.info
    info["timing"]["postprocessing_ns"] = _ns(totals["post"] + time.perf_counter() - t_post)
    return sampleset
