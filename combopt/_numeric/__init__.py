"""Private numpy building blocks shared by the objectives and the applications.

:mod:`combopt._numeric.layers` holds the network pieces -- activations, losses,
the dense forward pass, convolution and pooling -- that both
:mod:`combopt.objectives` (the training losses the solver minimises) and
:mod:`combopt.nn` (pretraining, packing, the pipelines) compute with. It
imports numpy and scipy, nothing from ``combopt``, so either layer may import it
without depending on the other. Nothing here is public API: the names users
see are re-exported by :mod:`combopt.nn`.
"""
