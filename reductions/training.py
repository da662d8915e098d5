"""Single-layer training set -> QUBO (one or several outputs, any finite weight set).

The squared error of a single-layer linear network is a quadratic in its
weights: for one output ``||X w - Y||² / N = wᵀ (XᵀX/N) w - 2 (XᵀY/N)ᵀ w + YᵀY/N``.
With ``k`` outputs the outputs do not interact, so ``A`` is block diagonal with
one copy of ``XᵀX/N`` per output.  Weights restricted to a finite set ``ω``
are written with bits through :mod:`reductions.encoding` (``w = E z + o``),
and substituting keeps the quadratic form: the QUBO of ``(X E, Y - X o)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reductions._validation import as_scalar, training_set
from reductions.encoding import WeightEncoding, weight_encoding
from reductions.forms import QUBO, training_loss

__all__ = ["TrainingQUBO", "training_to_qubo"]


@dataclass(frozen=True, eq=False)
class TrainingQUBO(QUBO):
    """A QUBO whose objective at ``z`` is the training loss at the weights ``decode(z)``.

    Variable order: output-major, then input, then bit: variable
    ``(j * d + i) * m + t`` is bit ``t`` of weight ``W[i, j]`` (``m = 1``
    without an encoding).

    Attributes
    ----------
    n_inputs : int
        ``d``, the number of weights per output.
    n_outputs : int or None
        ``k``, or ``None`` when ``Y`` was one-dimensional.
    encoding : WeightEncoding or None
        ``None`` when the weights are the QUBO variables themselves.
    penalty : float
        One-hot penalty weight ``P`` (0 without one).
    """

    n_inputs: int = 0
    n_outputs: int | None = None
    encoding: WeightEncoding | None = None
    penalty: float = 0.0

    def _blocks(self, z) -> np.ndarray:
        arr = np.asarray(z, dtype=np.float64)
        if arr.shape != (self.num_variables,):
            raise ValueError(f"z must have shape ({self.num_variables},), got {arr.shape}")
        k = 1 if self.n_outputs is None else self.n_outputs
        return arr.reshape(k, self.n_inputs, -1)

    def decode(self, z, *, strict: bool = True) -> np.ndarray:
        """Weights for a point ``z`` of shape ``(n,)``: ``(d,)`` or ``(d, k)``.

        ``strict`` rejects one-hot groups that are not exactly one-hot.
        """
        blocks = self._blocks(z)
        W = blocks[..., 0] if self.encoding is None else self.encoding.decode(blocks, strict=strict)
        return W[0] if self.n_outputs is None else W.T.copy()

    def encode(self, W) -> np.ndarray:
        """A point ``z`` of shape ``(n,)`` whose decoding is ``W`` (``(d,)`` or ``(d, k)``)."""
        W = np.asarray(W, dtype=np.float64)
        want = (self.n_inputs,) if self.n_outputs is None else (self.n_inputs, self.n_outputs)
        if W.shape != want:
            raise ValueError(f"W must have shape {want}, got {W.shape}")
        Wk = W.reshape(self.n_inputs, -1).T  # (k, d)
        if self.encoding is None:
            return Wk.reshape(-1).copy()
        return self.encoding.encode(Wk).reshape(-1)


def training_to_qubo(
    X,
    Y,
    offset: float = 0.0,
    *,
    weights=None,
    encoding: str = "auto",
    penalty: float | None = None,
) -> TrainingQUBO:
    """The QUBO of a single-layer network's squared-error training.

    Parameters
    ----------
    X : array_like, shape (N, d)
    Y : array_like, shape (N,) or (N, k)
    offset : float
        Added to the constant ``c`` (so a :class:`~reductions.TrainingReduction`
        round-trips with its offset).
    weights : None, "binary", "spin" or array_like of shape (K,)
        The values each weight may take.  ``None``/``"binary"``: the weights are
        the QUBO's binary variables; ``"spin"``: the weights are spins and the
        QUBO is returned in spin form; a finite set: each weight is encoded with
        bits (see ``encoding``) and the QUBO is binary.
    encoding : {"auto", "expansion", "one-hot"}
        See :func:`reductions.weight_encoding`.
    penalty : float, optional
        One-hot penalty ``P``.  Default: ``P = max(2 L(w0), YᵀY/N)`` (or 1 if
        that is 0), where ``w0`` sets every weight to the value of ``ω``
        nearest 0 and ``L`` is the loss without offset.  Since the loss is
        non-negative, every invalid code has energy at least
        ``P + offset > L(w0) + offset >= optimum``, so the minimisers are valid
        codes of the optimal weights.  A smaller ``P`` may break this.

    Returns
    -------
    TrainingQUBO
        ``A = I_k ⊗ EᵀXᵀXE/N`` (+ penalty), ``b = -2 vec(EᵀXᵀ(Y - X o))/N``
        (- penalty), ``c = ||Y - X o||²/N + offset`` (+ penalty per weight).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, -1.0]]); Y = np.array([1.0, 0.0, 2.0])
    >>> q = training_to_qubo(X, Y, weights=[-1, 0, 1])
    >>> q.num_variables, q.encoding.kind
    (4, 'expansion')
    >>> z = q.encode([1.0, -1.0])
    >>> bool(np.isclose(q.energy(z), training_loss(X, Y, [1.0, -1.0])))
    True
    """
    X, Y, offset = training_set(X, Y, offset)
    n_rows, d = X.shape
    n_outputs = None if Y.ndim == 1 else Y.shape[1]
    Y2 = Y.reshape(n_rows, -1)
    k = Y2.shape[1]
    if k == 0:
        raise ValueError("Y must have at least one output column")

    variables = "binary"
    enc = None
    if isinstance(weights, str):
        if weights not in ("binary", "spin"):
            raise ValueError(
                f"weights must be 'binary', 'spin' or a set of values, got {weights!r}"
            )
        variables = weights
    elif weights is not None:
        enc = weight_encoding(weights, encoding)

    if enc is None:
        XE, o = X, np.zeros(d)
    else:
        # X E: column (i, t) is X[:, i] * coefficient t.
        XE = (X[:, :, None] * enc.coefficients[None, None, :]).reshape(n_rows, -1)
        o = np.full(d, enc.base)
    R = Y2 - (X @ o)[:, None]  # targets once the constant part of the weights is removed
    G = XE.T @ XE / n_rows
    A = np.kron(np.eye(k), G)
    b = (-2.0 / n_rows) * (XE.T @ R).T.reshape(-1)
    c = float(np.sum(R * R) / n_rows) + offset

    P = 0.0
    if enc is not None and enc.kind == "one-hot":
        if penalty is None:
            w0 = np.full((d, k), enc.values[np.argmin(np.abs(enc.values))])
            loss0 = training_loss(X, Y2, w0)
            P = max(2.0 * loss0, float(np.sum(Y2 * Y2) / n_rows))
            P = P if P > 0.0 else 1.0
        else:
            P = as_scalar(penalty, "penalty")
            if P <= 0.0:
                raise ValueError(f"penalty must be positive, got {P}")
        # P (Σ_t z_t - 1)² = P zᵀ11ᵀz - 2P 1ᵀz + P for each weight's group of bits.
        m = enc.bits
        groups = d * k
        A = A + P * np.kron(np.eye(groups), np.ones((m, m)))
        b = b - 2.0 * P
        c = c + P * groups
    elif penalty is not None:
        raise ValueError("penalty applies only to the one-hot encoding")
    return TrainingQUBO(A, b, c, variables, d, n_outputs, enc, float(P))
