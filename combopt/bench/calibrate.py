"""Matching dwave's ``SimulatedAnnealingSampler`` to a wall-time limit.

SA has no time parameter: its work is set by ``num_sweeps``. One call costs a
fixed part (converting the BQM, setting up the reads; tens of milliseconds on
an 800-variable G-set graph) plus a part proportional to the sweeps. Scaling
the sweeps from one short run, as this harness once did, charges the fixed
part to every sweep and leaves SA a third to a half of its time limit unused.

:func:`calibrate_sa` therefore

1. times SA's default run (1000 sweeps; median of ``repeats`` calls), which is
   also the time limit of a sweep without ``--time-limit``;
2. with a time limit ``T``, times a longer run (at least 4x the sweeps and
   about 0.25 s of sweeping) and fits ``wall = fixed + sweeps * per_sweep``
   through the two;
3. runs SA at ``(T - fixed) / per_sweep`` sweeps and
   checks that its wall time lands within :data:`TOLERANCE` of ``T``; when it
   does not, takes a secant step through the two runs nearest to ``T`` and
   checks again (at most ``max_checks`` runs of about ``T`` each).

SA's wall time is that of its ``sample`` call, preprocessing included, as
combopt's runs are timed from the BQM on (wall against wall). On a virtual
machine a sweep's cost drifts by tens of percent between the calibration and
a run, so each run is also checked: :func:`combopt.bench.runners.run_one`
re-runs one that missed its limit by more than :data:`TOLERANCE`, with its
sweeps scaled by ``T / wall``, and keeps the attempt nearest ``T``.
"""

from __future__ import annotations

import math
import statistics
import time

import dimod

__all__ = ["SA_DEFAULT_SWEEPS", "TOLERANCE", "calibrate_sa", "fit_fixed_and_rate", "on_time_limit"]

#: SA's default number of sweeps (dwave-samplers).
SA_DEFAULT_SWEEPS = 1000
#: A run uses its time limit when its wall time is within this fraction of it.
TOLERANCE = 0.10
#: Seconds of sweeping aimed at by the second calibration run.
_LONG_RUN = 0.25


def on_time_limit(wall_seconds: float, time_limit: float) -> bool:
    """Whether a wall time is within :data:`TOLERANCE` of the time limit.

    Examples
    --------
    >>> on_time_limit(0.95, 1.0), on_time_limit(0.14, 0.3)
    (True, False)
    """
    return abs(wall_seconds / time_limit - 1.0) <= TOLERANCE


def fit_fixed_and_rate(points) -> tuple[float, float]:
    """Least-squares ``seconds = fixed + work * rate`` over ``[work, seconds]`` points.

    ``fixed`` is clipped at 0; when timing noise makes the slope non-positive,
    the rate of the longest run is used with no fixed part.

    Examples
    --------
    >>> fixed, rate = fit_fixed_and_rate([[1000, 0.03], [4000, 0.09]])
    >>> round(fixed, 9), round(rate, 12)  # 10 ms fixed, 20 us per sweep
    (0.01, 2e-05)
    """
    xs = [float(x) for x, _ in points]
    ts = [float(t) for _, t in points]
    mx, mt = statistics.fmean(xs), statistics.fmean(ts)
    sxx = sum((x - mx) ** 2 for x in xs)
    rate = sum((x - mx) * (t - mt) for x, t in zip(xs, ts)) / sxx if sxx > 0 else 0.0
    if rate <= 0:
        longest = max(range(len(xs)), key=xs.__getitem__)
        return 0.0, ts[longest] / xs[longest]
    fixed = mt - rate * mx
    return max(0.0, fixed), rate


def _sweeps_for(time_limit: float, fixed: float, rate: float) -> int:
    return max(1, round((time_limit - fixed) / rate))


def calibrate_sa(bqm: dimod.BinaryQuadraticModel, num_reads: int, *,
                 time_limit: float | None = None, seed: int = 0, repeats: int = 3,
                 max_checks: int = 3) -> dict:
    """Fit SA's fixed cost and cost per sweep; with a time limit, its sweeps for it.

    Parameters
    ----------
    bqm : dimod.BinaryQuadraticModel
    num_reads : int
        Reads per call, as in the runs being matched.
    time_limit : float, optional
        Wall seconds per run to match. ``None``: SA runs its default sweeps.
    seed : int
        SA's seed for the calibration calls (in ``0..2**32-1``).
    repeats : int
        Calls per fitted run length (their median is used).
    max_checks : int
        Runs at about ``time_limit`` to check (and re-fit) the sweep count.

    Returns
    -------
    dict
        ``default_seconds`` (the default run), ``points`` (``[sweeps,
        seconds]`` of the fit), ``fixed_seconds``, ``sweep_seconds`` (both
        ``None`` without a time limit: nothing is fitted then),
        ``time_limit``, ``num_sweeps`` (for the time limit; 1000 without one),
        ``checks`` (``[sweeps, seconds]`` of the check runs) and
        ``within_tolerance`` (the last check landed within
        :data:`TOLERANCE`; ``None`` without a time limit).

    Examples
    --------
    >>> import dimod
    >>> bqm = dimod.generators.ran_r(1, 20, seed=1)
    >>> cal = calibrate_sa(bqm, 1, time_limit=0.05, repeats=1)
    >>> cal["num_sweeps"] > 0 and len(cal["checks"]) >= 1
    True
    """
    from dwave.samplers import SimulatedAnnealingSampler

    sampler = SimulatedAnnealingSampler()
    sampler.sample(bqm, num_reads=1, num_sweeps=10, seed=seed)  # load / warm caches

    def wall(sweeps: int) -> float:
        t0 = time.perf_counter()
        sampler.sample(bqm, num_reads=num_reads, num_sweeps=sweeps, seed=seed)
        return time.perf_counter() - t0

    def median_wall(sweeps: int) -> float:
        return statistics.median(wall(sweeps) for _ in range(repeats))

    default = median_wall(SA_DEFAULT_SWEEPS)
    out = {"sampler": "sa", "num_reads": num_reads, "default_seconds": default,
           "points": [[SA_DEFAULT_SWEEPS, default]], "fixed_seconds": None,
           "sweep_seconds": None, "time_limit": time_limit, "num_sweeps": SA_DEFAULT_SWEEPS,
           "checks": [], "within_tolerance": None}
    if time_limit is None:
        return out  # SA runs its default: nothing to fit
    # default / 1000 over-estimates the per-sweep cost (it includes the fixed
    # part), so this run sweeps for at most about _LONG_RUN seconds.
    longer = max(4 * SA_DEFAULT_SWEEPS, math.ceil(SA_DEFAULT_SWEEPS * _LONG_RUN / default))
    points = [[SA_DEFAULT_SWEEPS, default], [longer, median_wall(longer)]]
    fixed, rate = fit_fixed_and_rate(points)
    out.update(points=points, fixed_seconds=fixed, sweep_seconds=rate)
    sweeps = _sweeps_for(time_limit, fixed, rate)
    checks: list[list] = []
    for _ in range(max_checks):
        checks.append([sweeps, wall(sweeps)])
        if on_time_limit(checks[-1][1], time_limit):
            break
        # A secant step through the two measured runs nearest to the time limit
        # (a local line, so its intercept may be negative). Timing noise can make
        # that line flat or falling; then scale the nearest run in proportion.
        (s_a, t_a), (s_b, t_b) = sorted(points + checks,
                                        key=lambda p: abs(p[1] - time_limit))[:2]
        if s_a == s_b or t_a == t_b:
            break  # no slope to follow (e.g. a time limit below the fixed cost: 1 sweep)
        slope = (t_b - t_a) / (s_b - s_a)
        step = s_a + (time_limit - t_a) / slope if slope > 0 else 0.0
        if not s_a / 4 <= step <= 4 * s_a:
            step = s_a * time_limit / t_a
        sweeps = max(1, round(step))
    # The sweep count used is a measured one: the check that hit, or else the
    # check whose wall time came nearest the limit (never an untried extrapolation).
    nearest = min(checks, key=lambda c: abs(c[1] - time_limit))
    hit = on_time_limit(nearest[1], time_limit)
    out.update(num_sweeps=nearest[0], checks=checks, within_tolerance=hit)
    return out
