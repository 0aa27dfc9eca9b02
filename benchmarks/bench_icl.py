"""ICL benchmark: training steps per second of the tiny transformer, and the time to reach the icl_noisy goal.

    python benchmarks/bench_icl.py speed [--threads 2] [--batch 128 256]
    python benchmarks/bench_icl.py goal  [--threads 2] [--minutes 15]

``goal`` trains the icl_noisy transformer (d = 5, sigma^2 = 0.25, tau^2 = 1,
k = 10) and every ``--every`` steps evaluates, on 6400 fixed prompts, the
excess error over the Bayes-ridge excess at k = 2, 5, 10; it prints the wall
time at which all three first fall below 1.1.  Results are recorded in
benchmarks/README.md (## ICL); this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import time

import torch

from genlab.icl import baselines as bl
from genlab.icl.config import ICLConfig
from genlab.icl.models import make_model
from genlab.icl.run import make_sampler
from genlab.training import TrainConfig, lr_at
from genlab.seeding import derive_seed, make_generator


def speed(args) -> None:
    cfg = ICLConfig()
    sampler = make_sampler(cfg, 0)
    for batch in args.batch:
        model = make_model("transformer", cfg.d, cfg.k, width=cfg.width, depth=cfg.depth, heads=cfg.heads)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
        g = make_generator(0)
        for i in range(args.warm + args.steps):
            if i == args.warm:
                t0 = time.perf_counter()
            xs, ys, _ = sampler.sample(batch, g)
            loss = ((model(xs, ys) - ys) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        dt = (time.perf_counter() - t0) / args.steps
        print(f"threads={torch.get_num_threads()} batch={batch}: {1 / dt:.1f} steps/s ({1000 * dt:.1f} ms/step)")


def goal(args) -> None:
    cfg = ICLConfig(steps=args.train_steps, batch_size=args.batch[0], lr=args.lr, warmup_steps=args.warmup)
    # the schedule train_icl uses (warmup, cosine to 2%); this loop is its own so it can stop at the goal
    schedule = TrainConfig(steps=cfg.steps, lr=cfg.lr, warmup_steps=cfg.warmup_steps, lr_schedule=cfg.lr_schedule,
                           min_lr_ratio=0.02)
    sampler = make_sampler(cfg, 0)
    xs, ys, ws = sampler.sample(6400, make_generator(derive_seed(0, "icl_eval")))
    f = sampler.clean(xs, ws).double()
    bayes = ((bl.bayes_ridge(xs, ys, cfg.sigma2, cfg.tau2) - f) ** 2).mean(0)
    model = make_model("transformer", cfg.d, cfg.k, width=cfg.width, depth=cfg.depth, heads=cfg.heads,
                       generator=make_generator(derive_seed(0, "icl_init")))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    g = make_generator(derive_seed(0, "icl_data"))
    t0 = time.perf_counter()
    for step in range(cfg.steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(schedule, step)
        bx, by, _ = sampler.sample(cfg.batch_size, g)
        loss = ((model(bx, by) - by) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        if (step + 1) % args.every == 0 or step + 1 == cfg.steps:
            with torch.no_grad():
                err = ((model(xs, ys).double() - f) ** 2).mean(0)
            r = [float(err[k] / bayes[k]) for k in (2, 5, 10)]
            el = time.perf_counter() - t0
            print(f"step {step + 1} {el:.0f}s ratios k=2,5,10: " + " ".join(f"{x:.3f}" for x in r), flush=True)
            if max(r) <= 1.1:
                print(f"goal reached at step {step + 1}, {el:.0f} s")
                return
            if el > 60 * args.minutes:
                print(f"goal not reached in {args.minutes} min")
                return


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["speed", "goal"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, nargs="+", default=[128, 256], help="goal uses the first")
    p.add_argument("--steps", type=int, default=20, help="timed steps (speed)")
    p.add_argument("--train-steps", type=int, default=20000, help="length of the cosine schedule (goal)")
    p.add_argument("--warm", type=int, default=3)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--every", type=int, default=500)
    p.add_argument("--minutes", type=float, default=15)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    speed(a) if a.what == "speed" else goal(a)
