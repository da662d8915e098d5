"""The sweep file: one JSON record per line, appended durably, read strictly.

The parent process of a sweep is the only writer. Each record is written as
one ``write`` of its JSON text and a newline, flushed and ``fsync``'d, so a
crash (power loss, ``SIGKILL`` mid-write) can leave at most one incomplete
line, and only at the end of the file: a *torn tail*, the bytes after the
last newline. Reading tolerates that tail and says so; resuming repairs it
before appending (:func:`repair_tail`), so a new record never lands on the
fragment. A malformed line anywhere else is corruption and is refused with
its line number.

Files written before the time budget was called ``time_limit`` everywhere
are read through :func:`upgrade` (``budget`` -> ``time_limit``,
``budget_source`` -> ``time_limit_source``, the calibration's ``sa_seconds``
-> ``default_seconds``; ``wall_ratio`` and ``on_time_limit`` derived), so
published sweeps keep their reports.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable

from combopt.bench.calibrate import on_time_limit

__all__ = ["append_record", "read_records", "repair_tail", "upgrade"]

#: Old field names -> the current ones (see the module docstring).
_RENAMED = {"budget": "time_limit", "budget_source": "time_limit_source"}


def append_record(path: str | os.PathLike, record: dict) -> None:
    """Append one JSON line and make it durable (flush + fsync) before returning."""
    line = json.dumps(record, default=_jsonable) + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def upgrade(record: dict) -> dict:
    """A record with the current field names (older sweep files used others).

    Examples
    --------
    >>> upgrade({"kind": "run", "budget": 0.5, "budget_source": "0.5s"})
    {'kind': 'run', 'time_limit': 0.5, 'time_limit_source': '0.5s'}
    >>> old = upgrade({"kind": "run", "sampler": "sa", "budget": 0.5, "wall_seconds": 0.25})
    >>> old["wall_ratio"], old["on_time_limit"]
    (0.5, False)
    >>> upgrade({"kind": "calibration", "sa_seconds": 0.01})["default_seconds"]
    0.01
    """
    out = {_RENAMED.get(k, k): v for k, v in record.items()}
    if out.get("kind") == "calibration" and "sa_seconds" in out:
        out["default_seconds"] = out.pop("sa_seconds")
        out.setdefault("sampler", "sa")
    if out.get("kind") == "run" and "wall_seconds" in out and "on_time_limit" not in out:
        # Runs recorded before the achieved wall time was checked: check it now.
        binding = out.get("sampler") != "exact" and not out.get("stopped_at_target", False)
        out["wall_ratio"] = out["wall_seconds"] / out["time_limit"]
        out["on_time_limit"] = (on_time_limit(out["wall_seconds"], out["time_limit"])
                                if binding else None)
    return out


def read_records(path: str | os.PathLike,
                 on_torn: Callable[[str], None] | None = None) -> list[dict]:
    """The records of a sweep file, in file order (see :func:`upgrade`).

    Parameters
    ----------
    path : path
        The JSONL file.
    on_torn : callable, optional
        Called with a one-line message when the file ends in a torn line,
        which is then left out. Default: a ``RuntimeWarning``.

    Raises
    ------
    ValueError
        For a malformed line other than a torn tail (names file and line).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.jsonl")
    >>> _ = open(path, "w").write('{"kind": "run"}\\n{"kind": "ru')
    >>> read_records(path, on_torn=print)  # doctest: +ELLIPSIS
    /...t.jsonl:2: torn last line (12 bytes, no newline) left out
    [{'kind': 'run'}]
    """
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.read().split("\n")
    # The text after the last newline: "" for a file that ends cleanly.
    *complete, tail = lines
    records = []
    for number, line in enumerate(complete, start=1):
        if line.strip():
            records.append(upgrade(_parse(line, path, number)))
    if tail.strip():
        record = _record(tail)
        if record is not None:
            records.append(upgrade(record))
        else:
            message = (f"{os.fspath(path)}:{len(lines)}: torn last line "
                       f"({len(tail.encode())} bytes, no newline) left out")
            if on_torn is None:
                warnings.warn(message, RuntimeWarning, stacklevel=2)
            else:
                on_torn(message)
    return records


def _record(line: str) -> dict | None:
    """The JSON object on a line, or ``None`` when the line holds none."""
    try:
        value = json.loads(line)
    except ValueError:  # JSONDecodeError, and invalid UTF-8 text
        return None
    return value if isinstance(value, dict) else None


def _parse(line: str, path, number: int) -> dict:
    record = _record(line)
    if record is None:
        raise ValueError(f"{os.fspath(path)}:{number}: not a JSON record")
    return record


def repair_tail(path: str | os.PathLike) -> str | None:
    """Make a sweep file end with a complete line before anything is appended.

    A tail that parses as a record (only its newline was lost) gets its
    newline. Any other tail is appended to ``PATH.torn`` (kept for
    inspection) and cut off the file. Both changes are ``fsync``'d.

    Returns
    -------
    str or None
        A one-line account of the repair, or ``None`` when the file was
        already whole.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.jsonl")
    >>> _ = open(path, "w").write('{"kind": "run"}\\n{"kind": "ru')
    >>> print(repair_tail(path))  # doctest: +ELLIPSIS
    /...t.jsonl:2: torn last line (12 bytes) moved to .../t.jsonl.torn and cut off
    >>> open(path).read(), repair_tail(path)
    ('{"kind": "run"}\\n', None)
    """
    with open(path, "r+b") as fh:
        data = fh.read()
        cut = data.rfind(b"\n") + 1  # 0 when there is no newline at all
        tail = data[cut:]
        if not tail.strip():
            if tail:  # trailing blanks after the last newline: drop them
                fh.truncate(cut)
                fh.flush()
                os.fsync(fh.fileno())
            return None
        number = data.count(b"\n") + 1
        if _record(tail.decode("utf-8", errors="replace")) is not None:
            fh.seek(0, os.SEEK_END)
            fh.write(b"\n")
            fh.flush()
            os.fsync(fh.fileno())
            return f"{os.fspath(path)}:{number}: last line had no newline; completed it"
        aside = os.fspath(path) + ".torn"
        with open(aside, "ab") as out:
            out.write(tail + b"\n")
            out.flush()
            os.fsync(out.fileno())
        fh.truncate(cut)
        fh.flush()
        os.fsync(fh.fileno())
    return (f"{os.fspath(path)}:{number}: torn last line ({len(tail)} bytes) moved to "
            f"{aside} and cut off")
