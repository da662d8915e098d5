"""Binary encodings of weights that take values in a finite set ``ω``.

Two exact encodings, both linear: a weight is ``w = o + Σ_t coef[t] · z_t``
over its own ``m`` bits, so substituting it into a squared error keeps a QUBO.

* ``"expansion"`` (evenly spaced ``ω = {lo, lo + step, ..., lo + U·step}``):
  a *bounded* binary expansion ``w = lo + step · Σ_t coef[t] z_t`` with
  ``coef = 1, 2, ..., 2^(m-2), U - (2^(m-1) - 1)`` and ``m`` the bit length of
  ``U``.  Every one of the ``2^m`` codes decodes to a member of ``ω`` and every
  member has a code, so no penalty is needed: the QUBO equals the training loss
  at every binary point.  Ternary ``{-1, 0, 1}`` is ``w = -1 + z_1 + z_2``.
* ``"one-hot"`` (any finite ``ω``): ``w = Σ_t ω_t z_t`` with the penalty
  ``P (Σ_t z_t - 1)²`` per weight; the penalty is zero exactly on valid codes.
  :func:`reductions.training_to_qubo` chooses ``P`` so that every invalid code
  costs more than a valid one (see there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reductions._validation import as_real_array

__all__ = ["WeightEncoding", "weight_encoding"]

_SPACING_RTOL = 1e-9


@dataclass(frozen=True, eq=False)
class WeightEncoding:
    """How one weight in ``values`` is written with ``bits`` binary variables.

    Attributes
    ----------
    values : ndarray, shape (K,)
        Sorted allowed weight values ``ω``.
    kind : {"expansion", "one-hot"}
    coefficients : ndarray, shape (m,)
        ``w = base + Σ_t coefficients[t] z_t``.
    base : float
    """

    values: np.ndarray
    kind: str
    coefficients: np.ndarray
    base: float

    @property
    def bits(self) -> int:
        """Number of binary variables per weight ``m``."""
        return self.coefficients.shape[0]

    def decode(self, bits, *, strict: bool = True) -> np.ndarray:
        """Weights from codes: ``bits`` of shape ``(..., m)`` -> weights of shape ``(...)``.

        With ``strict`` (default), a one-hot code that is not exactly one-hot
        raises ``ValueError``; expansion codes are always valid.
        """
        arr = np.asarray(bits, dtype=np.float64)
        if arr.shape[-1:] != (self.bits,):
            raise ValueError(f"codes must end with {self.bits} bits, got shape {arr.shape}")
        if not np.all((arr == 0.0) | (arr == 1.0)):
            raise ValueError("codes must be 0/1")
        if strict and self.kind == "one-hot" and not np.all(arr.sum(axis=-1) == 1.0):
            raise ValueError("a one-hot code does not have exactly one bit set")
        return self.base + arr @ self.coefficients

    def encode(self, weights) -> np.ndarray:
        """Codes for weights of shape ``(...)`` (each a member of ``values``) -> ``(..., m)``."""
        w = np.asarray(weights, dtype=np.float64)
        idx = np.searchsorted(self.values, w)
        idx = np.clip(idx, 0, len(self.values) - 1)
        lower = np.clip(idx - 1, 0, len(self.values) - 1)
        closer = np.abs(self.values[lower] - w) < np.abs(self.values[idx] - w)
        idx = np.where(closer, lower, idx)
        scale = max(1.0, float(np.max(np.abs(self.values))))
        if not np.all(np.abs(self.values[idx] - w) <= _SPACING_RTOL * scale):
            raise ValueError("weights must be members of the encoded value set")
        if self.kind == "one-hot":
            return np.eye(self.bits)[idx]
        m = self.bits
        top = (len(self.values) - 1) - ((1 << (m - 1)) - 1)  # the capped coefficient
        # Codes above 2^(m-1) - 1 need the last (capped) coefficient; the rest
        # is then at most 2^(m-1) - 1 and is written in plain binary.
        use_top = idx > (1 << (m - 1)) - 1
        rest = np.where(use_top, idx - top, idx)
        out = ((rest[..., None] >> np.arange(m - 1)) & 1).astype(np.float64)
        return np.concatenate([out, use_top[..., None].astype(np.float64)], axis=-1)


def weight_encoding(values, kind: str = "auto") -> WeightEncoding:
    """Build the encoding of a weight restricted to the finite set ``values``.

    Parameters
    ----------
    values : array_like, shape (K,)
        Allowed values (at least two, distinct, finite; any order).
    kind : {"auto", "expansion", "one-hot"}
        ``"auto"`` picks ``"expansion"`` when the values are evenly spaced
        (relative tolerance 1e-9) and ``"one-hot"`` otherwise.

    Returns
    -------
    WeightEncoding

    Examples
    --------
    >>> enc = weight_encoding([-1, 0, 1])
    >>> enc.kind, enc.coefficients.tolist(), enc.base
    ('expansion', [1.0, 1.0], -1.0)
    >>> enc.decode([[0, 0], [1, 0], [1, 1]]).tolist()
    [-1.0, 0.0, 1.0]
    """
    vals = as_real_array(values, "weights", 1)
    vals = np.sort(vals)
    if vals.size < 2:
        raise ValueError(f"the weight set needs at least two values, got {vals.size}")
    if np.any(np.diff(vals) == 0.0):
        raise ValueError("the weight set has repeated values")
    if kind not in ("auto", "expansion", "one-hot"):
        raise ValueError(f"encoding must be 'auto', 'expansion' or 'one-hot', got {kind!r}")
    steps = np.diff(vals)
    evenly = bool(np.all(np.abs(steps - steps[0]) <= _SPACING_RTOL * steps[0]))
    if kind == "expansion" and not evenly:
        raise ValueError("the 'expansion' encoding needs evenly spaced weight values")
    if kind == "one-hot" or not evenly:
        return WeightEncoding(vals, "one-hot", vals.copy(), 0.0)
    top = vals.size - 1  # U: the largest code value
    m = top.bit_length()
    coef = [float(1 << t) for t in range(m - 1)] + [float(top - ((1 << (m - 1)) - 1))]
    step = (vals[-1] - vals[0]) / top
    return WeightEncoding(vals, "expansion", step * np.array(coef), float(vals[0]))
