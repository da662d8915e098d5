"""A local process pool whose workers never outlive the sweep that started them.

Two ways a sweep's parent can go away, and what each leaves behind without
care: ``SIGTERM`` kills Python at once by default (no ``finally``, no pool
shutdown), and ``SIGKILL`` cannot be caught at all. Either way the workers
(each holding compiled kernels and an instance, hundreds of MB) would keep
computing, and multiprocessing's resource tracker, which exits only when
every process holding its pipe has closed it, would wait for them.

So:

* every worker dies with its parent (:func:`die_with_parent`): on Linux the
  kernel sends it ``SIGKILL`` when the parent exits (``PR_SET_PDEATHSIG``,
  which needs no cooperation from a worker busy in compiled code); elsewhere,
  and as a second line, a daemon thread polls ``os.getppid()`` and leaves as
  soon as the worker has been re-parented;
* in the parent, ``SIGTERM`` raises :class:`Terminated` (a ``SystemExit``
  with status 143), and any exception leaving :func:`process_pool` ends the
  workers before it propagates.

The resource tracker then sees its pipe close and exits by itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

__all__ = ["Terminated", "die_with_parent", "process_pool", "terminate_raises"]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Terminated(SystemExit):
    """Raised in the parent of a sweep by ``SIGTERM`` (exit status 143)."""

    def __init__(self):
        super().__init__(128 + signal.SIGTERM)


def die_with_parent(parent_pid: int, *, prctl: bool = True, poll: float = 0.2) -> None:
    """Make this process exit when process ``parent_pid`` (its parent) exits.

    Parameters
    ----------
    parent_pid : int
        The pid the parent had when it started this process.
    prctl : bool
        Also ask Linux for ``SIGKILL`` on the parent's death (ignored
        elsewhere). ``False`` leaves only the portable watchdog thread.
    poll : float
        Seconds between the watchdog's checks.
    """
    if prctl and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid, poll), daemon=True,
                     name="combopt-parent-watchdog").start()


def _watch(parent_pid: int, poll: float) -> None:
    while os.getppid() == parent_pid:
        time.sleep(poll)
    # Re-parented: the sweep is gone and nobody will read what this worker makes.
    os._exit(1)


@contextlib.contextmanager
def terminate_raises():
    """Within the block, ``SIGTERM`` raises :class:`Terminated` in the main thread.

    Outside the main thread (where Python cannot install handlers) the block
    runs unchanged. The previous handler comes back afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def process_pool(workers: int | None):
    """A spawn-context ``ProcessPoolExecutor`` that takes its workers down with it.

    On a normal exit the pool shuts down as usual (waiting for its work).
    When an exception leaves the block (``KeyboardInterrupt``,
    :class:`Terminated`, an error while handling a result), pending work is
    cancelled and every worker is terminated before the exception goes on.
    """
    # spawn, not fork: forking a process whose Numba already started OpenMP
    # threads aborts the child.
    ctx = multiprocessing.get_context("spawn")
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                               initializer=die_with_parent, initargs=(os.getpid(),))
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        _end(set(multiprocessing.active_children()) - before)
        raise
    pool.shutdown(wait=True)


def _end(processes) -> None:
    """Terminate, then kill what is still alive after a second."""
    for proc in processes:
        proc.terminate()
    deadline = time.monotonic() + 1.0
    for proc in processes:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(1.0)
