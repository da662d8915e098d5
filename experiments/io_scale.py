"""Reading a large COO file: combopt's array reader against dimod's own loader.

Each measurement runs in a fresh Python process, after the imports and after
reading a tiny file (so numba's compile or cache load is paid before the
clock starts; its time is printed separately). A process reports its wall
time, CPU time and the growth of its peak resident set during the step (on
Linux the peak ``VmHWM`` is reset first, so it is this step's peak minus the
resident set before it; elsewhere ``ru_maxrss`` after minus before). Steps:

* ``combopt arrays``: ``read_coo_model`` (the arrays ``combopt solve`` uses);
* ``combopt BQM``: ``read_coo`` (the same, then a dimod BQM);
* ``dimod BQM``: ``dimod.serialization.coo.load`` (dimod's regex loader,
  which skips the lines it cannot parse instead of refusing them);
* ``combopt to kernel``: ``read_coo_model``, the objective and its lowering
  to the CSR kernel arrays, the whole loading path of ``combopt solve``;
* ``via dimod BQM``: dimod's loader, ``bqm_to_objective`` and the same
  lowering, the route through a BQM.

With ``--solve`` it also times ``combopt solve FILE --time-limit T`` in a
child process (wall clock and the child's peak RSS). Figures are medians of
``--repeats`` runs; on a shared machine they are provisional.

    python experiments/make_large_ising.py /tmp/ising1m.coo --seed 1
    python experiments/io_scale.py /tmp/ising1m.coo --repeats 3 --solve metropolis
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

STEPS = ("combopt arrays", "combopt BQM", "dimod BQM", "combopt to kernel", "via dimod BQM")

_CHILD = r"""
import json, resource, sys, time
import dimod
from dimod.serialization import coo as dimod_coo
from combopt.adapters.dimod import bqm_to_objective
from combopt.io import read_coo, read_coo_model

step, path, tiny = sys.argv[1], sys.argv[2], sys.argv[3]

def run(p):
    if step == "combopt arrays":
        return read_coo_model(p)
    if step == "combopt BQM":
        return read_coo(p)
    if step == "dimod BQM":
        with open(p) as fh:
            return dimod_coo.load(fh)
    if step == "combopt to kernel":
        objective, _, _ = read_coo_model(p).to_objective()
        return objective._lower()
    with open(p) as fh:
        objective, _, _ = bqm_to_objective(dimod_coo.load(fh))
    return objective._lower()

def status(key):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key))

t = time.perf_counter()
run(tiny)
warm = time.perf_counter() - t
try:  # Linux: reset the peak (VmHWM) to the current resident set, to see this step's peak.
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before, peak_key = status("VmRSS:"), "VmHWM:"
except OSError:
    before, peak_key = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, None
wall, cpu = time.perf_counter(), time.process_time()
out = run(path)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
peak = status(peak_key) if peak_key else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"wall": wall, "cpu": cpu, "warm": warm, "grow_kb": peak - before,
                  "peak_kb": peak}))
"""


def measure(step: str, path: str, tiny: str) -> dict:
    """Run one step in a fresh interpreter; return its JSON report."""
    done = subprocess.run([sys.executable, "-c", _CHILD, step, path, tiny], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


_SOLVE = r"""
import json, resource, sys
from combopt.cli import main
code = main(["solve", *sys.argv[1:]])
use = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"code": code, "cpu": use.ru_utime + use.ru_stime, "peak_kb": use.ru_maxrss}),
      file=sys.stderr)
"""


def solve_run(path: str, strategy: str, seconds: float) -> dict:
    """Wall time, CPU time and peak RSS of one ``combopt solve`` in a fresh process."""
    argv = [path, "--time-limit", str(seconds), "--strategy", strategy, "--seed", "1", "--json"]
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _SOLVE, *argv], check=True,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t
    usage = json.loads(done.stderr.strip().splitlines()[-1])
    record = json.loads(done.stdout)
    return {"wall": wall, **usage, "timing": record["timing"], "stop_reason": record["stop_reason"]}


def count_model(path: str) -> tuple[int, int]:
    """``(variables, couplings)`` of the file, from combopt's reader."""
    from combopt.io import read_coo_model

    model = read_coo_model(path)
    return model.num_variables, int(model.row.shape[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a COO file with a '# vartype' header")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", default=",".join(STEPS),
                        help="comma-separated subset of: " + ", ".join(STEPS))
    parser.add_argument("--solve", metavar="STRATEGY",
                        help="also time `combopt solve` end to end with this strategy")
    parser.add_argument("--time-limit", type=float, default=2.0)
    args = parser.parse_args()
    size = os.path.getsize(args.path)
    n, m = count_model(args.path)
    print(f"{args.path}: {size / 1e6:.1f} MB, n = {n}, couplings = {m}; "
          f"median of {args.repeats} fresh processes (provisional on a shared machine)")
    with tempfile.NamedTemporaryFile("w", suffix=".coo", delete=False) as fh:
        fh.write("# vartype=SPIN\n0 1 -1\n1 1 0.5\n")
        tiny = fh.name
    try:
        header = (f"{'step':<18} {'wall s':>7} {'cpu s':>7} {'MB/cpu s':>8} {'peak+ MB':>9} "
                  f"{'x file':>6} {'B/var':>6} {'B/coupl':>7} {'warm s':>6}")
        print(header)
        rows = {}
        for step in args.steps.split(","):
            runs = [measure(step, args.path, tiny) for _ in range(args.repeats)]
            wall = statistics.median(r["wall"] for r in runs)
            cpu = statistics.median(r["cpu"] for r in runs)
            grow = statistics.median(r["grow_kb"] for r in runs) * 1024
            warm = statistics.median(r["warm"] for r in runs)
            rows[step] = (wall, cpu, grow)
            print(f"{step:<18} {wall:7.2f} {cpu:7.2f} {size / 1e6 / cpu:8.0f} {grow / 1e6:9.0f} "
                  f"{grow / size:6.2f} {grow / n:6.0f} {grow / m:7.0f} {warm:6.2f}")
        for ours, theirs in (("combopt BQM", "dimod BQM"), ("combopt to kernel", "via dimod BQM")):
            if ours in rows and theirs in rows:
                print(f"{ours} / {theirs}: cpu x{rows[ours][1] / rows[theirs][1]:.2f}, "
                      f"peak x{rows[ours][2] / rows[theirs][2]:.2f}")
        if args.solve:
            runs = [solve_run(args.path, args.solve, args.time_limit) for _ in range(args.repeats)]
            wall = statistics.median(r["wall"] for r in runs)
            cpu = statistics.median(r["cpu"] for r in runs)
            peak = max(r["peak_kb"] for r in runs) * 1024
            print(f"combopt solve --strategy {args.solve} --time-limit {args.time_limit}: "
                  f"wall {wall:.2f} s, cpu {cpu:.2f} s (medians), peak RSS {peak / 1e9:.2f} GB "
                  f"({peak / n:.0f} B/variable, {peak / m:.0f} B/coupling), "
                  f"stop {runs[0]['stop_reason']}, timing {runs[0]['timing']}")
    finally:
        os.unlink(tiny)


if __name__ == "__main__":
    main()
