"""Diffusion timings on this machine: training steps/s at the default width, and the whole
default ``diffusion_gmm`` fit + sample + likelihood (+ TV and W1 against the truth).

    .venv/bin/python benchmarks/bench_diffusion.py [--steps N] [--n 10000] [--m 2000]

Prints one line per measurement; results are recorded in benchmarks/README.md (## Diffusion).
"""

from __future__ import annotations

import argparse
import time

import ot
import torch

from genlab.diffusion import DiffusionConfig, fit_diffusion
from genlab.diffusion.loss import dsm_loss
from genlab.diffusion.parametrisation import ScoreModel
from genlab.distributions.gaussian import GaussianMixture
from genlab.nn.mlp import TimeMLP
from genlab.core.seeding import derive_seed, make_generator


def steps_per_second(cfg: DiffusionConfig, n_steps: int = 200) -> float:
    """Adam steps/s of the default network and batch, after 20 warm-up steps."""
    net = TimeMLP(2, cfg.width, cfg.depth, cfg.time_embed_dim, time_width=cfg.time_width)
    model = ScoreModel(net, cfg.make_process(), cfg.target, input_scale=cfg.input_scale)
    opt = torch.optim.Adam(model.parameters(), cfg.lr)
    x = torch.randn(cfg.batch_size, 2)
    g = torch.Generator().manual_seed(0)
    for i in range(n_steps + 20):
        if i == 20:
            t = time.perf_counter()
        opt.zero_grad()
        dsm_loss(model, x, g).backward()
        opt.step()
    return n_steps / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: the config's)")
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--m", type=int, default=2000)
    args = ap.parse_args()
    cfg = DiffusionConfig() if args.steps is None else DiffusionConfig(steps=args.steps)
    print(f"threads {torch.get_num_threads()}; train steps/s (width {cfg.width}, batch {cfg.batch_size}): "
          f"{steps_per_second(cfg):.1f}", flush=True)
    truth = GaussianMixture.anisotropic_2d()
    x = truth.sample(args.n, make_generator(derive_seed(0, "data", args.n)))
    t0 = time.perf_counter()
    model = fit_diffusion(cfg, x, seed=0)
    t1 = time.perf_counter()
    xe = truth.sample(args.m, make_generator(derive_seed(0, "eval")))
    lq = model.log_prob(xe)
    t2 = time.perf_counter()
    s = model.sample(args.m)
    t3 = time.perf_counter()
    ratio = torch.exp(lq - truth.log_prob(xe))
    tv = (1 - ratio).clamp_min(0)
    xe2 = truth.sample(args.m, make_generator(derive_seed(0, "eval2")))
    w1 = lambda a, b: ot.emd2([], [], torch.cdist(a, b).numpy(), numItermax=10 ** 7)  # noqa: E731
    print(f"fit {t1 - t0:.1f}s ({model.train_stats['train_steps_per_s']:.1f} steps/s), "
          f"likelihood {t2 - t1:.1f}s (m={args.m}), sample {t3 - t2:.1f}s, total {t3 - t0:.1f}s")
    print(f"TV {tv.mean():.4f} +- {1.96 * tv.std() / len(tv) ** 0.5:.4f} (95% CI half-width); "
          f"KL {(truth.log_prob(xe) - lq).mean():.4f}; W1 {w1(s, xe):.4f} (floor {w1(xe2, xe):.4f})")


if __name__ == "__main__":
    main()
