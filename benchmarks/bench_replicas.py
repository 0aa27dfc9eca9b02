"""Replica-batched against sequential diffusion fits, and training FLOP/s against the matmul peak.

    .venv/bin/python benchmarks/bench_replicas.py [--replicas 16] [--configs 32x256 64x256 128x1024] [--steps 100]

For each WIDTHxBATCH: R = ``--replicas`` fits of the diffusion MLP (depth 2, d = 2, DSM loss,
Adam, EMA, per-replica clipping: the code a sweep runs) trained as one replica-batched network
(``genlab.diffusion.replicas.fit_diffusion_replicas``), against the same fits one after another
(``fit_diffusion``; their costs are identical, so 2 are timed and scaled by R / 2, as stated in the
output).  FLOPs count the network's matrix products only: 2 * batch * (sum of in * out over the
layers) per forward pass, x3 for forward and backward.  The peak is a 2048^3 fp32 matmul on the
same threads, in the same run.  Threads: torch's default (all cores) unless OMP_NUM_THREADS is set.
Results go in benchmarks/README.md (## Replicas).
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from genlab.diffusion.config import DiffusionConfig
from genlab.diffusion.estimator import fit_diffusion
from genlab.diffusion.replicas import fit_diffusion_replicas
from genlab.distributions import make_truth


def matmul_peak(size: int = 2048, reps: int = 5, threads: int | None = None,
                dtype: torch.dtype = torch.float32) -> float:
    """GFLOP/s of a size^3 matrix product in ``dtype`` (best of ``reps``) on ``threads`` (default: torch's)
    threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    try:
        a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
        a @ b
        best = float("inf")
        for _ in range(reps):
            t = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t)
    finally:
        torch.set_num_threads(before)
    return 2 * size ** 3 / best / 1e9


def matmul_flops_per_step(cfg: DiffusionConfig, dim: int) -> float:
    """Forward + backward FLOPs of one training step of one network (matrix products only)."""
    w, e = cfg.width, cfg.time_embed_dim
    t = cfg.time_width or w  # the time branch: e -> t -> w
    macs = e * t + t * w + dim * w + cfg.depth * w * w + w * dim
    return 3 * 2 * cfg.batch_size * macs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replicas", type=int, default=16)
    ap.add_argument("--configs", nargs="+", default=["32x256", "64x256", "128x1024", "256x1024"],
                    help="WIDTHxBATCH of the network and its minibatch per replica")
    ap.add_argument("--steps", type=int, default=100, help="training steps of each fit")
    args = ap.parse_args()
    threads, R = torch.get_num_threads(), args.replicas
    peak = matmul_peak()
    truth = make_truth("gmm_anisotropic")
    xs = [truth.sample(4000, generator=torch.Generator().manual_seed(r)) for r in range(R)]
    print(f"threads {threads}; fp32 matmul peak (2048^3) {peak:.0f} GFLOP/s; R = {R}; {args.steps} steps; "
          f"sequential = 2 fits timed x R/2; load average {os.getloadavg()[0]:.1f}")
    for spec in args.configs:
        width, batch = (int(v) for v in spec.split("x"))
        cfg = DiffusionConfig(width=width, batch_size=batch, steps=args.steps, warmup_steps=0)
        fit_diffusion(DiffusionConfig(width=width, batch_size=batch, steps=5), xs[0], seed=0)   # warm-up
        t = time.perf_counter()
        fit_diffusion_replicas(cfg, xs, seeds=list(range(R)))
        t_b = time.perf_counter() - t
        t = time.perf_counter()
        for r in range(2):
            fit_diffusion(cfg, xs[r], seed=r)
        t_s = (time.perf_counter() - t) * R / 2
        flops = matmul_flops_per_step(cfg, 2) * R * args.steps
        print(f"width {width:4d} batch {batch:5d}: batched {R * args.steps / t_b:7.0f} replica-steps/s "
              f"({flops / t_b / 1e9:6.1f} GFLOP/s, {100 * flops / t_b / 1e9 / peak:4.1f}% of peak); "
              f"sequential {R * args.steps / t_s:7.0f} ({flops / t_s / 1e9:6.1f} GFLOP/s, "
              f"{100 * flops / t_s / 1e9 / peak:4.1f}%); batched / sequential speed {t_s / t_b:5.2f}x",
              flush=True)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
