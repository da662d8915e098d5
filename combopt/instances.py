"""Published instances by name: ``bqp250.3``, ``gka4d``, ``G14``.

:func:`load` finds an instance in the data directory named by the environment
variable ``COMBOPT_DATA`` (the layout of the project's shared data folder:
``bqp/orlib/bqpN.txt``, ``bqp/gka/<name>.sparse``, ``gset/G<k>`` and a
``best_known.csv`` in ``bqp/`` and ``gset/``). When the variable is unset, the
small set embedded in the package (``combopt/data``: bqp50, bqp100, gka1a,
gka1b, gka1c, gka4d, G11) is used, so examples run on a fresh machine.

An :class:`Instance` carries its model in minimisation form and the sense of
its published objective: OR-Library and G-set values are maxima (objective =
``-energy``), GKA values are minima (objective = ``energy``). The model is a
dimod BQM, or for a COO file the reader's arrays (:class:`~combopt.io.CooModel`),
which :meth:`Instance.to_objective` hands to the solver without a BQM.
"""

from __future__ import annotations

import csv
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import dimod

from combopt.adapters.dimod import bqm_to_objective
from combopt.io import (
    SENSES,
    CooModel,
    Loaded,
    detect_format,
    read,
    read_coo_model,
    read_gka,
    read_gset,
    read_orlib,
)

__all__ = ["Instance", "best_known_table", "data_dir", "expand", "from_file", "load", "names"]

#: Environment variable naming the data directory.
DATA_ENV = "COMBOPT_DATA"

_EMBEDDED = Path(__file__).resolve().parent / "data"
_ORLIB = re.compile(r"bqp(\d+)\.(\d+)\Z")
_ORLIB_SET = re.compile(r"bqp(\d+)\Z")
# GKA's published sets are a-f; any file bqp/gka/<name>.sparse is also found by its name.
_GKA = re.compile(r"gka\d+[a-z]\Z")
_GSET = re.compile(r"G(\d+)\Z")
_GSET_RANGE = re.compile(r"G(\d+)-G?(\d+)\Z")


@dataclass(frozen=True)
class Instance:
    """A QUBO/Ising instance with the sense and best-known value of its objective.

    Attributes
    ----------
    name : str
        ``bqp250.3``, ``gka4d``, ``G14``, or a file name.
    model : dimod.BinaryQuadraticModel or CooModel
        Minimisation form: lower energy is better whatever the sense. A COO
        file's instance keeps the reader's arrays; :attr:`bqm` converts them.
    sense : {"max", "min"}
        Sense of the published objective.
    best_known : float or None
        Published best-known (or optimal) objective value, in that sense.
    source : str or None
        The file it was read from.

    Examples
    --------
    >>> inst = load("bqp50.1")
    >>> inst.sense, inst.best_known, inst.bqm.num_variables
    ('max', 2098.0, 50)
    >>> inst.objective(-2098.0), inst.gap_percent(2077.02)
    (2098.0, 1.0)
    """

    name: str
    model: dimod.BinaryQuadraticModel | CooModel
    sense: str
    best_known: float | None = None
    source: str | None = None

    def __post_init__(self):
        if self.sense not in ("max", "min"):
            raise ValueError(f"sense must be 'max' or 'min', got {self.sense!r}")

    @functools.cached_property
    def bqm(self) -> dimod.BinaryQuadraticModel:
        """The model as a dimod BQM (built once, on first use, for a COO file's arrays)."""
        return self.model.to_bqm() if isinstance(self.model, CooModel) else self.model

    @property
    def n(self) -> int:
        """Number of variables."""
        return self.model.num_variables

    def to_objective(self):
        """``(objective, domain, labels)`` for :func:`combopt.solve` (see ``bqm_to_objective``).

        A COO file's arrays go to the sparse objective directly, without a BQM.

        Examples
        --------
        >>> obj, domain, labels = load("bqp50.1").to_objective()
        >>> obj.num_variables, labels[:3]
        (50, [0, 1, 2])
        """
        if isinstance(self.model, CooModel):
            objective, domain, labels = self.model.to_objective()
            return objective, domain, labels.tolist()
        return bqm_to_objective(self.model)

    def objective(self, energy: float) -> float:
        """The published objective of a BQM energy (``-energy`` for a maximum)."""
        return -float(energy) if self.sense == "max" else float(energy)

    def energy(self, objective: float) -> float:
        """The BQM energy of a published objective value (inverse of :meth:`objective`)."""
        return -float(objective) if self.sense == "max" else float(objective)

    @property
    def target_energy(self) -> float | None:
        """BQM energy of the best-known value, or None when it is unknown."""
        return None if self.best_known is None else self.energy(self.best_known)

    def target_at_gap(self, gap_percent: float) -> float | None:
        """BQM energy of the objective value ``gap_percent`` short of the best known.

        ``target_at_gap(0)`` is :attr:`target_energy`; None when no best-known
        value is recorded.

        Examples
        --------
        >>> load("bqp50.1").target_at_gap(1.0)   # 1% below the maximum 2098
        -2077.02
        """
        if self.best_known is None:
            return None
        if not gap_percent >= 0:
            raise ValueError(f"gap_percent must be >= 0, got {gap_percent}")
        slack = abs(self.best_known) * gap_percent / 100.0
        value = self.best_known - slack if self.sense == "max" else self.best_known + slack
        return self.energy(value)

    def gap_percent(self, value: float) -> float | None:
        """Gap of an objective value to the best known, in percent of ``|best_known|``.

        Positive means worse than the best known whatever the sense; ``None``
        when no best-known value is recorded (or it is 0).
        """
        if self.best_known is None or self.best_known == 0:
            return None
        worse = (self.best_known - value) if self.sense == "max" else (value - self.best_known)
        return round(100.0 * worse / abs(self.best_known), 12)


def data_dir() -> Path:
    """The data directory: ``$COMBOPT_DATA`` if set, else the embedded set.

    Raises
    ------
    OSError
        If ``COMBOPT_DATA`` is set to something that is not a directory.
    """
    env = os.environ.get(DATA_ENV)
    if not env:
        return _EMBEDDED
    path = Path(env)
    if not path.is_dir():
        raise OSError(f"{DATA_ENV}={env} is not a directory")
    return path


@functools.lru_cache(maxsize=8)
def _best_known(root: str) -> dict[str, tuple[float, str]]:
    table: dict[str, tuple[float, str]] = {}
    for sub in ("bqp", "gset"):
        path = Path(root) / sub / "best_known.csv"
        if not path.is_file():
            continue
        with open(path, newline="") as fh:
            for row in csv.DictReader(fh):
                table[row["instance"]] = (float(row["best_known"]), row["sense"])
    return table


def best_known_table(root: str | os.PathLike | None = None) -> dict[str, tuple[float, str]]:
    """``{name: (best_known, sense)}`` from the data directory's ``best_known.csv`` files."""
    return dict(_best_known(str(root or data_dir())))


@functools.lru_cache(maxsize=4)
def _orlib_file(path: str, mtime: float) -> tuple[dimod.BinaryQuadraticModel, ...]:
    # mtime in the key: an edited file is read again.
    return tuple(read_orlib(path))


def _locate(name: str, root: Path) -> tuple[str, Path, int | None]:
    """``(format, file, index)`` of an instance name."""
    if m := _ORLIB.match(name):
        return "orlib", root / "bqp" / "orlib" / f"bqp{m.group(1)}.txt", int(m.group(2))
    if _GSET.match(name):
        return "gset", root / "gset" / name, None
    sparse = root / "bqp" / "gka" / f"{name}.sparse"
    if _GKA.match(name) or (os.sep not in name and sparse.is_file()):
        return "gka", sparse, None
    raise ValueError(
        f"unknown instance name {name!r}: expected bqpN.K (e.g. bqp250.3), Gk (G14), or the "
        f"name of a file bqp/gka/NAME.sparse of the data directory (gka4d, gka5f)"
    )


def load(name: str, *, vartype: dimod.typing.VartypeLike | None = None) -> Instance:
    """Load a published instance by name from :func:`data_dir`.

    Parameters
    ----------
    name : str
        ``bqpN.K`` (OR-Library file ``bqpN.txt``, instance K of 10),
        ``G<k>`` (G-set, Max-Cut), or the stem of any file
        ``bqp/gka/<name>.sparse`` (GKA/BiqMac format, sets a-f: ``gka4d``,
        ``gka5f``).
    vartype : dimod vartype, optional
        G-set only: encode the cut in SPIN (default) or BINARY variables.

    Returns
    -------
    Instance

    Raises
    ------
    ValueError
        Unknown name or index; the file missing (the message says whether the
        embedded set or ``COMBOPT_DATA`` was searched).

    Examples
    --------
    >>> g = load("G11")
    >>> g.sense, g.best_known, g.n
    ('max', 564.0, 800)
    """
    root = data_dir()
    fmt, path, index = _locate(name, root)
    if not path.is_file():
        embedded = f"the embedded set ({DATA_ENV} unset)"
        where = f"{DATA_ENV}={root}" if root != _EMBEDDED else embedded
        raise ValueError(f"instance {name!r} not found in {where}: no file {path}")
    if fmt == "orlib":
        bqms = _orlib_file(str(path), path.stat().st_mtime)
        if not 1 <= index <= len(bqms):
            raise ValueError(f"instance {name!r}: {path.name} holds instances 1..{len(bqms)}")
        bqm = bqms[index - 1].copy()
        sense = "max"
    elif fmt == "gka":
        bqm, sense = read_gka(path), "min"
    else:
        bqm, sense = read_gset(path, vartype=vartype or dimod.SPIN), "max"
    best = _best_known(str(root)).get(name)
    if best is not None and best[1] != sense:
        raise ValueError(f"best_known.csv gives sense {best[1]} for {name}, expected {sense}")
    return Instance(name, bqm, sense, None if best is None else best[0], str(path))


def from_file(
    path: str | os.PathLike,
    format: str = "auto",
    *,
    index: int | None = None,
    vartype: dimod.typing.VartypeLike | None = None,
) -> Instance:
    """Read an :class:`Instance` from a file (see :func:`combopt.io.read`).

    ``FILE#K`` is accepted for an OR-Library file's K-th instance. When the
    file lies in a data directory and its name matches a ``best_known.csv``
    entry (``bqp250.txt`` instance 3 -> ``bqp250.3``, ``gka4d.sparse``,
    ``G14``), the best-known value is attached.

    Examples
    --------
    >>> from combopt.instances import data_dir
    >>> inst = from_file(str(data_dir() / "bqp" / "orlib" / "bqp50.txt") + "#2")
    >>> inst.name, inst.best_known
    ('bqp50.2', 3702.0)
    """
    path = os.fspath(path)
    if index is None and "#" in path and not os.path.exists(path):
        path, _, k = path.rpartition("#")
        if not k.isdigit():
            raise ValueError(f"bad instance index {k!r} in FILE#K: expected a positive integer")
        index = int(k)
    if index is None and format in ("auto", "coo") and (
        format == "coo" or detect_format(path) == "coo"
    ):
        # The reader's arrays, not a BQM: a COO file may hold millions of variables.
        model = read_coo_model(path, vartype)
        return Instance(os.path.basename(path), model, SENSES["coo"], None, path)
    loaded: Loaded = read(path, format, index=index, vartype=vartype)
    base = os.path.basename(path)
    stem = base.rsplit(".", 1)[0] if loaded.format in ("orlib", "gka") else base
    name = f"{stem}.{loaded.index}" if loaded.format == "orlib" else stem
    best = None
    if loaded.format in ("orlib", "gka", "gset"):
        # The data directory is two levels up for bqp files, one for G-set.
        root = Path(path).resolve().parent.parent
        root = root.parent if loaded.format != "gset" else root
        entry = _best_known(str(root)).get(name)
        if entry is not None and entry[1] == loaded.sense:
            best = entry[0]
    return Instance(name, loaded.bqm, loaded.sense, best, path)


def _natural(name: str) -> tuple:
    """Sort key putting gka2a before gka10a."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


def names(set_name: str) -> list[str]:
    """Names of the instances of a set present in :func:`data_dir`.

    ``"bqp250"`` -> ``bqp250.1`` .. ``bqp250.10``; ``"gka"`` (every
    ``bqp/gka/*.sparse`` file present, sets a-f alike), ``"gset"``, ``"bqp"``
    (every OR-Library instance).

    Examples
    --------
    >>> names("bqp50")[:3]
    ['bqp50.1', 'bqp50.2', 'bqp50.3']
    """
    root = data_dir()
    if m := _ORLIB_SET.match(set_name):
        path = root / "bqp" / "orlib" / f"bqp{m.group(1)}.txt"
        if not path.is_file():
            raise ValueError(f"no OR-Library file {path}")
        count = len(_orlib_file(str(path), path.stat().st_mtime))
        return [f"{set_name}.{k}" for k in range(1, count + 1)]
    if set_name == "bqp":
        files = sorted((root / "bqp" / "orlib").glob("bqp*.txt"), key=lambda p: int(p.stem[3:]))
        return [name for p in files for name in names(p.stem)]
    if set_name == "gka":
        return sorted((p.stem for p in (root / "bqp" / "gka").glob("*.sparse")), key=_natural)
    if set_name == "gset":
        found = [p.name for p in (root / "gset").glob("G*") if _GSET.match(p.name)]
        return sorted(found, key=lambda s: int(s[1:]))
    raise ValueError(f"unknown instance set {set_name!r}: bqpN, bqp, gka or gset")


def expand(spec: str) -> list[str]:
    """Expand a comma-separated instance list into names, in order, without repeats.

    Items: a name (``bqp250.3``, ``gka4d``, ``G14``), a set (``bqp250``,
    ``bqp``, ``gka``, ``gset``) or a G-set range (``G1-G21``, ``G1-21``).

    Examples
    --------
    >>> expand("bqp50.1,G1-G3,bqp50.1")
    ['bqp50.1', 'G1', 'G2', 'G3']
    """
    out: list[str] = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            raise ValueError(f"empty item in instance list {spec!r}")
        if m := _GSET_RANGE.match(item):
            lo, hi = int(m.group(1)), int(m.group(2))
            if lo > hi:
                raise ValueError(f"empty G-set range {item!r}")
            got = [f"G{k}" for k in range(lo, hi + 1)]
        elif _ORLIB_SET.match(item) or item in ("bqp", "gka", "gset"):
            got = names(item)
        else:
            _locate(item, data_dir())  # validates the name
            got = [item]
        out.extend(g for g in got if g not in out)
    return out
