"""Benchmark harness: combopt against the dimod / dwave-samplers samplers.

* :mod:`combopt.bench.runners` -- one run of one sampler under a time budget
  (how each sampler is matched to the budget is documented there);
* :mod:`combopt.bench.sweep` -- instances x samplers x seeds, streamed to a
  JSONL file (fsync'd per run, resumable), on a local process pool or Dask;
* :mod:`combopt.bench.report` -- tables and figures from the JSONL alone.

The command line is ``combopt bench run`` / ``combopt bench report``; see
``docs/benchmarks.md``.
"""

from combopt.bench.runners import SAMPLERS, run_one, time_to_solution
from combopt.bench.sweep import Sweep, Task, read_records, run_task

__all__ = ["SAMPLERS", "Sweep", "Task", "read_records", "run_one", "run_task", "time_to_solution"]
