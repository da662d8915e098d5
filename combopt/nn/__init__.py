"""Neural-network training with finite-domain weights (the paper's Tables I-III).

* :mod:`combopt.nn.idx` -- IDX (MNIST) reader, checksums, download.
* :mod:`combopt.nn.datasets` -- MNIST, Iris (120/30) and digits splits.
* :mod:`combopt.nn.models` -- numpy softmax regression / MLP and float pretraining.
* :mod:`combopt.nn.packing` -- really packed storage (``ceil(log2 |omega|)`` bits per weight).
* :mod:`combopt.nn.training` -- pretraining, Algorithm 1, CoNNTrA, the four metrics.
* :mod:`combopt.nn.lenet` -- the LeNet-5 of Table II in numpy and its backpropagation.
* :mod:`combopt.nn.lenet_training` -- the same pipeline for the LeNet, CoNNTrA by blocks.
"""

from combopt.nn.datasets import Dataset, load_dataset, load_digits, load_iris, load_mnist
from combopt.nn.lenet import LeNet, pretrain_lenet
from combopt.nn.lenet_training import train_lenet
from combopt.nn.models import DenseNet, pretrain
from combopt.nn.packing import PackedDenseNet, PackedLeNet
from combopt.nn.training import TrainingRecord, train_conntra

__all__ = [
    "Dataset",
    "DenseNet",
    "LeNet",
    "PackedDenseNet",
    "PackedLeNet",
    "TrainingRecord",
    "load_dataset",
    "load_digits",
    "load_iris",
    "load_mnist",
    "pretrain",
    "pretrain_lenet",
    "train_conntra",
    "train_lenet",
]
