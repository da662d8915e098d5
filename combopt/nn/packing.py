"""Really packed storage of finite-domain networks.

A weight of a network whose tensors take values ``scale_t * omega`` is stored
as its code (the index into ``omega``) in ``ceil(log2 |omega|)`` bits -- 2 bits
per ternary weight -- packed MSB-first into bytes; each tensor keeps one
float64 scale. :class:`PackedDenseNet` saves and loads that form (``.npz``)
and predicts from it, unpacking one layer at a time.

Memory is reported the paper's way: the bytes of the packed codes over 1000
(kilobytes), against 8 bytes per float64 weight; the per-tensor scales
(8 bytes each) are reported separately in :attr:`PackedDenseNet.scale_bytes`.
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass

import numpy as np

from combopt._numeric.layers import CONV_SHAPES, HEAD_SIZES, DenseNet, conv_features, forward
from combopt.nn.lenet import NUM_PARAMETERS, TENSOR_SHAPES, LeNet

__all__ = [
    "PackedDenseNet",
    "PackedLeNet",
    "bits_per_weight",
    "codes_of",
    "decode_range",
    "pack_codes",
    "unpack_codes",
]


def bits_per_weight(domain_size: int) -> int:
    """``ceil(log2 |omega|)`` (at least 1).

    Examples
    --------
    >>> [bits_per_weight(k) for k in (2, 3, 4, 5, 16, 17)]
    [1, 2, 2, 3, 4, 5]
    """
    if domain_size < 2:
        raise ValueError(f"a domain needs at least 2 values to be packed, got {domain_size}")
    return max(1, math.ceil(math.log2(domain_size)))


def pack_codes(codes: np.ndarray, bits: int) -> np.ndarray:
    """Pack integer codes (each ``< 2**bits``) into ``ceil(len * bits / 8)`` bytes.

    Parameters
    ----------
    codes : numpy.ndarray of int, shape (m,)
    bits : int
        Bits per code, 1..16.

    Returns
    -------
    numpy.ndarray of uint8, shape (ceil(m * bits / 8),)

    Examples
    --------
    >>> pack_codes(np.array([0, 1, 2, 2]), 2).tolist()   # 00 01 10 10
    [26]
    """
    codes = np.asarray(codes, dtype=np.int64).ravel()
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be in 1..16, got {bits}")
    if codes.size and (codes.min() < 0 or codes.max() >= 1 << bits):
        raise ValueError(f"codes must lie in [0, {1 << bits}) for {bits} bits")
    shifts = np.arange(bits - 1, -1, -1, dtype=np.int64)
    bit_matrix = ((codes[:, None] >> shifts) & 1).astype(np.uint8)
    return np.packbits(bit_matrix.ravel())


def unpack_codes(packed: np.ndarray, bits: int, count: int) -> np.ndarray:
    """Inverse of :func:`pack_codes`: the first ``count`` codes, shape ``(count,)``.

    Examples
    --------
    >>> unpack_codes(np.array([26], dtype=np.uint8), 2, 4).tolist()
    [0, 1, 2, 2]
    """
    packed = np.asarray(packed, dtype=np.uint8)
    if packed.size * 8 < count * bits:
        raise ValueError(f"{packed.size} bytes cannot hold {count} codes of {bits} bits")
    bit_matrix = np.unpackbits(packed, count=count * bits).reshape(count, bits).astype(np.int64)
    return bit_matrix @ (1 << np.arange(bits - 1, -1, -1, dtype=np.int64))


def decode_range(packed: np.ndarray, bits: int, start: int, count: int) -> np.ndarray:
    """Codes ``start .. start+count-1`` of a packed stream, reading only the bytes that hold them.

    Examples
    --------
    >>> decode_range(pack_codes(np.array([0, 1, 2, 2, 1]), 2), 2, 1, 3).tolist()
    [1, 2, 2]
    """
    first_bit = start * bits
    chunk = packed[first_bit // 8 : -(-(first_bit + count * bits) // 8)]
    skip = first_bit % 8
    bit_stream = (
        np.unpackbits(chunk)[skip : skip + count * bits].reshape(count, bits).astype(np.int64)
    )
    return bit_stream @ (1 << np.arange(bits - 1, -1, -1, dtype=np.int64))


def codes_of(tensors, omega: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """The code of every parameter, tensor ``t`` being exactly in ``scales[t] * omega``.

    Raises ``ValueError`` if a parameter is not ``scale * omega_k`` (up to a
    relative tolerance of ``1e-12`` of the product).
    """
    codes = []
    for tensor, scale in zip(tensors, scales):
        code = np.abs(tensor[:, None] - scale * omega[None, :]).argmin(axis=1)
        if not np.allclose(scale * omega[code], tensor, rtol=1e-12, atol=1e-300):
            raise ValueError("a parameter is not a value of its tensor's scaled domain")
        codes.append(code)
    return np.concatenate(codes)


class _PackedCodes:
    """What every packed model has: ``omega``, per-tensor ``scales`` and the ``packed`` bytes."""

    omega: np.ndarray
    scales: np.ndarray
    packed: np.ndarray

    @property
    def bits(self) -> int:
        """Bits per weight, ``ceil(log2 |omega|)``."""
        return bits_per_weight(self.omega.size)

    @property
    def memory_bytes(self) -> int:
        """Bytes of the packed codes, ``ceil(num_parameters * bits / 8)``."""
        return int(self.packed.size)

    @property
    def scale_bytes(self) -> int:
        """Bytes of the per-tensor float64 scales."""
        return 8 * int(self.scales.size)


@dataclass(frozen=True)
class PackedDenseNet(_PackedCodes):
    """A dense classifier with every tensor in ``scale_t * omega``, stored packed.

    Attributes
    ----------
    omega : numpy.ndarray, shape (K,)
        The sorted finite set.
    sizes : tuple of int
        Layer widths ``(d, h_1, ..., C)``.
    activation : str
        Hidden activation.
    scales : numpy.ndarray, shape (2 * L,)
        One scale per tensor: ``W_0, b_0, W_1, b_1, ...``.
    packed : numpy.ndarray of uint8
        All codes in the flat order of :meth:`combopt.nn.DenseNet.flat`.

    Examples
    --------
    >>> from combopt.nn.models import DenseNet
    >>> net = DenseNet([np.array([[0.5, -0.5], [0.0, 0.5]])], [np.array([0.0, -0.5])])
    >>> packed = PackedDenseNet.from_network(net, [-1, 0, 1], scales=[0.5, 0.5])
    >>> packed.memory_bytes, packed.to_network().weights[0].tolist()
    (2, [[0.5, -0.5], [0.0, 0.5]])
    """

    omega: np.ndarray
    sizes: tuple
    activation: str
    scales: np.ndarray
    packed: np.ndarray

    @property
    def num_parameters(self) -> int:
        """Weights and biases stored."""
        return sum((a + 1) * b for a, b in zip(self.sizes, self.sizes[1:]))

    @classmethod
    def from_network(cls, net, omega, scales) -> PackedDenseNet:
        """Pack a :class:`combopt.nn.DenseNet` whose tensor ``t`` is in ``scales[t] * omega``.

        Raises ``ValueError`` if a parameter is not exactly ``scale * omega_k``
        (up to one ulp-level relative tolerance of the product).
        """
        omega = np.unique(np.asarray(omega, dtype=np.float64))
        scales = np.asarray(scales, dtype=np.float64)
        tensors = [t for w, b in zip(net.weights, net.biases) for t in (w.ravel(), b)]
        if scales.shape != (len(tensors),) or np.any(scales <= 0):
            raise ValueError(
                f"need {len(tensors)} positive scales (one per W and b), got {scales.shape}"
            )
        packed = pack_codes(codes_of(tensors, omega, scales), bits_per_weight(omega.size))
        return cls(omega, tuple(net.sizes), net.activation, scales, packed)

    def codes(self) -> np.ndarray:
        """All codes, shape ``(num_parameters,)``."""
        return unpack_codes(self.packed, self.bits, self.num_parameters)

    def _layer_values(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """Unpack one layer's ``(W, b)`` straight from the packed bytes."""
        start = sum((a + 1) * b for a, b in zip(self.sizes[:layer], self.sizes[1 : layer + 1]))
        a, b = self.sizes[layer], self.sizes[layer + 1]
        codes = decode_range(self.packed, self.bits, start, (a + 1) * b)
        w = self.scales[2 * layer] * self.omega[codes[: a * b]].reshape(a, b)
        bias = self.scales[2 * layer + 1] * self.omega[codes[a * b :]]
        return w, bias

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Logits ``(N, C)`` of ``X`` (``(N, d)``), computed layer by layer from packed codes."""
        n_layers = len(self.sizes) - 1
        layers = (self._layer_values(layer) for layer in range(n_layers))  # decoded one at a time
        return forward(layers, n_layers, self.activation, np.asarray(X, dtype=np.float64))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted labels, shape ``(N,)``."""
        return self.logits(X).argmax(axis=1)

    def to_network(self):
        """Unpack into a float :class:`combopt.nn.DenseNet`."""
        layers = [self._layer_values(layer) for layer in range(len(self.sizes) - 1)]
        return DenseNet([w for w, _ in layers], [b for _, b in layers], self.activation)

    def save(self, path: str | os.PathLike) -> None:
        """Write the packed model to ``path``.

        The file is an uncompressed ``.npz``: the codes are already dense.
        """
        np.savez(
            path,
            omega=self.omega,
            sizes=np.asarray(self.sizes, dtype=np.int64),
            activation=np.array(self.activation),
            scales=self.scales,
            packed=self.packed,
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> PackedDenseNet:
        """Read a model written by :meth:`save`."""
        try:
            with np.load(path, allow_pickle=False) as data:
                model = cls(
                    data["omega"].astype(np.float64),
                    tuple(int(s) for s in data["sizes"]),
                    str(data["activation"]),
                    data["scales"].astype(np.float64),
                    data["packed"].astype(np.uint8),
                )
        except KeyError as exc:
            raise ValueError(f"{path}: not a packed combopt network (missing {exc})") from None
        expected = -(-model.num_parameters * model.bits // 8)
        if model.packed.size != expected:
            raise ValueError(f"{path}: {model.packed.size} packed bytes, expected {expected}")
        return model


@dataclass(frozen=True)
class PackedLeNet(_PackedCodes):
    """A :class:`combopt.nn.lenet.LeNet` with every tensor in ``scale_t * omega``, stored packed.

    One code stream in the LeNet's flat order and one float64 scale per tensor
    (ten: the four convolution tensors, then the head's ``W``/``b`` pairs).
    :meth:`logits` decodes the convolutions, then the head one layer at a time.

    Examples
    --------
    >>> from combopt.nn.lenet import LeNet
    >>> net = LeNet.initial(seed=0)
    >>> omega = np.array([-1.0, 0.0, 1.0])
    >>> tern = net.with_flat(np.sign(net.flat()))
    >>> packed = PackedLeNet.from_network(tern, omega, np.ones(10))
    >>> packed.memory_bytes, bool(np.array_equal(packed.to_network().flat(), tern.flat()))
    (15427, True)
    """

    omega: np.ndarray
    scales: np.ndarray
    packed: np.ndarray

    @property
    def num_parameters(self) -> int:
        """Weights and biases stored (61 706)."""
        return NUM_PARAMETERS

    @classmethod
    def from_network(cls, net, omega, scales) -> PackedLeNet:
        """Pack a LeNet whose tensor ``t`` (flat order) is in ``scales[t] * omega``."""
        omega = np.unique(np.asarray(omega, dtype=np.float64))
        scales = np.asarray(scales, dtype=np.float64)
        tensors = net.tensors()
        if scales.shape != (len(tensors),) or np.any(scales <= 0):
            raise ValueError(
                f"need {len(tensors)} positive scales (one per tensor), got {scales.shape}"
            )
        return cls(
            omega, scales, pack_codes(codes_of(tensors, omega, scales), bits_per_weight(omega.size))
        )

    def _tensor_values(self):
        """Yield each tensor's values (flat order), decoded from its own bytes only."""
        start = 0
        for t, shape in enumerate(TENSOR_SHAPES):
            size = int(np.prod(shape))
            yield self.scales[t] * self.omega[decode_range(self.packed, self.bits, start, size)]
            start += size

    def to_network(self):
        """Unpack into a float :class:`combopt.nn.lenet.LeNet`."""
        return LeNet.initial().with_flat(np.concatenate(list(self._tensor_values())))

    def logits(self, X) -> np.ndarray:
        """Logits of ``X`` (``(N, 784)``), decoding one tensor at a time, shape ``(N, 10)``."""
        tensors = self._tensor_values()
        conv = [next(tensors).reshape(shape) for shape in CONV_SHAPES]
        h = conv_features(conv, X)
        layers = (
            (next(tensors).reshape(a, b), next(tensors)) for a, b in itertools.pairwise(HEAD_SIZES)
        )
        return forward(layers, len(HEAD_SIZES) - 1, "relu", h)

    def predict(self, X) -> np.ndarray:
        """Predicted labels, shape ``(N,)``."""
        return self.logits(X).argmax(axis=1)

    def save(self, path: str | os.PathLike) -> None:
        """Write the packed model to ``path`` (``.npz``)."""
        np.savez(
            path, omega=self.omega, scales=self.scales, packed=self.packed, kind=np.array("lenet")
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> PackedLeNet:
        """Read a model written by :meth:`save`."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["kind"]) != "lenet":
                    raise ValueError(f"{path}: not a packed LeNet")
                model = cls(
                    data["omega"].astype(np.float64),
                    data["scales"].astype(np.float64),
                    data["packed"].astype(np.uint8),
                )
        except KeyError as exc:
            raise ValueError(f"{path}: not a packed combopt LeNet (missing {exc})") from None
        expected = -(-model.num_parameters * model.bits // 8)
        if model.packed.size != expected or model.scales.shape != (10,):
            raise ValueError(
                f"{path}: {model.packed.size} packed bytes and {model.scales.size} scales, "
                f"expected {expected} and 10"
            )
        return model
