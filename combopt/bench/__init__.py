"""Benchmark harness: combopt against the dimod / dwave-samplers samplers.

* :mod:`combopt.bench.runners` -- one run of one sampler under a time limit
  (how each sampler is matched to it is documented there);
* :mod:`combopt.bench.calibrate` -- SA's sweeps fitted to a wall-time limit;
* :mod:`combopt.bench.sweep` -- instances x samplers x seeds, streamed to a
  JSONL file (fsync'd per run, resumable), on a local process pool or Dask;
* :mod:`combopt.bench.records` -- that file: durable appends, strict reads,
  torn-tail repair;
* :mod:`combopt.bench.report` -- tables and figures from the JSONL alone.

The command line is ``combopt bench run`` / ``combopt bench report``; see
``docs/benchmarks.md``.
"""

from combopt.bench._pool import Terminated
from combopt.bench.calibrate import calibrate_sa
from combopt.bench.records import read_records, repair_tail
from combopt.bench.runners import SAMPLERS, available_samplers, run_one, time_to_solution
from combopt.bench.sweep import Sweep, Task, run_task

__all__ = [
    "SAMPLERS",
    "Sweep",
    "Task",
    "Terminated",
    "available_samplers",
    "calibrate_sa",
    "read_records",
    "repair_tail",
    "run_one",
    "run_task",
    "time_to_solution",
]
