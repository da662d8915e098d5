"""Private Numba kernels: arrays and scalars in, arrays and scalars out.

Importing this package registers every objective kind (each module adds its
overloads of the protocol in :mod:`combopt._kernels.protocol`). Nothing here is
public API: use :func:`combopt.solve`.
"""

from combopt._kernels import lstsq, quadratic  # noqa: F401  (register the overloads)
from combopt._kernels import permutation  # noqa: F401  (tour objectives, combopt.tsp)
from combopt._kernels import nn_dense  # noqa: F401  (dense classifiers, combopt.nn)
