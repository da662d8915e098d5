"""Tables and figures of a sweep, computed from its JSONL file alone.

Per instance and sampler (over seeds): mean gap to best known (of each run's
best read), success rate, median time to target (failed runs count as
infinite), time to solution at 99% confidence ``TTS99 = t ln(0.01) / ln(1-p)``
(``t`` the median wall time of a run, ``p`` the success rate), median wall
time (the achieved one), runs off their time limit and evaluations per
second. Per instance class (``bqp250``, ``bqp500``,
``gka``, ``gset``): the mean of the instance means, the median of the instance
medians. Figures: best-so-far gap against time (combopt traces as curves,
trace-less samplers as one point at their wall time) and time-to-target
ratios to dwave's TabuSampler.
"""

from __future__ import annotations

import math
import os
import re
import statistics
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from combopt.bench.calibrate import TOLERANCE
from combopt.bench.records import read_records
from combopt.bench.runners import SAMPLERS, time_to_solution

__all__ = ["instance_class", "summarise", "write_report"]

_REFERENCE = "tabu"


def instance_class(name: str) -> str:
    """``bqp250.3`` -> ``bqp250``, ``gka4d`` -> ``gka``, ``G14`` -> ``gset``.

    Examples
    --------
    >>> [instance_class(s) for s in ("bqp500.2", "gka10b", "G21")]
    ['bqp500', 'gka', 'gset']
    """
    if m := re.match(r"(bqp\d+)\.\d+\Z", name):
        return m.group(1)
    if name.startswith("gka"):
        return "gka"
    if re.match(r"G\d+\Z", name):
        return "gset"
    return "other"


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise(records: list[dict]) -> tuple[dict, dict]:
    """Aggregate run records.

    Returns
    -------
    per_instance : dict
        ``{(instance, sampler): metrics}``.
    per_class : dict
        ``{(class, sampler): metrics}``.
    """
    runs = defaultdict(list)
    for r in records:
        if r.get("kind") == "run" and "skipped" not in r:
            runs[(r["instance"], r["sampler"])].append(r)
    per_instance = {}
    for key, rs in runs.items():
        gaps = [r["gap_percent"] for r in rs if r["gap_percent"] is not None]
        p = sum(r["success"] for r in rs) / len(rs)
        wall = statistics.median(r["wall_seconds"] for r in rs)
        ttt = [r["ttt_seconds"] if r["success"] else math.inf for r in rs]
        per_instance[key] = {
            "runs": len(rs),
            "mean_gap": statistics.fmean(gaps) if gaps else None,
            "best_objective": max(r["best_objective"] for r in rs) if rs[0]["sense"] == "max"
            else min(r["best_objective"] for r in rs),
            "success": p,
            "median_ttt": statistics.median(ttt),
            "tts99": time_to_solution(p, wall),
            "median_wall": wall,
            "evals_per_second": _median(r.get("evaluations_per_second") for r in rs),
            "time_limit": statistics.median(r["time_limit"] for r in rs),
            "off_time_limit": sum(r.get("on_time_limit") is False for r in rs),
        }
    grouped = defaultdict(list)
    for (inst, sampler), m in per_instance.items():
        grouped[(instance_class(inst), sampler)].append((inst, m))
    per_class = {}
    for key, items in grouped.items():
        ms = [m for _, m in items]
        ref = [per_instance.get((inst, _REFERENCE)) for inst, _ in items]
        ratios = [m["median_ttt"] / r["median_ttt"] for (_, m), r in zip(items, ref)
                  if r is not None and math.isfinite(r["median_ttt"]) and r["median_ttt"] > 0
                  and math.isfinite(m["median_ttt"])]
        gaps = [m["mean_gap"] for m in ms if m["mean_gap"] is not None]
        per_class[key] = {
            "instances": len(ms),
            "runs": sum(m["runs"] for m in ms),
            "mean_gap": statistics.fmean(gaps) if gaps else None,
            "success": statistics.fmean(m["success"] for m in ms),
            "median_ttt": statistics.median(m["median_ttt"] for m in ms),
            "ttt_ratio_to_tabu": statistics.median(ratios) if ratios else None,
            "tts99": statistics.median(m["tts99"] for m in ms),
            "median_wall": statistics.median(m["median_wall"] for m in ms),
            "evals_per_second": _median(m["evals_per_second"] for m in ms),
            "time_limit": statistics.median(m["time_limit"] for m in ms),
            "off_time_limit": sum(m["off_time_limit"] for m in ms),
        }
    return per_instance, per_class


def _fmt(value, spec=".4g", none="–"):
    if value is None:
        return none
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    return format(value, spec)


def _order(samplers):
    return sorted(samplers, key=lambda s: SAMPLERS.index(s) if s in SAMPLERS else len(SAMPLERS))


def _class_table(per_class) -> list[str]:
    lines = []
    for cls in sorted({c for c, _ in per_class}):
        lines += [f"### {cls}", "",
                  ("| sampler | instances | runs | time limit s | mean gap % | success % "
                   "| median TTT s | TTT / tabu | TTS99 s | median wall s | off limit | evals/s |"),
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for sampler in _order(s for c, s in per_class if c == cls):
            m = per_class[(cls, sampler)]
            lines.append(
                f"| {sampler} | {m['instances']} | {m['runs']} | {_fmt(m['time_limit'], '.3g')} "
                f"| {_fmt(m['mean_gap'], '.3f')} | {_fmt(100 * m['success'], '.0f')} "
                f"| {_fmt(m['median_ttt'], '.3g')} | {_fmt(m['ttt_ratio_to_tabu'], '.2f')} "
                f"| {_fmt(m['tts99'], '.3g')} | {_fmt(m['median_wall'], '.3g')} "
                f"| {m['off_time_limit']} | {_fmt(m['evals_per_second'], '.3g')} |")
        lines.append("")
    return lines


def _instance_table(per_instance) -> list[str]:
    samplers = _order({s for _, s in per_instance})
    instances = sorted({i for i, _ in per_instance},
                       key=lambda s: (instance_class(s), [int(t) if t.isdigit() else t
                                                          for t in re.split(r"(\d+)", s)]))
    lines = ["| instance | " + " | ".join(samplers) + " |",
             "|---|" + "---:|" * len(samplers)]
    for inst in instances:
        cells = [_fmt(per_instance[(inst, s)]["mean_gap"], ".3f") if (inst, s) in per_instance
                 else "" for s in samplers]
        lines.append(f"| {inst} | " + " | ".join(cells) + " |")
    return lines


def _figures(records, per_class, out: Path, suffix: str = "") -> list[str]:
    import matplotlib  # the optional "plot" extra, slow to import: only figures need it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    runs = [r for r in records if r.get("kind") == "run" and "skipped" not in r
            and r.get("gap_percent") is not None]
    colours = plt.get_cmap("tab10")
    for cls in sorted({instance_class(r["instance"]) for r in runs}):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for k, sampler in enumerate(_order({r["sampler"] for r in runs})):
            rs = [r for r in runs
                  if r["sampler"] == sampler and instance_class(r["instance"]) == cls]
            if not rs:
                continue
            style = {"color": colours(k % 10), "label": sampler}
            traced = [r for r in rs if r.get("trace")]
            if traced:
                horizon = max(r["wall_seconds"] for r in traced)
                grid = [horizon * 10 ** (k / 20 - 4) for k in range(81)]
                curve = [statistics.fmean(_gap_at(r, t) for r in traced) for t in grid]
                ax.plot(grid, curve, **style)
            else:
                ax.scatter([statistics.median(r["wall_seconds"] for r in rs)],
                           [statistics.fmean(r["gap_percent"] for r in rs)], marker="o", **style)
        ax.set_xscale("log")
        ax.set_xlabel("seconds")
        ax.set_ylabel("mean gap to best known (%)")
        ax.set_title(f"{cls}: best-so-far gap against time")
        ax.set_yscale("symlog", linthresh=0.01)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize="small")
        name = f"gap_vs_time_{cls}{suffix}.png"
        fig.tight_layout()
        fig.savefig(out / name, dpi=120)
        plt.close(fig)
        names.append(name)
    ratios = {k: v["ttt_ratio_to_tabu"] for k, v in per_class.items()
              if v["ttt_ratio_to_tabu"] is not None and k[1] != _REFERENCE}
    if ratios:
        fig, ax = plt.subplots(figsize=(7, 4))
        labels = [f"{c}\n{s}" for c, s in ratios]
        ax.bar(range(len(ratios)), list(ratios.values()))
        ax.axhline(1.0, color="k", lw=0.8)
        ax.axhline(0.5, color="k", lw=0.8, ls="--")
        ax.set_xticks(range(len(ratios)), labels, fontsize="x-small", rotation=45, ha="right")
        ax.set_yscale("log")
        ax.set_ylabel("median TTT / TabuSampler TTT")
        fig.tight_layout()
        fig.savefig(out / f"ttt_ratio{suffix}.png", dpi=120)
        plt.close(fig)
        names.append(f"ttt_ratio{suffix}.png")
    return names


def _gap_at(record, t):
    """Gap of the best-so-far energy at time ``t`` (the first trace point before any).

    The run's final best (after the solver's closing polish, which the trace
    does not cover) counts from the end of the run.
    """
    best = record["trace"][0][1]
    points = record["trace"] + [[record["wall_seconds"], record["best_energy"]]]
    for s, e in points:
        if s > t:
            break
        best = min(best, e)
    known = record["best_known"]
    value = -best if record["sense"] == "max" else best
    worse = known - value if record["sense"] == "max" else value - known
    return 100.0 * worse / abs(known)


def write_report(jsonl: str | os.PathLike, out_dir: str | os.PathLike, *, figures: bool = True,
                 on_torn: Callable[[str], None] | None = None) -> Path:
    """Write ``report.md`` (and PNG figures) for a sweep file; return the markdown path.

    A file holding runs at several time limits gets one set of tables (and
    figures, named with the time limit) per time limit. A torn last line is
    left out, announced through ``on_torn`` (default: a warning) and noted in
    the report.

    Examples
    --------
    >>> import tempfile, os
    >>> from combopt.bench import Sweep
    >>> d = tempfile.mkdtemp()
    >>> _ = Sweep(["gka1a"], ["combopt-tabu", "tabu"], [1, 2], os.path.join(d, "s.jsonl"),
    ...           time_limit=0.05).run(workers=0)
    >>> path = write_report(os.path.join(d, "s.jsonl"), d, figures=False)
    >>> "| combopt-tabu | 1 | 2 |" in path.read_text()
    True
    """
    torn: list[str] = []

    def note_torn(message: str) -> None:
        torn.append(message)
        if on_torn is None:
            warnings.warn(message, RuntimeWarning, stacklevel=3)
        else:
            on_torn(message)

    records = read_records(jsonl, on_torn=note_torn)
    runs = [r for r in records if r.get("kind") == "run"]
    if not runs:
        raise ValueError(f"{jsonl}: no run records")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    first = runs[0]
    skipped = sorted({(r["sampler"], r["skipped"]) for r in runs if "skipped" in r})
    sources = sorted({r["time_limit_source"] for r in runs})
    lines = [
        "# Benchmark report", "",
        (f"Source: `{os.path.basename(os.fspath(jsonl))}` ({len(runs)} runs). "
         f"Time limit per run: {sources}; "
         f"reads per run: {sorted({r['num_reads'] for r in runs})}; "
         f"seeds: {sorted({r['seed'] for r in runs})}; "
         f"target gap %: {sorted({r.get('target_gap', 0.0) for r in runs})} (0 = the best known)."),
        f"Machine: {first['machine']}. Versions: {first['versions']}.", "",
        *[f"Note: {message}." for message in torn], *([""] if torn else []),
        ("Gap: percent of |best known| by which a run's best read falls short (0 = reached). "
         "TTT: time to reach the best known (∞ when not reached within the time limit). "
         "TTT / tabu: median over instances of the ratio to dwave TabuSampler's median TTT "
         "(instances where both reached it). Median wall: the achieved wall time; off limit: "
         f"runs whose wall time missed the time limit by more than {TOLERANCE:.0%} (runs that "
         "stopped at the target do not count)."), "",
    ]
    for source in sources:
        subset = [r for r in records if r.get("time_limit_source", source) == source]
        per_instance, per_class = summarise(subset)
        title = "" if len(sources) == 1 else f" (time limit {source})"
        lines += [f"## By instance class{title}", "", *_class_table(per_class),
                  f"## Mean gap (%) per instance{title}", "", *_instance_table(per_instance), ""]
        if figures:
            suffix = "" if len(sources) == 1 else f"_{source}"
            lines += [f"## Figures{title}", ""]
            lines += [f"![{name}]({name})"
                      for name in _figures(subset, per_class, out, suffix)] + [""]
    if skipped:
        lines += ["Skipped: " + "; ".join(f"{s} ({why})" for s, why in skipped), ""]
    failed = {r["key"] for r in records if r.get("kind") == "error"} - {r["key"] for r in runs}
    if failed:
        lines += [f"Failed and not retried ({len(failed)} runs, not in the tables): "
                  + ", ".join(sorted(failed)), ""]
    path = out / "report.md"
    path.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    return path
