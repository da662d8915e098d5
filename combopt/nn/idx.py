"""IDX files (the MNIST format): reading, checksum verification and download.

An IDX file is a big-endian header -- two zero bytes, a type byte (``0x08`` for
unsigned bytes) and the number of dimensions -- followed by one 32-bit
big-endian size per dimension and the data. MNIST uses magic ``2051``
(images, three dimensions) and ``2049`` (labels, one dimension). Files may be
gzip-compressed (``.gz``).

The published copies live under ``$COMBOPT_DATA/mnist`` together with a
``SHA256SUMS`` file; :func:`mnist_path` verifies a file against it before the
data is trusted.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

__all__ = ["download_mnist", "mnist_dir", "mnist_path", "read_idx", "sha256_of", "verify_checksum"]

#: The data type of each IDX type byte.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: The official mirror (the files are byte-identical to the SHA256SUMS entries).
MNIST_MIRROR = "https://storage.googleapis.com/cvdf-datasets/mnist/"

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

#: SHA-256 of the official files, used when no ``SHA256SUMS`` is next to them.
MNIST_SHA256 = {
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
}


def read_idx(path: str | os.PathLike, *, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a numpy array.

    Parameters
    ----------
    path : str or path-like
        The file; a name ending in ``.gz`` is decompressed.
    expected_magic : int, optional
        Reject the file unless its magic number (``type_byte << 8 | ndim``) is
        this, e.g. 2051 for MNIST images and 2049 for labels.

    Returns
    -------
    numpy.ndarray
        Shape given by the header, e.g. ``(60000, 28, 28)`` for MNIST training
        images, in native byte order.

    Raises
    ------
    ValueError
        On a bad header, an unknown type byte or a size that does not match
        the file length.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "x.idx")
    >>> _ = open(p, "wb").write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(p, expected_magic=2049)
    array([7, 8, 9], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (gzip.BadGzipFile, EOFError) as exc:
        raise ValueError(f"{path}: not a readable gzip file ({exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic)")
    type_byte, ndim = raw[2], raw[3]
    magic = type_byte << 8 | ndim
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(f"{path}: IDX magic {magic}, expected {expected_magic}")
    if type_byte not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX type byte 0x{type_byte:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[type_byte]
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header != count * dtype.itemsize:
        raise ValueError(
            f"{path}: header says {count} items of {dtype.itemsize} bytes, "
            f"file has {len(raw) - header} data bytes"
        )
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header)
    return data.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def sha256_of(path: str | os.PathLike) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB blocks.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "e")
    >>> _ = open(p, "wb").write(b"")
    >>> sha256_of(p)[:16]
    'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_sums(sums_file: Path) -> dict[str, str]:
    sums = {}
    for line in sums_file.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def verify_checksum(path: str | os.PathLike, sums_file: str | os.PathLike | None = None) -> None:
    """Raise ``ValueError`` unless ``path`` has the SHA-256 listed for it.

    Parameters
    ----------
    path : str or path-like
        The file to check.
    sums_file : str or path-like, optional
        A ``sha256sum``-style list (``<hex>  <name>`` per line). Default: the
        ``SHA256SUMS`` next to ``path`` if it exists, else the built-in MNIST
        table.

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "e")
    >>> _ = open(p, "wb").write(b"")
    >>> _ = open(os.path.join(d, "SHA256SUMS"), "w").write(sha256_of(p) + "  e\\n")
    >>> verify_checksum(p)
    """
    path = Path(path)
    if sums_file is None:
        candidate = path.parent / "SHA256SUMS"
        sums = _read_sums(candidate) if candidate.exists() else MNIST_SHA256
    else:
        sums = _read_sums(Path(sums_file))
    if path.name not in sums:
        raise ValueError(f"{path}: no SHA-256 listed for {path.name}")
    actual = sha256_of(path)
    if actual != sums[path.name]:
        raise ValueError(
            f"{path}: SHA-256 mismatch (got {actual[:12]}..., expected {sums[path.name][:12]}...)"
        )


def mnist_dir() -> Path:
    """Return ``$COMBOPT_DATA/mnist``; ``OSError`` if the variable is unset."""
    root = os.environ.get("COMBOPT_DATA")
    if not root:
        raise OSError(
            "COMBOPT_DATA is not set: point it at the published data folder (it holds mnist/)"
        )
    return Path(root) / "mnist"


def mnist_path(name: str, directory: str | os.PathLike | None = None) -> Path:
    """Return the path of one MNIST file after verifying its checksum.

    Parameters
    ----------
    name : str
        One of :data:`MNIST_FILES`.
    directory : str or path-like, optional
        Where the files are; default :func:`mnist_dir`.

    Raises
    ------
    OSError
        If the file is missing (with a hint to :func:`download_mnist`).
    ValueError
        If its checksum does not match.
    """
    if name not in MNIST_FILES:
        raise ValueError(f"unknown MNIST file {name!r}; expected one of {', '.join(MNIST_FILES)}")
    folder = Path(directory) if directory is not None else mnist_dir()
    path = folder / name
    if not path.exists():
        raise OSError(
            f"{path} not found: fetch it with combopt.nn.idx.download_mnist({str(folder)!r})"
        )
    verify_checksum(path)
    return path


def download_mnist(
    directory: str | os.PathLike, *, mirror: str = MNIST_MIRROR, timeout: float = 60.0
) -> list[Path]:
    """Download the four MNIST files into ``directory`` and verify them.

    Files already present with the right checksum are kept. Where no network
    exists this raises ``OSError`` naming the mirror, never hangs past
    ``timeout`` seconds per request.

    Parameters
    ----------
    directory : str or path-like
        Destination folder (created if needed).
    mirror : str
        Base URL of the mirror.
    timeout : float
        Seconds allowed per request.

    Returns
    -------
    list of pathlib.Path
        The four verified files.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in MNIST_FILES:
        path = folder / name
        if path.exists() and sha256_of(path) == MNIST_SHA256[name]:
            paths.append(path)
            continue
        url = mirror + name
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                payload = response.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise OSError(f"cannot download {url}: {exc}") from None
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(payload)
        if hashlib.sha256(payload).hexdigest() != MNIST_SHA256[name]:
            tmp.unlink()
            raise ValueError(f"{url}: downloaded file has the wrong SHA-256")
        tmp.replace(path)
        paths.append(path)
    return paths
