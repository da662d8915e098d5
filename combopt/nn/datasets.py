"""The data sets of the paper's experiments, with their documented splits.

* **MNIST** -- the official IDX files under ``$COMBOPT_DATA/mnist``
  (checksummed): the 60000 training images train, the 10000 ``t10k`` images
  validate. Pixels are scaled to [0, 1]. ``n_train``/``n_val`` take the first
  rows (a slice for tests and development).
* **Iris** -- scikit-learn's bundled copy, split as in the paper into 120
  training and 30 validation points, stratified (10 per class), with
  ``seed`` choosing the split. Features are standardised with the training
  mean and standard deviation.
* **digits** -- scikit-learn's bundled 8x8 digits (1797 images): 1437 train /
  360 validate, stratified, pixels scaled to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from combopt._validation import check_count
from combopt.nn.idx import mnist_path, read_idx

__all__ = ["Dataset", "load_dataset", "load_digits", "load_iris", "load_mnist"]


@dataclass(frozen=True)
class Dataset:
    """A classification data set with its training/validation split.

    Attributes
    ----------
    name : str
        Short name (``"mnist"``, ``"iris"``, ``"digits"``).
    X_train : numpy.ndarray
        Shape ``(n_train, d)``, ``float64``.
    y_train : numpy.ndarray
        Shape ``(n_train,)``, ``int64`` labels in ``0..n_classes-1``.
    X_val, y_val : numpy.ndarray
        The validation split, same layout.
    split : str
        One line describing how the split was made.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    split: str

    @property
    def n_classes(self) -> int:
        """Number of classes (largest label + 1 over both splits)."""
        return int(max(self.y_train.max(), self.y_val.max())) + 1

    @property
    def n_features(self) -> int:
        """Number of input features ``d``."""
        return int(self.X_train.shape[1])


def _check_count(value, name: str, available: int) -> int:
    if value is None:
        return available
    return check_count(name, value, maximum=available)


def load_mnist(n_train: int | None = None, n_val: int | None = None, *, directory=None) -> Dataset:
    """Load MNIST from the checksummed IDX files.

    Parameters
    ----------
    n_train, n_val : int, optional
        Keep only the first rows of each split (default: all 60000 / 10000).
    directory : str or path-like, optional
        Folder of the four ``.gz`` files; default ``$COMBOPT_DATA/mnist``.

    Returns
    -------
    Dataset
        ``X_train`` of shape ``(n_train, 784)`` in [0, 1].

    Examples
    --------
    >>> import os
    >>> if os.environ.get("COMBOPT_DATA"):
    ...     ds = load_mnist(n_train=100, n_val=10)
    ...     assert ds.X_train.shape == (100, 784) and ds.n_classes == 10
    """
    n_train = _check_count(n_train, "n_train", 60000)
    n_val = _check_count(n_val, "n_val", 10000)

    def images(name, count):
        raw = read_idx(mnist_path(name, directory), expected_magic=2051)
        return raw[:count].reshape(count, -1).astype(np.float64) / 255.0

    def labels(name, count):
        return read_idx(mnist_path(name, directory), expected_magic=2049)[:count].astype(np.int64)

    return Dataset(
        name="mnist",
        X_train=images("train-images-idx3-ubyte.gz", n_train),
        y_train=labels("train-labels-idx1-ubyte.gz", n_train),
        X_val=images("t10k-images-idx3-ubyte.gz", n_val),
        y_val=labels("t10k-labels-idx1-ubyte.gz", n_val),
        split=(
            f"first {n_train} of the 60000 training images / "
            f"first {n_val} of the 10000 t10k images"
        ),
    )


def load_iris(seed: int = 0) -> Dataset:
    """Load Iris split 120 / 30 (stratified) as in the paper's Table III.

    Parameters
    ----------
    seed : int
        Chooses the stratified split.

    Returns
    -------
    Dataset
        ``X_train`` of shape ``(120, 4)``, standardised with training statistics.

    Examples
    --------
    >>> ds = load_iris(seed=0)
    >>> ds.X_train.shape, ds.X_val.shape, ds.n_classes
    ((120, 4), (30, 4), 3)
    """
    # scikit-learn (the optional "ml" extra, slow to import) ships these sets.
    from sklearn.datasets import load_iris as sk_load
    from sklearn.model_selection import train_test_split

    bunch = sk_load()
    X_tr, X_va, y_tr, y_va = train_test_split(
        bunch.data, bunch.target, test_size=30, stratify=bunch.target, random_state=seed
    )
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    return Dataset(
        name="iris",
        X_train=(X_tr - mean) / std,
        y_train=y_tr.astype(np.int64),
        X_val=(X_va - mean) / std,
        y_val=y_va.astype(np.int64),
        split=f"scikit-learn iris, stratified 120 train / 30 validation (random_state={seed}), "
        "standardised with training mean/std",
    )


def load_digits(seed: int = 0) -> Dataset:
    """Load scikit-learn's 8x8 digits split 1437 / 360 (stratified).

    Examples
    --------
    >>> ds = load_digits()
    >>> ds.X_train.shape, ds.X_val.shape
    ((1437, 64), (360, 64))
    """
    # scikit-learn (the optional "ml" extra, slow to import) ships these sets.
    from sklearn.datasets import load_digits as sk_load
    from sklearn.model_selection import train_test_split

    bunch = sk_load()
    X_tr, X_va, y_tr, y_va = train_test_split(
        bunch.data / 16.0, bunch.target, test_size=360, stratify=bunch.target, random_state=seed
    )
    return Dataset(
        name="digits",
        X_train=np.ascontiguousarray(X_tr),
        y_train=y_tr.astype(np.int64),
        X_val=np.ascontiguousarray(X_va),
        y_val=y_va.astype(np.int64),
        split=(
            "scikit-learn digits /16, stratified 1437 train / 360 validation "
            f"(random_state={seed})"
        ),
    )


def load_dataset(
    name: str, *, seed: int = 0, n_train: int | None = None, n_val: int | None = None
) -> Dataset:
    """Load a data set by name: ``"mnist"``, ``"iris"`` or ``"digits"``.

    Examples
    --------
    >>> load_dataset("iris").name
    'iris'
    """
    if name == "mnist":
        return load_mnist(n_train, n_val)
    if name == "iris":
        return load_iris(seed)
    if name == "digits":
        return load_digits(seed)
    raise ValueError(f"unknown data set {name!r}; expected mnist, iris or digits")
