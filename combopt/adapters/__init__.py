"""Adapters: encode a native problem for the solver and decode the answer.

Each adapter module turns a problem from another library or domain into an
``(objective, domain)`` pair for :func:`combopt.solve` and maps the result
back; adapters never reach into the kernels.
"""
