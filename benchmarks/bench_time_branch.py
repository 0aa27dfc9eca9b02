"""The score network's time branch at one noise level per batch: once and broadcast, or once per row.

    .venv/bin/python benchmarks/bench_time_branch.py [--points 4096] [--calls 100] [--repeats 2]

The samplers and the likelihood ODE evaluate a whole batch at one t.  `TimeMLP`
then runs its time branch (embedding -> W_t -> act -> W_e) on the single level
and broadcasts it; "per row" feeds the same level repeated on every row, which
is what the network computed before.  Both sides use the default network
(width 128, depth 2, embedding 64, d = 2, float32, one thread) and time, in
alternating order (A B B A ...), a forward pass without a graph and the score
Jacobian the likelihood ODE needs (`sampler_law.score_jacobian`: a forward pass
and d backward passes).  Prints seconds per side and the ratio per_row / once.
Results: benchmarks/README.md (## Diffusion).
"""

from __future__ import annotations

import argparse
import time

import torch

from genlab.diffusion.sampler_law import score_jacobian
from genlab.nn import TimeMLP


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=4096, help="batch size (the likelihood ODE's chunk)")
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(1)
    net = TimeMLP(2, 128, 2, 64, generator=torch.Generator().manual_seed(0)).requires_grad_(False)
    x = torch.randn(a.points, 2, generator=torch.Generator().manual_seed(1))
    sides = {
        "once": lambda z, t: net(z, torch.tensor([t])),
        "per_row": lambda z, t: net(z, torch.full(z.shape[:-1], t)),
    }
    assert torch.allclose(sides["once"](x, 0.3), sides["per_row"](x, 0.3), atol=1e-5)
    times = {(name, what): [] for name in sides for what in ("forward", "jacobian")}
    order = list(sides)
    for r in range(a.repeats):
        for name in (order if r % 2 == 0 else order[::-1]):
            f = sides[name]
            t0 = time.perf_counter()
            with torch.no_grad():
                for _ in range(a.calls):
                    f(x, 0.3)
            t1 = time.perf_counter()
            for _ in range(a.calls):
                score_jacobian(f, x, 0.3)
            t2 = time.perf_counter()
            times[(name, "forward")].append(t1 - t0)
            times[(name, "jacobian")].append(t2 - t1)
    print(f"{a.calls} calls on {a.points} points, width 128, 1 thread")
    for what in ("forward", "jacobian"):
        once, per_row = min(times[("once", what)]), min(times[("per_row", what)])
        print(f"  {what:<9} once {once:.3f} s   per row {per_row:.3f} s   per_row / once {per_row / once:.2f}x"
              f"   (all: once {', '.join(f'{v:.3f}' for v in times[('once', what)])}; "
              f"per row {', '.join(f'{v:.3f}' for v in times[('per_row', what)])})")


if __name__ == "__main__":
    main()
