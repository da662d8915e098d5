"""The QUBO form, its spin counterpart and plain numpy evaluation of both forms.

Conventions used throughout :mod:`reductions`:

* A QUBO is ``E(z) = zᵀ A z + bᵀ z + c`` with ``A`` stored **symmetric**.  Any
  square ``Q`` is accepted and replaced by ``(Q + Qᵀ) / 2``, which has the same
  quadratic form on every real ``z``; so an upper-triangular ``Q`` (each pair
  listed once) and a symmetric one both mean ``zᵀ Q z``.  The diagonal of ``A``
  is a quadratic term; on binary points it acts like a linear one.
* ``variables`` says which points the form is evaluated on: ``"binary"``
  (``z`` in ``{0, 1}^d``) or ``"spin"`` (``s`` in ``{-1, +1}^d``).
* A training set is ``(X, Y)`` with ``X`` of shape ``(N, d)`` and ``Y`` of
  shape ``(N,)`` (one output) or ``(N, k)`` (``k`` outputs); its loss at weights
  ``w`` (``(d,)`` or ``(d, k)``) is the mean squared error over the ``N``
  samples, ``||X w - Y||² / N`` (summed over outputs), plus a scalar offset.

The helpers :func:`qubo_energy` and :func:`training_loss` are the plain numpy
evaluations that the tests and ``combopt.reduction_check`` compare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reductions._validation import (
    as_points,
    as_real_array,
    as_scalar,
    as_square,
    as_vector,
    check_variables,
    training_set,
)

__all__ = ["QUBO", "as_qubo", "qubo_energy", "to_binary", "to_spin", "training_loss"]


@dataclass(frozen=True, eq=False)
class QUBO:
    """A quadratic objective ``zᵀ A z + bᵀ z + c`` over binary or spin points.

    Build it with :func:`as_qubo`, which validates and symmetrises.

    Attributes
    ----------
    A : ndarray, shape (d, d)
        Symmetric quadratic coefficients.
    b : ndarray, shape (d,)
        Linear coefficients.
    c : float
        Constant.
    variables : {"binary", "spin"}
        The points the objective is defined on.

    Examples
    --------
    >>> q = as_qubo([[1.0, -2.0], [0.0, 3.0]], linear=[0.5, 0.0], offset=1.0)
    >>> q.A.tolist()
    [[1.0, -1.0], [-1.0, 3.0]]
    >>> float(q.energy([1, 1]))
    3.5
    """

    A: np.ndarray
    b: np.ndarray
    c: float
    variables: str = "binary"

    @property
    def num_variables(self) -> int:
        """Number of variables ``d``."""
        return self.A.shape[0]

    def energy(self, z) -> float | np.ndarray:
        """Return the objective at ``z`` (shape ``(d,)`` -> float, ``(k, d)`` -> ``(k,)``)."""
        return qubo_energy(self.A, self.b, self.c, z)


def as_qubo(Q, linear=None, offset: float = 0.0, *, variables: str | None = None) -> QUBO:
    """Validate a QUBO given as a matrix, linear terms and a constant.

    Parameters
    ----------
    Q : array_like, shape (d, d) or QUBO
        Quadratic coefficients of ``zᵀ Q z``; symmetric, upper-triangular or
        any square matrix (it is symmetrised).  A :class:`QUBO` is returned as
        is (then ``linear`` and ``offset`` must be left at their defaults).
    linear : array_like, shape (d,), optional
        Linear coefficients ``b`` (default zeros).
    offset : float
        Constant ``c``.
    variables : {"binary", "spin"}, optional
        Which points the objective is defined on (default ``"binary"``, or the
        form of a given :class:`QUBO`).

    Returns
    -------
    QUBO
        New arrays; the inputs are never modified.

    Examples
    --------
    >>> as_qubo([[0, 4], [0, 0]]).A.tolist()
    [[0.0, 2.0], [2.0, 0.0]]
    """
    if isinstance(Q, QUBO):
        if linear is not None or offset != 0.0:
            raise ValueError("give linear and offset only with a matrix Q, not with a QUBO")
        if variables is not None and check_variables(variables) != Q.variables:
            raise ValueError(f"the QUBO is in {Q.variables} form, not {variables}")
        return Q
    variables = check_variables("binary" if variables is None else variables)
    A = as_square(Q, "Q")
    A = 0.5 * (A + A.T)
    b = as_vector(linear, "linear", A.shape[0])
    return QUBO(A, b, as_scalar(offset, "offset"), variables)


def qubo_energy(A, b, c, z) -> float | np.ndarray:
    """Evaluate ``zᵀ A z + bᵀ z + c`` at one point or a batch of points.

    Parameters
    ----------
    A : array_like, shape (d, d)
    b : array_like, shape (d,)
    c : float
    z : array_like, shape (d,) or (k, d)
        Points; any real values (binary or spin points are just a special case).

    Returns
    -------
    float or ndarray of shape (k,)

    Examples
    --------
    >>> qubo_energy([[1.0, 0.0], [0.0, 2.0]], [1.0, 1.0], 0.5, [[0, 0], [1, 1]]).tolist()
    [0.5, 5.5]
    """
    A = as_square(A, "A")
    d = A.shape[0]
    b = as_vector(b, "b", d)
    c = as_scalar(c, "c")
    pts, single = as_points(z, d)
    out = np.einsum("ki,ki->k", pts @ A, pts) + pts @ b + c  # matmul first: BLAS
    return float(out[0]) if single else out


def training_loss(X, Y, w, offset: float = 0.0) -> float | np.ndarray:
    """Mean squared error ``||X w - Y||² / N + offset`` at one or several weight vectors.

    Parameters
    ----------
    X : array_like, shape (N, d)
    Y : array_like, shape (N,) or (N, k)
    w : array_like
        With one output: shape ``(d,)`` or a batch ``(p, d)``.  With ``k``
        outputs: shape ``(d, k)`` or a batch ``(p, d, k)``.  The squared errors
        of all outputs are summed, then divided by ``N``.
    offset : float
        Added to the loss (the constant a reduction carries along).

    Returns
    -------
    float or ndarray of shape (p,)

    Examples
    --------
    >>> training_loss([[1.0, 0.0], [0.0, 1.0]], [1.0, 0.0], [1, 1])
    0.5
    """
    X, Y, offset = training_set(X, Y, offset)
    n_rows, d = X.shape
    W = as_real_array(w, "w", (1, 2, 3))
    if Y.ndim == 1:
        single = W.ndim == 1
        if W.ndim == 3 or W.shape[-1] != d:
            raise ValueError(f"w must have shape ({d},) or (p, {d}), got {W.shape}")
        W = W.reshape(-1, d)
        resid = W @ X.T - Y  # (p, N)
        out = np.einsum("pn,pn->p", resid, resid) / n_rows + offset
    else:
        single = W.ndim == 2
        if W.ndim == 1 or W.shape[-2:] != (d, Y.shape[1]):
            k = Y.shape[1]
            raise ValueError(f"w must have shape ({d}, {k}) or (p, {d}, {k}), got {W.shape}")
        W = W.reshape(-1, d, Y.shape[1])
        resid = np.einsum("nd,pdk->pnk", X, W) - Y
        out = np.einsum("pnk,pnk->p", resid, resid) / n_rows + offset
    return float(out[0]) if single else out


def to_spin(qubo: QUBO) -> QUBO:
    """Rewrite a binary QUBO over spins ``s = 2 z - 1`` (same value at matching points).

    With ``z = (s + 1) / 2`` and ``A`` symmetric:
    ``J = A / 4``, ``h = (A 1 + b) / 2``, ``c' = 1ᵀ A 1 / 4 + bᵀ 1 / 2 + c``.

    Examples
    --------
    >>> q = as_qubo([[2.0]], linear=[1.0])
    >>> s = to_spin(q)
    >>> float(s.energy([1.0])), float(q.energy([1.0]))
    (3.0, 3.0)
    """
    if qubo.variables != "binary":
        raise ValueError("to_spin expects a QUBO in binary form")
    row = qubo.A.sum(axis=1)
    return QUBO(
        qubo.A / 4.0,
        (row + qubo.b) / 2.0,
        float(row.sum() / 4.0 + qubo.b.sum() / 2.0 + qubo.c),
        "spin",
    )


def to_binary(qubo: QUBO) -> QUBO:
    """Rewrite a spin QUBO over binary ``z = (s + 1) / 2`` (same value at matching points).

    With ``s = 2 z - 1`` and ``J`` symmetric:
    ``A = 4 J``, ``b = 2 h - 4 J 1``, ``c' = 1ᵀ J 1 - hᵀ 1 + c``.

    Examples
    --------
    >>> s = as_qubo([[0.0, 1.0], [1.0, 0.0]], variables="spin")
    >>> b = to_binary(s)
    >>> float(b.energy([0, 1])), float(s.energy([-1, 1]))
    (-2.0, -2.0)
    """
    if qubo.variables != "spin":
        raise ValueError("to_binary expects a QUBO in spin form")
    row = qubo.A.sum(axis=1)
    return QUBO(
        4.0 * qubo.A,
        2.0 * qubo.b - 4.0 * row,
        float(row.sum() - qubo.b.sum() + qubo.c),
        "binary",
    )
