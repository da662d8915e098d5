"""Objectives the solver can minimise over finite domains.

* :class:`QuadraticObjective` -- ``x^T Q x + c^T x + offset`` (QUBO, Ising, any finite domains).
* :class:`CategoricalObjective` -- quadratic over each variable's own cases (DQM, colouring).
* :class:`ConstrainedObjective` -- an objective row plus penalised constraint rows (CQM).
* :class:`LeastSquaresObjective` -- ``||X W - Y||^2 / N``, the single-layer linear network.
* :class:`DenseNetObjective` -- mean training loss of a softmax regression or MLP classifier.
* :class:`LeNetConvObjective` -- a LeNet's loss over its convolution weights (head fixed).
* :class:`TourObjective`, :class:`SuccessorTourObjective` -- tour length (position, successor).
* :class:`CallableObjective` -- any Python function of the whole assignment (slow path).
"""

from combopt.objectives.base import Objective
from combopt.objectives.callable import CallableObjective
from combopt.objectives.categorical import CategoricalObjective
from combopt.objectives.constrained import ConstrainedObjective
from combopt.objectives.lenet import LeNetConvObjective
from combopt.objectives.lstsq import LeastSquaresObjective
from combopt.objectives.nn import DenseNetObjective
from combopt.objectives.permutation import TourObjective
from combopt.objectives.quadratic import QuadraticObjective
from combopt.objectives.successor import SuccessorTourObjective

__all__ = [
    "CallableObjective",
    "CategoricalObjective",
    "ConstrainedObjective",
    "DenseNetObjective",
    "LeNetConvObjective",
    "LeastSquaresObjective",
    "Objective",
    "QuadraticObjective",
    "SuccessorTourObjective",
    "TourObjective",
]
