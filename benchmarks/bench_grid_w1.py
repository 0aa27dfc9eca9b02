"""Grid W1 between two known densities against the plug-in W1 (ot.emd2) between samples, in one run.

    .venv/bin/python benchmarks/bench_grid_w1.py            # grid N = 32, 48, 64 (k = 1, 2); samples m = 2000, 4000, 8000
    .venv/bin/python benchmarks/bench_grid_w1.py --quick    # m = 2000, 4000 only, 3 repeats

Not a test (Linux only: peak memory from /proc). The truth p is the project's 2-D anisotropic
7-mode mixture (``GaussianMixture.anisotropic_2d``, its log-density in numpy) and the "model" q is p shifted by mu = (0.03, 0.04): W1(p, q) = |mu| = 0.05 exactly for any p, so
every row's error is known. Each measurement runs in a fresh process (spawn), which reports its
time and its peak resident memory above its resident memory before the work (the kernel's
high-water mark VmHWM, reset through /proc/self/clear_refs after the imports: POT's network
simplex allocates in C++, which tracemalloc does not see).

Columns: the grid method's value, its error against 0.05, its stated ``bound`` (quantisation with
tv_bound = TV(p, q), tail, quadrature estimate) and ``refinement_estimate``; for the samples, the
mean and standard deviation over repeats of W1(p_m, q_m) and of the floor W1(p_m, p'_m).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

MU = np.array([0.03, 0.04])  # W1(p, p(. - mu)) = |mu| = 0.05
BOX = [(-5.5, 5.5), (-5.5, 5.5)]  # > 7.5 major stds beyond every mean: mass outside ~1e-13


def _mixture():
    """Weights (K,), means (K, 2) and covariances (K, 2, 2) of genlab's 2-D anisotropic 7-mode mixture."""
    from genlab.distributions import GaussianMixture

    law = GaussianMixture.anisotropic_2d()
    return law.weights.numpy(), law.means.numpy(), law.covs.numpy()


def log_density(shift=(0.0, 0.0)):
    """log p(x - shift) of the mixture, (M, 2) -> (M,)."""
    weights, means, covs = _mixture()
    prec = np.linalg.inv(covs)  # (K, 2, 2)
    log_norm = np.log(weights) - np.log(2 * np.pi) - 0.5 * np.log(np.linalg.det(covs))  # (K,)
    shift = np.asarray(shift)

    def f(x):
        z = (x - shift)[:, None, :] - means[None]  # (M, K, 2)
        quad = np.einsum("mki,kij,mkj->mk", z, prec, z)
        a = log_norm[None] - 0.5 * quad
        top = a.max(axis=1, keepdims=True)
        return top[:, 0] + np.log(np.exp(a - top).sum(axis=1))

    return f


def sample(n, rng):
    weights, means, covs = _mixture()
    comp = rng.choice(len(weights), size=n, p=weights)
    chol = np.linalg.cholesky(covs)  # (K, 2, 2)
    return means[comp] + np.einsum("nij,nj->ni", chol[comp], rng.standard_normal((n, 2)))


def _status_kib(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))


def _reset_peak():
    """Reset the high-water mark to the present resident size; return that size (KiB)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status_kib("VmRSS")


def _peak_mib(base_kib):
    return (_status_kib("VmHWM") - base_kib) / 1024


def job_grid(n_cells, n_nodes, tv_bound):
    from metrics import grid_w1

    log_p, log_q = log_density(), log_density(MU)   # genlab's mixture imported before the peak is reset
    base = _reset_peak()
    spent = [0.0]

    def timed(f):
        def g(x):
            t0 = time.perf_counter()
            out = f(x)
            spent[0] += time.perf_counter() - t0
            return out
        return g

    t0 = time.perf_counter()
    r = grid_w1(timed(log_p), timed(log_q), BOX, n_cells, n_nodes, tv_bound=tv_bound)
    return dict(time=time.perf_counter() - t0, t_density=spent[0], peak=_peak_mib(base), r=r)


def job_samples(m, seed):
    from metrics import wasserstein

    rng = np.random.default_rng(seed)
    x, x2, y = sample(m, rng), sample(m, rng), sample(m, rng) + MU
    base = _reset_peak()
    t0 = time.perf_counter()
    cross = wasserstein(x, y)
    t_one = time.perf_counter() - t0
    floor = wasserstein(x, x2)
    return dict(time=t_one, peak=_peak_mib(base), cross=cross, floor=floor)


def in_fresh_process(fn, *args):
    with mp.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(fn, args)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="samples m = 2000, 4000 only, 3 repeats")
    ap.add_argument("--reps", type=int, default=5, help="repeats of each sample size (3 at m = 8000)")
    args = ap.parse_args()
    import ot
    from metrics import tv_quadrature

    print(f"{platform.node()}  {platform.processor() or platform.machine()}  cpus={os.cpu_count()}  "
          f"numpy {np.__version__}  POT {ot.__version__}  load {os.getloadavg()[0]:.1f}")
    # TV(p, q) for the quantisation bound, by tensor GL6 quadrature on 320^2 panels (|p - q| has
    # kinks: O(h^2) error, h = 0.034; 160^2, 320^2 and 400^2 panels agree within 2e-7), plus 1e-6.
    t0 = time.perf_counter()
    tv = tv_quadrature(log_density(), log_density(MU), BOX, n_grid=320).ci_high + 1e-6
    print(f"W1(p, q) = |mu| = 0.05 exactly; TV(p, q) = {tv:.5f} (tv_quadrature, {time.perf_counter() - t0:.1f} s)\n")

    print(f"{'method':<22}{'evals/density':>14}{'time s':>9}{'(density s)':>12}{'peak MiB':>10}"
          f"{'value':>10}{'|err|':>10}{'bound':>9}{'(quant':>8}{'quad':>9}{')':>2}{'refine':>10}")
    for n_cells in (32, 48, 64):
        for k in (1, 2):
            o = in_fresh_process(job_grid, n_cells, k, tv)
            r = o["r"]
            print(f"{f'grid N={n_cells} k={k}':<22}{r.n_evaluations:>14}{o['time']:>9.2f}{o['t_density']:>12.2f}"
                  f"{o['peak']:>10.0f}{r.value:>10.5f}{abs(r.value - 0.05):>10.1e}{r.bound:>9.4f}"
                  f"{r.quantisation_bound:>8.4f}{r.quadrature_estimate:>9.1e}{'':>2}{r.refinement_estimate:>10.1e}")

    sizes = (2000, 4000) if args.quick else (2000, 4000, 8000)
    print(f"\n{'plug-in, m':<14}{'reps':>5}{'time/LP s':>10}{'peak MiB':>10}{'W1(p_m,q_m) mean':>18}{'sd':>8}"
          f"{'|mean-0.05|':>12}{'floor W1(p_m,p_m`) mean':>25}{'sd':>8}")
    for m in sizes:
        reps = 3 if (args.quick or m >= 8000) else args.reps
        runs = [in_fresh_process(job_samples, m, seed) for seed in range(reps)]
        cross = np.array([o["cross"] for o in runs])
        floor = np.array([o["floor"] for o in runs])
        print(f"{m:<14}{reps:>5}{np.mean([o['time'] for o in runs]):>10.2f}{max(o['peak'] for o in runs):>10.0f}"
              f"{cross.mean():>18.4f}{cross.std(ddof=1):>8.4f}{abs(cross.mean() - 0.05):>12.4f}"
              f"{floor.mean():>25.4f}{floor.std(ddof=1):>8.4f}")


if __name__ == "__main__":
    main()
