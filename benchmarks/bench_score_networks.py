"""Training FLOP rate of the two score networks of `scripts/score_regimes.py` (issue 17, item 6) against
the float32 matmul peak, side by side in one process.

    .venv/bin/python benchmarks/bench_score_networks.py [--steps 300] [--threads 1 2]

For ``diffusion_gmm``'s network (width 128, depth 2, batch 1024) and ``diffusion_lazy``'s (width 2048,
depth 0, NTK scaling, batch 256): steps/s of the real fit (`fit_diffusion`, fused Adam, EMA) on 10,000
points of the truth, and the FLOP rate from the layer shapes (`bench_replicas.matmul_flops_per_step`:
forward + backward matrix products, elementwise work left out).  Results: benchmarks/README.md (Regression).
"""

from __future__ import annotations

import argparse
import dataclasses

import torch
from omegaconf import OmegaConf

from bench_replicas import matmul_flops_per_step, matmul_peak
from genlab.config.compose import compose_config
from genlab.diffusion import fit_diffusion
from genlab.run.validate import build_truth

RECIPES = ("diffusion_gmm", "diffusion_lazy")


def steps_per_second(recipe: str, steps: int) -> tuple[float, float]:
    """(steps/s of ``steps`` training steps of the recipe's network, its matmul FLOPs per step)."""
    cfg = OmegaConf.to_object(compose_config([f"recipe={recipe}"]))
    dcfg = dataclasses.replace(cfg.diffusion, steps=steps, warmup_steps=min(cfg.diffusion.warmup_steps, steps // 4),
                               weight_movement=False)
    truth = build_truth(cfg)
    x = truth.sample(10_000, generator=torch.Generator().manual_seed(0))
    model = fit_diffusion(dcfg, x, seed=0)
    return model.train_stats["train_steps_per_s"], matmul_flops_per_step(dcfg, truth.dim)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    for threads in args.threads:
        torch.set_num_threads(threads)
        peak = matmul_peak(threads=threads, dtype=torch.float32)
        print(f"{threads} thread(s): float32 matmul peak {peak:.1f} GFLOP/s", flush=True)
        for recipe in RECIPES:
            sps, flops = steps_per_second(recipe, args.steps)
            rate = sps * flops / 1e9
            print(f"  {recipe}: {sps:.1f} steps/s, {flops / 1e9:.3f} GFLOP/step, {rate:.1f} GFLOP/s "
                  f"({100 * rate / peak:.0f}% of peak)", flush=True)


if __name__ == "__main__":
    main()
