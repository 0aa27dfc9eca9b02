"""GAN timings on this machine: seconds per 1000 generator steps of the ``gan_ring`` recipe's defaults.

    .venv/bin/python benchmarks/bench_gan.py [--steps 1000] [--recipe gan_ring] [--threads T]

Trains the recipe's GAN (its `GANConfig`, on its n truth points) for ``--steps``
generator steps through `fit_gan` -- the loop a run uses, with checkpoints
off and the training-curve monitor on at the recipe's interval -- after a
50-step warm-up fit, and prints the load average before and after, since the
machine is shared.  Results are recorded in benchmarks/README.md (## GAN).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

import torch
from omegaconf import OmegaConf

from genlab.config.compose import compose_config
from genlab.run.pipeline import build_truth
from genlab.gan import fit_gan, make_monitor
from genlab.core.seeding import derive_seed, make_generator


def seconds_per_1000_steps(recipe: str, steps: int) -> tuple[float, dict]:
    cfg = OmegaConf.to_object(compose_config([f"recipe={recipe}"]))
    truth = build_truth(cfg)
    x = truth.sample(cfg.n, generator=make_generator(derive_seed(cfg.seed, "data")))
    monitor = make_monitor(truth, cfg.gan.monitor_m, seed=derive_seed(cfg.eval.seed, "monitor"))
    fit_gan(dataclasses.replace(cfg.gan, steps=50, checkpoint_every=0), x, seed=0, monitor=monitor)  # warm-up
    gcfg = dataclasses.replace(cfg.gan, steps=steps, checkpoint_every=0)
    t0 = time.perf_counter()
    fit_gan(gcfg, x, seed=0, monitor=monitor)
    return 1000.0 * (time.perf_counter() - t0) / steps, dataclasses.asdict(gcfg)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--recipe", default="gan_ring")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    load0 = os.getloadavg()[0]
    sec, gcfg = seconds_per_1000_steps(args.recipe, args.steps)
    load1 = os.getloadavg()[0]
    print(f"{args.recipe}: {sec:.2f} s per 1000 generator steps ({1000.0 / sec:.0f} steps/s); "
          f"threads {torch.get_num_threads()}; loss {gcfg['loss']}, pack {gcfg['pack']}, "
          f"batch {gcfg['batch_size']}, widths {gcfg['g_width']}/{gcfg['d_width']}, "
          f"critic steps {gcfg['critic_steps']}; load average {load0:.1f} -> {load1:.1f}", flush=True)


if __name__ == "__main__":
    main()
