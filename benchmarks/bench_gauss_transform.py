"""The reference scores' posterior sums (`genlab.diffusion.gauss_transform`) against the textbook softmax,
side by side in one process.

    .venv/bin/python benchmarks/bench_gauss_transform.py [--n 10000] [--queries 4000] [--threads 1]

On ``diffusion_gmm``'s truth, n training points standardised as a run standardises them, and at each time of
a grid over the VP-OU process, ``--queries`` exact draws of the noised training law: the seconds of

* ``softmax``  the formula as one writes it: cdist, softmax, weighted sums, in 1024-query blocks (the
               reference scores before 2026-12-07 worked so);
* ``direct``   `GaussPosterior(taylor=False)`: two matrix products of augmented vectors in blocks of
               (rows x n) float64 weights under 1 MiB;
* ``auto``     `GaussPosterior()`: the Taylor expansion where its proven bound allows, else direct,

and the largest differences of auto's moments from direct's.  Results: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import time

import torch
from omegaconf import OmegaConf

from genlab.config.compose import compose_config
from genlab.diffusion.gauss_transform import GaussPosterior
from genlab.run.validate import build_truth

TIMES = (0.001, 0.01, 0.1, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0)


def softmax_moments(x: torch.Tensor, z: torch.Tensor, a: float, v: float, block: int = 1024):
    """log sum_i k_i, the posterior mean and covariance from cdist and softmax, ``block`` queries at a time."""
    out = []
    for i in range(0, z.shape[0], block):
        logk = -0.5 * torch.cdist(z[i:i + block], a * x) ** 2 / v
        w = torch.softmax(logk, 1)
        mean = w @ x
        second = (w @ (x[:, :, None] * x[:, None, :]).reshape(x.shape[0], -1)).reshape(-1, x.shape[1], x.shape[1])
        out.append((torch.logsumexp(logk, 1), mean, second - mean[:, :, None] * mean[:, None, :]))
    return [torch.cat(parts) for parts in zip(*out)]


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=4000)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = OmegaConf.to_object(compose_config(["recipe=diffusion_gmm"]))
    process = cfg.diffusion.make_process(n=args.n)
    g = torch.Generator().manual_seed(0)
    x = build_truth(cfg).sample(args.n, generator=g).to(torch.float64)
    x = (x - x.mean(0)) / x.std(0)
    direct, auto = GaussPosterior(x, taylor=False), GaussPosterior(x)
    setup, _ = timed(lambda: auto._taylor_setup())
    print(f"n = {args.n}, {args.queries} queries per time, {args.threads} thread(s); Taylor set-up once: "
          f"{setup * 1e3:.0f} ms (degree <= {auto.taylor_degree_max})")
    print("| t | v / a^2 | softmax ms | direct ms | auto ms | Taylor rows | max |d log| | max |d mean| | max |d cov| |")
    print("|---|---|---|---|---|---|---|---|---|")
    totals = [0.0, 0.0, 0.0]
    for t in TIMES:
        tt = torch.tensor(t, dtype=torch.float64)
        a, s = float(process.alpha(tt)), float(process.sigma(tt))
        v = s * s
        z = a * x[torch.randint(0, args.n, (args.queries,), generator=g)] + s * torch.randn(
            args.queries, x.shape[1], generator=g, dtype=torch.float64)
        A, V = torch.tensor([[a]], dtype=torch.float64), torch.tensor([[v]], dtype=torch.float64)
        before = auto.stats["taylor"]
        t_soft, _ = timed(lambda: softmax_moments(x, z, a, v))
        t_direct, want = timed(lambda: direct(z, A, V))
        t_auto, got = timed(lambda: auto(z, A, V))
        diffs = [float((g_ - w_).abs().max()) for g_, w_ in zip(got, want)]
        for k, sec in enumerate((t_soft, t_direct, t_auto)):
            totals[k] += sec
        print(f"| {t:g} | {v / a / a:.3g} | {t_soft * 1e3:.1f} | {t_direct * 1e3:.1f} | {t_auto * 1e3:.1f} | "
              f"{auto.stats['taylor'] - before} | {diffs[0]:.1e} | {diffs[1]:.1e} | {diffs[2]:.1e} |", flush=True)
    print(f"| all | | {totals[0]:.2f} s | {totals[1]:.2f} s ({totals[0] / totals[1]:.1f}x) | "
          f"{totals[2]:.2f} s ({totals[0] / totals[2]:.1f}x) | | | | |")


if __name__ == "__main__":
    main()
