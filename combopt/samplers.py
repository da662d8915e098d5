"""dimod samplers over :func:`combopt.solve` and over the network-training route.

:class:`CombOptSampler` is a :class:`dimod.Sampler` and
:class:`dimod.Initialized`: ``sample(bqm, ...)`` returns a SampleSet in the
user's labels and vartype, with ``info`` holding

* ``timing``: nanoseconds, as dwave-samplers report them
  (``preprocessing_ns``, ``sampling_ns``, ``postprocessing_ns``, plus
  ``compile_ns`` for Numba compilation, which the other three exclude);
* ``trace``: the best-so-far ``(seconds, energy)`` pairs of the run, so time to
  target can be read without rerunning;
* ``seed`` (the one used, drawn when none was given), ``evaluations``,
  ``strategy`` and ``stop_reason``.

It also enforces what dimod's conformance suite leaves out: unknown keywords
warn and are ignored, ``parameters`` lists exactly the accepted keywords,
``seed`` must be an integer in ``[0, 2**53)`` (the range every seed of the
package shares, see :mod:`combopt._validation`), and ``num_reads`` rows come
back even for a BQM without variables.

``sample_cqm(cqm, ...)`` samples a :class:`dimod.ConstrainedQuadraticModel`
(binary, spin and bounded integer variables, one-hot groups as categorical
variables, other constraints as penalised rows with multipliers adapted
between rounds; see :mod:`combopt.samplers_cqm`) and returns dimod's CQM
SampleSet: energies are the CQM objective, with ``is_feasible`` and
``is_satisfied``.

``sample_dqm(dqm, ...)`` solves a :class:`dimod.DiscreteQuadraticModel` natively
(each variable's cases are its domain, see
:func:`combopt.adapters.dimod.dqm_to_objective`) and returns a SampleSet of
case indices in the DQM's labels, energies equal to ``dqm.energies``, and the
same ``info``.

:class:`TrainingRouteSampler` samples through
:func:`combopt.training_route.solve_qubo_via_training` (reduce the QUBO to a
least-squares training problem, relax, discretise, train with CoNNTrA).
"""

from __future__ import annotations

import time
from typing import ClassVar

import dimod
import numpy as np

from combopt._validation import (
    check_count,
    check_optional_count,
    check_optional_real,
    check_seed,
)
from combopt._version import __version__
from combopt.adapters.dimod import (
    bqm_to_objective,
    dqm_to_objective,
    empty_sampleset,
    result_to_sampleset,
)
from combopt.samplers_cqm import sample_cqm as _sample_cqm
from combopt.solver import solve
from combopt.strategies import STRATEGIES, resolve_strategy

__all__ = ["CombOptSampler", "TrainingRouteSampler"]

def _check_num_reads(num_reads) -> int | None:
    return check_optional_count("num_reads", num_reads, minimum=1)


def _check_strategy(strategy):
    """Refuse an unknown strategy at ``sample`` time, before any work (the engine's own check)."""
    resolve_strategy(strategy)
    return strategy


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


def _result_info(result, lowered: float) -> dict:
    """A SampleSet's ``info`` for a solver result (``postprocessing_ns`` set by _finish_timing)."""
    timing = {
        "preprocessing_ns": _ns(lowered + result.timing["preprocess"]),
        "sampling_ns": _ns(result.timing["solve"]),
        "compile_ns": _ns(result.timing["compile"]),
    }
    info = {
        "timing": timing,
        "trace": [(float(s), float(e)) for s, e in result.best_trace],
        "seed": int(result.seed),
        "evaluations": int(result.evaluations),
        "strategy": result.strategy,
        "stop_reason": result.stop_reason,
    }
    if "auto" in result.info:
        info["auto"] = dict(result.info["auto"])
    return info


def _finish_timing(info: dict, result, t_post: float) -> None:
    """Record the polish, the energy recomputation and the SampleSet build as post-processing."""
    info["timing"]["postprocessing_ns"] = _ns(
        result.timing["polish"] + result.timing["postprocess"] + time.perf_counter() - t_post
    )


def _dqm_initial_states(initial_states, labels, num_cases, num_reads) -> np.ndarray:
    """Initial case indices, shape (num_reads or given rows, n), columns in ``labels`` order.

    One state is used by every read; otherwise exactly ``num_reads`` are needed.
    """
    states, state_labels = dimod.as_samples(initial_states)
    if set(state_labels) != set(labels) or len(state_labels) != len(labels):
        raise ValueError(
            f"initial_states must give a case for each of the DQM's {len(labels)} variables, "
            f"got {len(state_labels)} other or missing labels"
        )
    position = {v: k for k, v in enumerate(state_labels)}
    states = np.asarray(states)[:, [position[v] for v in labels]]
    rows = states.shape[0]
    if num_reads is not None and rows not in (1, num_reads):
        raise ValueError(
            f"got {rows} initial states for num_reads={num_reads} (give 1 or {num_reads})"
        )
    bad = (states != np.floor(states)) | (states < 0) | (states >= num_cases)
    if np.any(bad):
        r, k = (int(w) for w in np.argwhere(bad)[0])
        raise ValueError(
            f"initial state {r}: case {float(states[r, k]):g} of variable {labels[k]!r} is outside "
            f"0..{num_cases[k] - 1}"
        )
    return np.repeat(states, num_reads, axis=0) if rows == 1 and num_reads else states


class CombOptSampler(dimod.Sampler, dimod.Initialized):
    """CoNNTrA coordinate search as a dimod sampler.

    Examples
    --------
    >>> import dimod
    >>> bqm = dimod.BQM({"a": -1.0, "b": 1.0}, {("a", "b"): -2.0}, 0.0, "SPIN")
    >>> ss = CombOptSampler().sample(bqm, num_reads=3, seed=7, strategy="tabu")
    >>> len(ss), float(ss.first.energy), sorted(ss.info["timing"])[:2]
    (3, -2.0, ['compile_ns', 'postprocessing_ns'])
    """

    parameters: ClassVar[dict] = {
        "num_reads": [],
        "seed": [],
        "initial_states": [],
        "initial_states_generator": [],
        "strategy": ["strategies"],
        "time_limit": [],
        "target_energy": [],
        "max_iterations": [],
        "max_stall": [],
    }

    properties: ClassVar[dict] = {
        "strategies": tuple(STRATEGIES),
        "category": "software",
        "version": __version__,
        "initial_states_generators": ("none", "tile", "random"),
    }

    def __init__(self):
        # Per-instance copies: callers may mutate them without touching the class.
        self.parameters = {k: list(v) for k, v in type(self).parameters.items()}
        self.properties = dict(type(self).properties)

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        num_reads: int | None = None,
        seed: int | None = None,
        initial_states=None,
        initial_states_generator: str = "random",
        strategy="auto",
        time_limit: float | None = None,
        target_energy: float | None = None,
        max_iterations: int | None = None,
        max_stall: int | None = None,
        **kwargs,
    ) -> dimod.SampleSet:
        """Sample from a binary quadratic model.

        Parameters
        ----------
        bqm : dimod.BinaryQuadraticModel
        num_reads : int, optional
            Independent reads (rows of the SampleSet). Default 1, or the
            number of ``initial_states``.
        seed : int, optional
            In ``[0, 2**53)`` (drawn from the OS when omitted, and recorded in
            ``info["seed"]``); the same seed gives the same SampleSet (for runs
            not stopped by ``time_limit``).
        initial_states : samples-like, optional
            Starting points; completed by ``initial_states_generator``
            (``"random"``, ``"tile"`` or ``"none"``) when fewer than
            ``num_reads`` are given.
        strategy : str or strategy instance
            A name of :data:`combopt.strategies.STRATEGIES` (default
            ``"auto"``: chosen from the problem, recorded in
            ``info["auto"]``), or an instance.
        time_limit : float, optional
            Seconds of search; the run stops there.
        target_energy : float, optional
            Stop as soon as a read reaches this BQM energy.
        max_iterations, max_stall : int, optional
            See :func:`combopt.solve`.
        **kwargs
            Unknown keywords raise ``SamplerUnknownArgWarning`` and are ignored.

        Returns
        -------
        dimod.SampleSet
            ``num_reads`` rows in read order, ``info`` as described in the
            module docstring.
        """
        self.remove_unknown_kwargs(**kwargs)
        t0 = time.perf_counter()
        seed = check_seed(seed)
        num_reads = _check_num_reads(num_reads)
        strategy = _check_strategy(strategy)
        initial = None
        if initial_states is not None:
            parsed = self.parse_initial_states(
                bqm,
                initial_states=initial_states,
                initial_states_generator=initial_states_generator,
                num_reads=num_reads,
                # dimod draws the missing states with numpy's legacy RandomState,
                # which takes 32-bit seeds only: give it one derived from ours.
                seed=int(np.random.SeedSequence(seed).generate_state(1)[0]),
            )
            num_reads = parsed.num_reads
            states = parsed.initial_states
            columns = [states.variables.index(v) for v in bqm.variables]
            initial = np.asarray(states.record.sample[:, columns], dtype=np.float64)
        elif initial_states_generator not in self.properties["initial_states_generators"]:
            raise ValueError(f"unknown initial_states_generator {initial_states_generator!r}")
        num_reads = num_reads or 1
        if bqm.num_variables == 0:
            timing = {"preprocessing_ns": _ns(time.perf_counter() - t0), "sampling_ns": 0,
                      "postprocessing_ns": 0, "compile_ns": 0}
            info = {"timing": timing, "trace": [], "seed": seed, "evaluations": 0,
                    "strategy": getattr(strategy, "name", strategy), "stop_reason": "empty"}
            return empty_sampleset(bqm, num_reads, info)
        objective, domain, labels = bqm_to_objective(bqm)
        lowered = time.perf_counter() - t0
        result = solve(
            objective,
            domain,
            strategy=strategy,
            num_reads=num_reads,
            seed=seed,
            initial=initial,
            time_limit=time_limit,
            target_energy=target_energy,
            max_iterations=max_iterations,
            max_stall=max_stall,
        )
        t_post = time.perf_counter()
        info = _result_info(result, lowered)
        sampleset = result_to_sampleset(result, labels, bqm.vartype, info)
        _finish_timing(info, result, t_post)
        return sampleset

    def sample_dqm(
        self,
        dqm: dimod.DiscreteQuadraticModel,
        num_reads: int | None = None,
        seed: int | None = None,
        initial_states=None,
        strategy="auto",
        time_limit: float | None = None,
        target_energy: float | None = None,
        max_iterations: int | None = None,
        max_stall: int | None = None,
        **kwargs,
    ) -> dimod.SampleSet:
        """Sample from a discrete quadratic model, each variable over its own cases.

        Parameters
        ----------
        dqm : dimod.DiscreteQuadraticModel
        num_reads : int, optional
            Independent reads. Default 1, or the number of ``initial_states``.
        seed, strategy, time_limit, target_energy, max_iterations, max_stall
            As for :meth:`sample` (``target_energy`` is a DQM energy).
        initial_states : samples-like, optional
            Case indices in the DQM's labels: one state (used by every read)
            or one per read.
        **kwargs
            Unknown keywords raise ``SamplerUnknownArgWarning`` and are ignored.

        Returns
        -------
        dimod.SampleSet
            ``num_reads`` rows of case indices (vartype ``DISCRETE``, which
            dimod stores as ``INTEGER``) in read order, energies equal to
            ``dqm.energies``, ``info`` as for :meth:`sample`.

        Examples
        --------
        >>> import dimod
        >>> dqm = dimod.DiscreteQuadraticModel()
        >>> for v in "abc":
        ...     _ = dqm.add_variable(3, v)
        >>> for u, v in ("ab", "bc", "ac"):
        ...     dqm.set_quadratic(u, v, {(k, k): 1.0 for k in range(3)})
        >>> ss = CombOptSampler().sample_dqm(dqm, num_reads=2, seed=1)
        >>> colours = sorted(int(c) for c in ss.first.sample.values())
        >>> float(ss.first.energy), colours, ss.info["strategy"]
        (0.0, [0, 1, 2], 'tabu')
        """
        self.remove_unknown_kwargs(**kwargs)
        t0 = time.perf_counter()
        seed = check_seed(seed)
        num_reads = _check_num_reads(num_reads)
        strategy = _check_strategy(strategy)
        if len(dqm.variables) == 0:
            timing = {"preprocessing_ns": _ns(time.perf_counter() - t0), "sampling_ns": 0,
                      "postprocessing_ns": 0, "compile_ns": 0}
            info = {"timing": timing, "trace": [], "seed": seed, "evaluations": 0,
                    "strategy": getattr(strategy, "name", strategy), "stop_reason": "empty"}
            return dimod.SampleSet.from_samples(
                (np.empty((num_reads or 1, 0), dtype=np.int64), []), vartype="DISCRETE",
                energy=np.full(num_reads or 1, float(dqm.offset)), info=info,
            )
        objective, labels = dqm_to_objective(dqm)
        initial = None
        if initial_states is not None:
            initial = _dqm_initial_states(initial_states, labels, objective.num_cases, num_reads)
            num_reads = initial.shape[0]
        lowered = time.perf_counter() - t0
        result = solve(
            objective,
            objective.default_domain(),
            strategy=strategy,
            num_reads=num_reads or 1,
            seed=seed,
            initial=initial,
            time_limit=time_limit,
            target_energy=target_energy,
            max_iterations=max_iterations,
            max_stall=max_stall,
        )
        t_post = time.perf_counter()
        info = _result_info(result, lowered)
        sampleset = dimod.SampleSet.from_samples(
            (np.asarray(result.samples, dtype=np.int64), labels),
            vartype="DISCRETE",
            energy=np.asarray(result.energies, dtype=np.float64),
            info=info,
        )
        _finish_timing(info, result, t_post)
        return sampleset


    def sample_cqm(
        self,
        cqm: dimod.ConstrainedQuadraticModel,
        num_reads: int | None = None,
        seed: int | None = None,
        initial_states=None,
        strategy="auto",
        time_limit: float | None = None,
        max_iterations: int | None = None,
        max_stall: int | None = None,
        rounds: int = 10,
        **kwargs,
    ) -> dimod.SampleSet:
        """Sample from a constrained quadratic model over finite domains.

        Parameters
        ----------
        cqm : dimod.ConstrainedQuadraticModel
            Binary, spin and integer variables with at most 65,536 values in
            their bounds; hard constraints. Real variables, wider integers
            and soft constraints raise ``ValueError``.
        num_reads : int, optional
            Independent reads. Default 1, or the number of ``initial_states``.
        seed, strategy, max_stall
            As for :meth:`sample` (``max_stall`` holds within a round).
        initial_states : samples-like, optional
            CQM samples (every one-hot group with one member set, at most one
            for an "at most one" group): one state (used by every read) or one
            per read.
        time_limit : float, optional
            Seconds of search, shared by the rounds.
        max_iterations : int, optional
            Iterations per read, shared by the rounds. With neither this nor
            ``time_limit``, each round runs the strategy's default.
        rounds : int
            Rounds of search; between two, the multiplier of every constraint
            some read violates is doubled.
        **kwargs
            Unknown keywords raise ``SamplerUnknownArgWarning`` and are ignored.

        Returns
        -------
        dimod.SampleSet
            ``num_reads`` rows in read order, each that read's best feasible
            state (or its least-violated one), from
            :meth:`dimod.SampleSet.from_samples_cqm`: energies equal
            ``cqm.objective.energies``, ``is_feasible`` and ``is_satisfied`` as
            dimod computes them. ``info`` as for :meth:`sample`, plus
            ``multipliers`` (the last round's, by constraint label),
            ``initial_multipliers``, ``rounds`` (per round: ``multipliers``,
            ``feasible_reads``, ``violated_constraints``, ``best_objective``),
            ``native_discrete`` (the constraints solved as categorical
            variables) and ``constraint_labels``; ``trace`` holds ``(seconds,
            best feasible objective)`` at the end of each round.

        Examples
        --------
        >>> import dimod
        >>> cqm = dimod.generators.knapsack([6, 5, 4], [3, 2, 2], 4)
        >>> ss = CombOptSampler().sample_cqm(cqm, num_reads=2, seed=1, max_iterations=50)
        >>> best = ss.filter(lambda d: d.is_feasible).first
        >>> float(best.energy), sorted(v for v, on in best.sample.items() if on)
        (-9.0, ['x_1', 'x_2'])
        """
        self.remove_unknown_kwargs(**kwargs)
        seed = check_seed(seed)
        num_reads = _check_num_reads(num_reads)
        strategy = _check_strategy(strategy)
        rounds = check_count("rounds", rounds, minimum=1)
        time_limit = check_optional_real("time_limit", time_limit, minimum=0.0)
        max_iterations = check_optional_count("max_iterations", max_iterations, minimum=1)
        return _sample_cqm(cqm, num_reads, seed, initial_states, strategy, time_limit,
                           max_iterations, max_stall, rounds)


class TrainingRouteSampler(dimod.Sampler):
    """QUBO by network training (reduce, relax, discretise, train) as a dimod sampler.

    Every read starts from the discretised relaxation and differs by the
    solver's random choices; see :mod:`combopt.training_route`.

    Examples
    --------
    >>> import dimod
    >>> bqm = dimod.BQM({0: -1.0, 1: -1.0}, {(0, 1): 2.0}, 0.0, "BINARY")
    >>> ss = TrainingRouteSampler().sample(bqm, num_reads=2, seed=3, strategy="tabu")
    >>> len(ss), float(ss.first.energy)
    (2, -1.0)
    """

    parameters: ClassVar[dict] = {
        "num_reads": [],
        "seed": [],
        "strategy": ["strategies"],
        "time_limit": [],
        "target_energy": [],
        "max_iterations": [],
    }

    properties: ClassVar[dict] = {
        "strategies": tuple(STRATEGIES), "category": "software", "version": __version__,
    }

    def __init__(self):
        self.parameters = {k: list(v) for k, v in type(self).parameters.items()}
        self.properties = dict(type(self).properties)

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        num_reads: int | None = None,
        seed: int | None = None,
        strategy="paper",
        time_limit: float | None = None,
        target_energy: float | None = None,
        max_iterations: int | None = None,
        **kwargs,
    ) -> dimod.SampleSet:
        """Sample through the training route; parameters as :class:`CombOptSampler`.

        Returns
        -------
        dimod.SampleSet
            ``num_reads`` rows; ``info`` has ``timing`` (ns: ``preprocessing_ns``
            covers reduce + relax + discretise), ``seed``, ``evaluations``,
            ``shift``, ``condition_number`` and ``stop_reason``.
        """
        # Imported here: the route pulls in scipy.optimize, which plain sampling does not need.
        from combopt.training_route import qubo_from_bqm, solve_qubo_via_training

        self.remove_unknown_kwargs(**kwargs)
        seed = check_seed(seed)
        num_reads = _check_num_reads(num_reads) or 1
        strategy = _check_strategy(strategy)
        if bqm.num_variables == 0:
            info = {"timing": {"preprocessing_ns": 0, "sampling_ns": 0, "postprocessing_ns": 0},
                    "seed": seed, "evaluations": 0, "stop_reason": "empty"}
            return empty_sampleset(bqm, num_reads, info)
        qubo, labels = qubo_from_bqm(bqm)
        res = solve_qubo_via_training(
            qubo,
            strategy=strategy,
            num_reads=num_reads,
            seed=seed,
            time_limit=time_limit,
            max_iterations=max_iterations,
            target_energy=target_energy,
        )
        t = res.timing
        pre = t["reduce"] + t["relax"] + t["discretize"]
        info = {
            "timing": {
                "preprocessing_ns": _ns(pre),
                "sampling_ns": _ns(t["solve"]),
                "compile_ns": _ns(t["compile"]),
                "postprocessing_ns": _ns(max(t["total"] - pre - t["solve"] - t["compile"], 0.0)),
            },
            "seed": res.seed,
            "evaluations": res.evaluations,
            "shift": res.shift,
            "condition_number": res.condition_number,
            "stop_reason": res.stop_reason,
        }
        return dimod.SampleSet.from_samples(
            (np.asarray(res.samples, dtype=np.int8), labels),
            vartype=bqm.vartype,
            energy=np.asarray(res.energies, dtype=np.float64),
            info=info,
        )
