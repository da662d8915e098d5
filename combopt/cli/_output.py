"""What every sub-command prints: one-line JSON records, timing, samples, progress.

The conventions (``docs/cli.md``):

* ``--json`` prints exactly one JSON object on one line (pipe it to ``jq``,
  append it to a JSONL file).
* Every record that runs the engine has ``timing`` with at least ``read``
  (reading and building the problem), ``compile`` (Numba compilation or cache
  load), ``search`` (the engine's search) and ``total`` (wall time of the
  command, from the start of its handler to the record); ``seconds`` is
  ``timing["search"]``. Commands may add keys for their own stages.
* A sample is a ``{label: value}`` mapping, numeric labels in numeric order.
* Progress goes to stderr, and only when stderr is a terminal (tqdm, if installed).
"""

from __future__ import annotations

import contextlib
import json
import sys


def print_record(record: dict) -> None:
    """Print ``record`` as one JSON line on stdout."""
    print(json.dumps(record))


def timing(read: float, compile: float, search: float, total: float, **extra: float) -> dict:
    """The timing breakdown every engine record carries (seconds).

    Examples
    --------
    >>> timing(0.5, 1.0, 2.0, 3.75, refine=0.25)
    {'read': 0.5, 'compile': 1.0, 'search': 2.0, 'total': 3.75, 'refine': 0.25}
    """
    out = {"read": float(read), "compile": float(compile), "search": float(search),
           "total": float(total)}
    out.update({k: float(v) for k, v in extra.items()})
    return out


def _json_label(label):
    return label if isinstance(label, (int, str)) else str(label)


def sample_mapping(labels, values) -> dict:
    """``{label: value}`` with numeric labels in numeric order, others after them as given.

    JSON object keys are strings, so ``json.dumps`` writes ``{"2": 1, "10": 0}``;
    the order is numeric all the same.

    Examples
    --------
    >>> sample_mapping([10, 2, "a"], [0.0, 1.0, -1.0])
    {2: 1, 10: 0, 'a': -1}
    """
    pairs = [(_json_label(v), int(x) if float(x).is_integer() else float(x))
             for v, x in zip(labels, values)]
    numeric = sorted((p for p in pairs if isinstance(p[0], int)), key=lambda p: p[0])
    other = [p for p in pairs if not isinstance(p[0], int)]
    return dict(numeric + other)


def format_sample(mapping: dict) -> str:
    """The text form of a sample: ``label=value`` pairs.

    Examples
    --------
    >>> format_sample({0: 1, 1: 0})
    'sample: 0=1 1=0'
    """
    return "sample: " + " ".join(f"{k}={v}" for k, v in mapping.items())


@contextlib.contextmanager
def progress_bar(total: float | None, unit: str, description: str):
    """Yield ``update(done, description=None, **postfix)``.

    The bar is a tqdm bar on stderr when stderr is a terminal (and tqdm is
    installed), drawn at once so a long first stage shows something; else
    ``update`` does nothing and nothing is printed.
    """
    bar = None
    if sys.stderr.isatty():
        try:
            from tqdm import tqdm
        except ImportError:  # the optional "progress" extra is not installed
            tqdm = None
        if tqdm is not None:
            bar = tqdm(total=total, unit=unit, desc=description, file=sys.stderr,
                       dynamic_ncols=True, leave=False)
            bar.refresh()

    def update(done: float, description: str | None = None, **postfix) -> None:
        if bar is not None:
            bar.n = done if total is None else min(done, total)
            if description is not None:
                bar.set_description_str(description, refresh=False)
            if postfix:
                bar.set_postfix(postfix, refresh=False)
            bar.refresh()

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()
