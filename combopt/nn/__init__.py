"""Neural-network training with finite-domain weights (the paper's Tables I-III).

* :mod:`combopt.nn.idx` -- IDX (MNIST) reader, checksums, download.
* :mod:`combopt.nn.datasets` -- MNIST, Iris (120/30) and digits splits.
* :mod:`combopt.nn.models` -- numpy softmax regression / MLP and float pretraining.
* :mod:`combopt.nn.packing` -- really packed storage (``ceil(log2 |omega|)`` bits per weight).
* :mod:`combopt.nn.training` -- pretraining, Algorithm 1, CoNNTrA, the four metrics.
"""

from combopt.nn.datasets import Dataset, load_dataset, load_digits, load_iris, load_mnist
from combopt.nn.models import DenseNet, pretrain
from combopt.nn.packing import PackedDenseNet
from combopt.nn.training import TrainingRecord, train_conntra

__all__ = [
    "Dataset",
    "DenseNet",
    "PackedDenseNet",
    "TrainingRecord",
    "load_dataset",
    "load_digits",
    "load_iris",
    "load_mnist",
    "pretrain",
    "train_conntra",
]
