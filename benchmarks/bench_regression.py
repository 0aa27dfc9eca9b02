"""Regression training on this machine: the FLOP rate of each study's training loop against the measured
float64 matmul peak, side by side in one process, at 1 and at all threads.

    .venv/bin/python benchmarks/bench_regression.py [--steps 200] [--threads 1 2]

Loops (float64, as the runs train):
  two_layer  the ntk_lazy network at its widest point: n = 64 points, D = 5 inputs (d = 4 and the constant
             coordinate), width m = 16384, full-batch gradient descent;
  deep       regression_smooth's network at n = 4000 (3200 fitted): width 128 (the cap), depth 3, Adam;
  mf_single  meanfield_single_index's network: n = 1024 (819 fitted), D = 17, m = 512, gradient descent.
FLOPs counted from the shapes (multiply-adds x 2; the elementwise work left out, so the rate is a lower
bound): a linear map (k, i) -> (k, o) costs 2 k i o forward and 4 k i o backward (the input's and the
weight's gradients; the first layer's input gradient is not computed, and not counted).
Results are recorded in benchmarks/README.md (## Regression).
"""

from __future__ import annotations

import argparse
import time

import torch

from bench_replicas import matmul_peak  # this folder is on sys.path
from genlab.regression.networks import DeepReLUNet, TwoLayerNet
from genlab.regression.train import train_regression


def _two_layer_flops(n: int, dim: int, m: int) -> float:
    # forward X W^T (2 n D m) and phi a (2 n m); backward: grad a (2 n m), grad W (2 n m D), grad phi (n m: outer)
    return 4 * n * dim * m + 5 * n * m


def _deep_flops(n: int, dim: int, width: int, depth: int) -> float:
    sizes = [dim] + [width] * depth + [1]
    pairs = list(zip(sizes[:-1], sizes[1:]))
    # 6 k i o per layer (forward + both gradients), the first layer without its input's gradient: 4 k i o
    return sum(6 * n * i * o for i, o in pairs[1:]) + 4 * n * pairs[0][0] * pairs[0][1]


def loop_rate(name: str, threads: int, steps: int) -> tuple[float, float]:
    """(steps/s, GFLOP/s) of one study's training loop."""
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    if name == "two_layer":
        n, dim, net, opt = 64, 5, TwoLayerNet(5, 16384, generator=g), "gd"
        flops = _two_layer_flops(n, dim, 16384)
    elif name == "mf_single":
        n, dim, net, opt = 819, 17, TwoLayerNet(17, 512, parametrisation="mean_field", generator=g), "gd"
        flops = _two_layer_flops(n, dim, 512)
    else:
        n, dim, net, opt = 3200, 1, DeepReLUNet(1, 128, 3, generator=g), "adam"
        flops = _deep_flops(n, dim, 128, 3)
    x = torch.randn(n, dim, dtype=torch.float64, generator=g)
    y = torch.randn(n, dtype=torch.float64, generator=g)
    lr = 1e-3 if opt == "adam" else 0.1
    train_regression(net, x, y, optimizer=opt, lr=lr, steps=10)          # warm-up
    t = time.perf_counter()
    train_regression(net, x, y, optimizer=opt, lr=lr, steps=steps, record_every=steps)
    rate = steps / (time.perf_counter() - t)
    return rate, rate * flops / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, torch.get_num_threads()])
    args = ap.parse_args()
    for threads in dict.fromkeys(args.threads):
        peak = matmul_peak(1024, reps=10, threads=threads, dtype=torch.float64)
        print(f"threads {threads}: float64 matmul peak {peak:.1f} GFLOP/s")
        for name in ("two_layer", "mf_single", "deep"):
            rate, gflops = loop_rate(name, threads, args.steps)
            print(f"  {name:10s} {rate:8.1f} steps/s  {gflops:6.2f} GFLOP/s  = {gflops / peak:.0%} of the matmul peak")


if __name__ == "__main__":
    main()
