"""Table I: MNIST softmax regression, backpropagation vs CoNNTrA (ternary), same run.

Writes ``results/table1_mnist_logreg.json``, ``.jsonl`` (curve points as measured) and
``.png`` (error curves); see ``mnist_table.py`` and ``docs/experiments.md``.

    export COMBOPT_DATA=../shared/data
    python experiments/table1_mnist_logreg.py
    python experiments/table1_mnist_logreg.py --n-train 5000 --max-iterations 2
"""

import sys

from mnist_table import main

if __name__ == "__main__":
    sys.exit(main("mnist-logreg", "table1_mnist_logreg", "MNIST logistic regression (Table I)",
                  __doc__.split("\n\n")[0], sys.argv[1:]))
