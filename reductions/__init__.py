"""QUBO <-> single-layer binary network training: the paper's reduction, both ways.

A pure numpy/scipy package (it never imports :mod:`combopt` or numba):

* :func:`qubo_to_training`: ``min zᵀAz + bᵀz + c`` -> ``(X, Y, offset)`` with
  ``||X z - Y||² / N + offset`` equal to the objective on every binary (or
  spin) point, via a Cholesky factor of the diagonally shifted ``A``.
* :func:`training_to_qubo`: ``(X, Y)`` -> ``A = XᵀX/N``, ``b = -2XᵀY/N``,
  ``c = YᵀY/N``, with several outputs and weights in any finite set
  (:func:`weight_encoding`).
* :func:`as_qubo`, :func:`to_spin`, :func:`to_binary`: the QUBO form and its
  spin counterpart; :func:`qubo_energy`, :func:`training_loss`: plain numpy
  evaluation of both forms.

Derivations and conventions: ``docs/reductions.md``.

Examples
--------
>>> import numpy as np
>>> from reductions import qubo_to_training, training_to_qubo
>>> red = qubo_to_training([[1.0, -3.0], [-3.0, 2.0]], linear=[0.0, 1.0])
>>> back = training_to_qubo(red.X, red.Y, red.offset)
>>> z = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
>>> np.allclose(back.energy(z), red.source.energy(z))
True
"""

from reductions.cholesky import TrainingReduction, choose_shift, qubo_to_training
from reductions.encoding import WeightEncoding, weight_encoding
from reductions.forms import QUBO, as_qubo, qubo_energy, to_binary, to_spin, training_loss
from reductions.training import TrainingQUBO, training_to_qubo

__all__ = [
    "QUBO",
    "TrainingQUBO",
    "TrainingReduction",
    "WeightEncoding",
    "as_qubo",
    "choose_shift",
    "qubo_energy",
    "qubo_to_training",
    "to_binary",
    "to_spin",
    "training_loss",
    "training_to_qubo",
    "weight_encoding",
]
