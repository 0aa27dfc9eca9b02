"""Speed of metrics.wasserstein against calling POT directly, side by side in one run.

    .venv/bin/python benchmarks/bench_metrics.py           # full: sliced on 10^6 points
    .venv/bin/python benchmarks/bench_metrics.py --quick   # sliced on 10^5 points

Not a test. Prints, for each case, the time of each side (best of --repeat runs),
their ratio and the two values (which must agree: same inputs, same cost, same
projections).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import ot

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from metrics import projection_bank, wasserstein  # noqa: E402


def best_times(fn_ours, fn_pot, repeat: int):
    """Best-of-``repeat`` times of both sides, run alternately so load drift hits both alike."""
    t_ours, t_pot, v_ours, v_pot = [], [], None, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        v_ours = fn_ours()
        t1 = time.perf_counter()
        v_pot = fn_pot()
        t2 = time.perf_counter()
        t_ours.append(t1 - t0)
        t_pot.append(t2 - t1)
    return min(t_ours), float(v_ours), min(t_pot), float(v_pot)


def row(name, t_ours, v_ours, t_pot, v_pot):
    print(f"{name:<44} ours {t_ours:8.3f} s   POT {t_pot:8.3f} s   POT/ours {t_pot / t_ours:6.2f}x   "
          f"|diff| {abs(v_ours - v_pot):.1e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sliced case on 10^5 points instead of 10^6")
    ap.add_argument("--repeat", type=int, default=5, help="alternating runs of the exact case (best kept)")
    args = ap.parse_args()
    print(f"{platform.node()}  {platform.processor() or platform.machine()}  cpus={os.cpu_count()}  "
          f"numpy {np.__version__}  POT {ot.__version__}")

    # Exact W1, n = 4000, d = 2. POT with the same iteration cap as ours: POT's default
    # numItermax = 100000 stops before optimality at this size (it only warns).
    rng = np.random.default_rng(0)
    n = 4000
    x, y = rng.normal(size=(n, 2)), rng.normal(size=(n, 2)) + [1.0, 0.0]
    a = np.full(n, 1.0 / n)
    cap = max(10**6, 10 * n * n)

    def pot_exact():
        return ot.emd2(a, a, ot.dist(x, y, metric="euclidean"), numItermax=cap)

    row(f"exact W1, n={n}, d=2", *best_times(lambda: wasserstein(x, y, p=1, method="exact"), pot_exact, args.repeat))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        v_default = ot.emd2(a, a, ot.dist(x, y, metric="euclidean"))
    if w:
        print(f"  (POT with its default numItermax: {v_default:.10f}, warning: {w[0].message})")

    # Sliced W1, d = 10, 100 projections, the same projection bank handed to POT.
    n = 10**5 if args.quick else 10**6
    k, d = 100, 10
    x = rng.normal(size=(n, d))
    y = rng.normal(size=(n, d)) + 0.5
    bank = projection_bank(d, k, seed=0)
    row(f"sliced W1, n={n:.0e}, d={d}, {k} projections",
        *best_times(lambda: wasserstein(x, y, p=1, method="sliced", n_projections=k, seed=0),
                    lambda: ot.sliced_wasserstein_distance(x, y, p=1, projections=bank.T), 1))


if __name__ == "__main__":
    main()
