"""Private Numba kernels: arrays and scalars in, arrays and scalars out.

Importing this package registers every objective kind (each module adds its
overloads of the protocol in :mod:`combopt._kernels.protocol`). Nothing here is
public API: use :func:`combopt.solve`.
"""

from combopt._kernels import (  # noqa: F401  (register the overloads)
    categorical,
    constrained,
    lstsq,
    nn_dense,
    permutation,
    quadratic,
    tour,
)
