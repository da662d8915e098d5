"""What a recorded result depends on: package versions, the source tree, the machine.

Every record the project writes (benchmark runs, training results, CLI JSON,
experiment outputs) takes its ``versions`` and ``machine`` from here, so they
all carry the same keys.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import platform
from pathlib import Path

from combopt._version import __version__

#: Distributions whose versions are recorded when installed (``None`` otherwise).
_DISTRIBUTIONS = ("numpy", "scipy", "numba", "dimod", "dwave-samplers", "scikit-learn")


@functools.lru_cache(maxsize=1)
def source_digest() -> str:
    """First 12 hex digits of a SHA-256 over combopt's ``.py`` sources.

    Tells apart runs of the same version number made from different working
    trees (the version string does not change between commits).
    """
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def versions() -> dict:
    """Versions of combopt (with its source digest), Python and the scientific stack.

    Examples
    --------
    >>> sorted(versions())[:3]
    ['combopt', 'combopt_source', 'dimod']
    """
    out = {
        "combopt": __version__,
        "combopt_source": source_digest(),
        "python": platform.python_version(),
    }
    out.update({name: _installed(name) for name in _DISTRIBUTIONS})
    return out


def machine() -> dict:
    """Host, processor, operating system and core count."""
    return {
        "node": platform.node(),
        "processor": platform.processor() or platform.machine(),
        "system": platform.system(),
        "cpus": os.cpu_count(),
    }
