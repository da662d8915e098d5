"""Table II: MNIST LeNet-5, backpropagation vs CoNNTrA (ternary), same run.

Writes ``results/table2_mnist_lenet.json``, ``.jsonl`` (curve points as measured) and
``.png`` (error curves); see ``mnist_table.py`` and ``docs/experiments.md``.

    export COMBOPT_DATA=../shared/data
    python experiments/table2_mnist_lenet.py
    python experiments/table2_mnist_lenet.py --n-train 5000 --max-iterations 1
"""

import sys

from mnist_table import main

if __name__ == "__main__":
    sys.exit(main("mnist-lenet", "table2_mnist_lenet", "MNIST LeNet-5 (Table II)",
                  __doc__.split("\n\n")[0], sys.argv[1:]))
