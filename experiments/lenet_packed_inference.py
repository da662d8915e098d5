"""Packed 2-bit LeNet against the float LeNet: images per second on the 10 000 test images.

The float network is ``LeNet.initial(seed)`` (throughput does not depend on
training); the packed one is its ternary rounding (:func:`combopt.nn.ste.ternarize`
per tensor) stored by :class:`combopt.nn.packing.PackedLeNet`, which decodes
one tensor at a time and predicts. Both predict all test images ``--repeats``
times; the medians and their ratio are printed. A first call of each is made
before timing (warm-up).

    COMBOPT_DATA=../shared/data python experiments/lenet_packed_inference.py --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from combopt.nn.datasets import load_mnist
from combopt.nn.lenet import LeNet
from combopt.nn.packing import PackedLeNet
from combopt.nn.ste import ternarize


def _images_per_second(predict, X, repeats):
    predict(X[:100])  # warm-up
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predict(X)
        rates.append(len(X) / (time.perf_counter() - t0))
    return statistics.median(rates), rates


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    data = load_mnist(n_train=10)
    X = data.X_val
    net = LeNet.initial(args.seed)
    omega = np.array([-1.0, 0.0, 1.0])
    pairs = [ternarize(t) for t in net.tensors()]
    scales = np.array([a for a, _ in pairs])
    ternary = net.with_flat(np.concatenate([a * c for a, c in pairs]))
    packed = PackedLeNet.from_network(ternary, omega, scales)
    float_rate, float_all = _images_per_second(net.predict, X, args.repeats)
    packed_rate, packed_all = _images_per_second(packed.predict, X, args.repeats)
    same = float(np.mean(packed.predict(X) == ternary.predict(X)))
    print(f"{len(X)} test images, {args.repeats} repeats (medians)")
    print(f"float64 LeNet        {float_rate:10.0f} images/s   {[round(r) for r in float_all]}")
    print(f"packed 2-bit LeNet   {packed_rate:10.0f} images/s   {[round(r) for r in packed_all]}")
    print(f"ratio packed / float {packed_rate / float_rate:10.2f}")
    print(f"packed predictions equal to the unpacked ternary network's: {100 * same:.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
