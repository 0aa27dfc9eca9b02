"""Cost of the differentiable sliced W (forward + backward) against the detached metric, side by side.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_losses.py
    .venv/bin/python benchmarks/bench_losses.py --quick      # the two smaller cases only

Not a test. For each case, on the same inputs and the same projection bank: the time of
``metrics.wasserstein(x, y, p=2, method="sliced")`` (numpy, float64, no graph), of
``metrics.sliced_wasserstein_loss`` forward only and forward + ``backward()`` (torch
tensors with ``requires_grad``, float64 and float32; equal sizes, so the sorting path),
the same through POT's torch backend (explicit uniform weights), best of --repeat runs
taken alternately, their ratio to the detached metric, and the value difference.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import ot
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from metrics import sliced_wasserstein_loss, wasserstein  # noqa: E402

CASES = [(1_000, 2), (10_000, 10), (100_000, 10)]  # (n = m, d); 100 projections each


def best_times(fns, repeat: int):
    """Best-of-``repeat`` time and last value of each callable, run alternately so load drift hits all alike."""
    times = [[] for _ in fns]
    values = [None] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            values[k] = fn()
            times[k].append(time.perf_counter() - t0)
    return [min(t) for t in times], values


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only n = 10^3 and 10^4")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--n-projections", type=int, default=100)
    args = ap.parse_args()
    print(f"{platform.node()}  {platform.processor() or platform.machine()}  cpus={os.cpu_count()}  "
          f"torch threads={torch.get_num_threads()}  numpy {np.__version__}  torch {torch.__version__}  "
          f"POT {ot.__version__}")
    k = args.n_projections
    for n, d in CASES[:2] if args.quick else CASES:
        g = torch.Generator().manual_seed(0)
        x64 = torch.randn(n, d, generator=g, dtype=torch.float64)
        y64 = torch.randn(n, d, generator=g, dtype=torch.float64) + 0.5
        xn, yn = x64.numpy(), y64.numpy()

        def detached():
            return wasserstein(xn, yn, p=2, method="sliced", n_projections=k)

        def forward(dtype):
            x, y = x64.to(dtype).requires_grad_(True), y64.to(dtype)
            return lambda: sliced_wasserstein_loss(x, y, p=2, n_projections=k).item()

        def forward_backward(dtype, pot_path=False):
            x0, y = x64.to(dtype), y64.to(dtype)
            # explicit uniform weights: the same value through POT's torch backend (merged quantiles)
            w = {"weights_x": torch.ones(n, dtype=dtype), "weights_y": torch.ones(n, dtype=dtype)} if pot_path else {}

            def run():
                x = x0.clone().requires_grad_(True)
                loss = sliced_wasserstein_loss(x, y, p=2, n_projections=k, **w)
                loss.backward()
                return loss.item()

            return run

        fns = [detached, forward(torch.float64), forward_backward(torch.float64),
               forward(torch.float32), forward_backward(torch.float32), forward_backward(torch.float64, True)]
        names = ["detached metric (numpy f64)", "loss forward f64", "loss fwd+bwd f64",
                 "loss forward f32", "loss fwd+bwd f32", "POT torch path fwd+bwd f64"]
        times, values = best_times(fns, args.repeat)
        print(f"\nn = m = {n}, d = {d}, {k} projections, best of {args.repeat}")
        for name, t, v in zip(names, times, values):
            print(f"  {name:<30} {t * 1e3:10.1f} ms   x{t / times[0]:6.2f} of detached   "
                  f"|value - detached| {abs(v - values[0]):.1e}")


if __name__ == "__main__":
    main()
