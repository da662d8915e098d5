"""Write a large random sparse Ising model in dimod's COO text format.

The graph is the union of three random permutations ``i -> p_k(i)`` (self-loops
and repeated pairs replaced by fresh random pairs), so every variable has
degree 6 on average and (for ``m >= n``) almost surely at least one coupling:
the script prints how many variables the file names. Couplings are uniform in
[-1, 1) written with 8 decimals, which gives about 26 bytes per line (76 MB
for the default 1,000,000 variables and 3,000,000 couplings). Lines are
sorted by ``(i, j)`` with ``i < j``, as ``dimod.serialization.coo.dumps``
writes them, after a ``# vartype=SPIN`` header. The same seed writes the same file.

The file is an input for ``experiments/io_scale.py`` and for the end-to-end
run of ``combopt solve``; never commit it::

    python experiments/make_large_ising.py /tmp/ising1m.coo --seed 1
    /usr/bin/time -v combopt solve /tmp/ising1m.coo --time-limit 2 --strategy metropolis
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def random_edges(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``m`` distinct pairs ``(i, j)``, ``i < j``, sorted by ``(i, j)``."""
    rng = np.random.default_rng(seed)
    rounds = max(1, -(-m // n))
    i = np.tile(np.arange(n, dtype=np.int64), rounds)[:m]
    j = np.concatenate([rng.permutation(n) for _ in range(rounds)])[:m]
    keys = np.unique(np.minimum(i, j) * n + np.maximum(i, j))
    keys = keys[keys // n != keys % n]
    while keys.size < m:
        extra = rng.integers(n, size=(2, 2 * (m - keys.size)))
        extra = extra[:, extra[0] != extra[1]]
        fresh = np.minimum(extra[0], extra[1]) * n + np.maximum(extra[0], extra[1])
        keys = np.union1d(keys, fresh)
    keys = np.sort(rng.choice(keys, size=m, replace=False)) if keys.size > m else keys
    return keys // n, keys % n


def write_coo(path: str, n: int, m: int, seed: int) -> tuple[int, int]:
    """Write the model; return the bytes written and the variables named."""
    rows, cols = random_edges(n, m, seed)
    named = int(np.unique(np.concatenate([rows, cols])).size)
    rng = np.random.default_rng(seed + 1)
    biases = rng.uniform(-1.0, 1.0, size=m)
    chunk = 500_000
    with open(path, "w") as fh:
        fh.write("# vartype=SPIN\n")
        for start in range(0, m, chunk):
            stop = start + chunk
            block = zip(rows[start:stop].tolist(), cols[start:stop].tolist(),
                        biases[start:stop].tolist())
            lines = [f"{i} {j} {b:.8f}\n" for i, j, b in block]
            fh.write("".join(lines))
        return fh.tell(), named


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="output file (.coo)")
    parser.add_argument("--variables", type=int, default=1_000_000)
    parser.add_argument("--couplings", type=int, default=3_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not 0 < args.couplings <= args.variables * (args.variables - 1) // 2:
        parser.error("--couplings must be in 1..n(n-1)/2")
    t0 = time.perf_counter()
    size, named = write_coo(args.path, args.variables, args.couplings, args.seed)
    seconds = time.perf_counter() - t0
    print(f"{args.path}: n={named} couplings={args.couplings} "
          f"{size / 1e6:.1f} MB in {seconds:.1f} s")


if __name__ == "__main__":
    main()
