"""Sweep wall time and peak memory: replica-batched groups, Hydra's basic launcher, local parallel processes.

    python benchmarks/bench_sweep.py                   # empirical_uniform, n = 16, 32, 64, 2 seeds
    python benchmarks/bench_sweep.py --toy-diffusion   # diffusion_gmm at toy size, 2 n x 2 seeds
    python benchmarks/bench_sweep.py --default-diffusion --launchers replicas   # the default diffusion_gmm sweep
    python benchmarks/bench_sweep.py --repeats 2 --launchers basic,basic@1,joblib,submitit_local

``replicas`` is a diffusion sweep's default (``rates.replicas=auto``: cores processes, each training
its share of the runs as replica-batched groups); every other name is a Hydra launcher, run with
``rates.replicas=off`` so that the launcher itself is measured.

Each launcher runs the same ``scripts/rates.py`` sweep into its own fresh directory, in
alternating order (A B, then B A, ...) so that a change in the machine's load falls on both sides.
The environment's OMP_NUM_THREADS is removed: the basic launcher's one process then uses torch's
default threads (all cores), joblib's workers get cores // n_jobs threads each (1 with
n_jobs = -1).  ``NAME@K`` runs launcher NAME with OMP_NUM_THREADS=K (``basic@1``: one job at a
time on one thread, which separates the effect of the thread count from that of parallelism).  The noise-floor cache is warmed by one untimed run first, so neither side pays for
it.  Prints the wall time of every sweep, its peak resident memory (the summed RSS of
rates.py and all its descendant processes, sampled every 0.2 s), the load average around it, and
the ratio first / other (> 1: the other is faster).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RATES = ROOT / "scripts" / "rates.py"
TRAIN = ROOT / "scripts" / "train.py"

# (kept short: Hydra names each run directory by its overrides, and a name has at most 255 bytes;
# no boolean override: Hydra writes it True/False in the name, which SweepPlan.run_dir does not)
TOY_DIFFUSION = ["recipe=diffusion_gmm", "rates.n=[250,500]", "rates.seeds=2", "rates.compare=[]",
                 "eval.m=500", "eval.reps=2", "eval.metrics=[tv,w1]",
                 "diffusion.steps=300", "diffusion.width=64", "diffusion.batch_size=256",
                 "diffusion.likelihood_steps=12"]


def _env(threads: str | None = None) -> dict:
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    if threads:
        env["OMP_NUM_THREADS"] = threads
    return env


def _tree_rss(root: int) -> int:
    """Summed resident memory (bytes) of process ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(d.name))
            rss[int(d.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def _sweep(args: list[str], spec: str, out: Path) -> tuple[float, int]:
    """Wall seconds and peak tree RSS (bytes) of one rates.py sweep through ``spec``; raise if it fails.

    ``spec``: ``replicas``, or a launcher NAME or NAME@THREADS (then with rates.replicas=off).
    """
    launcher, _, threads = spec.partition("@")
    how = [] if launcher == "replicas" else [f"hydra/launcher={launcher}", "rates.replicas=off"]
    cmd = [sys.executable, str(RATES), *args, f"rates.out_dir={out}", *how]
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stdout:
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.STDOUT, text=True,
                                env=_env(threads or None), cwd=ROOT)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.2)
        wall = time.perf_counter() - t0
        stdout.seek(0)
        text = stdout.read()
    if proc.returncode != 0:
        log = out / "sweep.log"
        tail = log.read_text().strip().splitlines()[-5:] if log.is_file() else []
        raise SystemExit(f"sweep with {spec} failed ({proc.returncode}):\n"
                         + "\n".join(text.strip().splitlines()[-5:] + tail))
    return wall, peak


def _training_flop_rate(sweep_dir: Path) -> tuple[float, float] | None:
    """(training GFLOP, GFLOP/s per training process) of a diffusion sweep's runs, from their files.

    FLOPs count the network's matrix products (x3 for forward and backward) of every training step;
    the time of a replica-batched group is shared by its R runs (``train_replicas``), so each run
    is charged train_time_s / R.  Each process of the sweep trains on one thread, so the rate is
    per core.
    """
    import json

    import yaml

    flops = seconds = 0.0
    for run in (sweep_dir / "runs").glob("*/timings.json"):
        cfg = yaml.safe_load((run.parent / "config.yaml").read_text())
        if cfg.get("estimator") != "diffusion":
            return None
        t = json.loads(run.read_text())
        dc, d = cfg["diffusion"], int(cfg["truth"].get("dim") or 2)
        w, e, batch = dc["width"], dc["time_embed_dim"], min(dc["batch_size"], cfg["n"])
        tw = dc.get("time_width") or w  # the time branch: e -> tw -> w (runs from before the key have none)
        macs = e * tw + tw * w + d * w + dc["depth"] * w * w + w * d
        flops += 6 * batch * macs * dc["steps"]
        seconds += t["train_time_s"] / t.get("train_replicas", 1)
    return (flops / 1e9, flops / 1e9 / seconds) if seconds else None


def _warm(args: list[str], out: Path) -> None:
    """One untimed single run (n = the first size), so that the floor cache and file caches are warm."""
    run_args = [a for a in args if not a.startswith("rates.")]
    ns = next((a.split("=", 1)[1].strip("[]").split(",") for a in args if a.startswith("rates.n=")), None)
    if ns:
        run_args.append(f"n={ns[0]}")
    subprocess.run([sys.executable, str(TRAIN), *run_args, f"out_dir={out}", "progress=false"],
                   capture_output=True, text=True, env=_env("1"), cwd=ROOT, check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--toy-diffusion", action="store_true", help="a toy diffusion_gmm sweep instead")
    ap.add_argument("--default-diffusion", action="store_true",
                    help="the default diffusion_gmm sweep (recipe defaults, kde_gmm compare included)")
    ap.add_argument("--launchers", default="basic,joblib",
                    help="comma-separated NAME or NAME@THREADS; the first is the reference")
    ap.add_argument("--repeats", type=int, default=1, help="sweeps per launcher")
    ap.add_argument("overrides", nargs="*", help="rates.py overrides replacing the default sweep")
    a = ap.parse_args()
    args = a.overrides or (TOY_DIFFUSION if a.toy_diffusion else ["recipe=diffusion_gmm"] if a.default_diffusion
                           else ["recipe=empirical_uniform", "rates.n=[16,32,64]", "rates.seeds=2"])
    args = [*args, "device=cpu"]
    launchers = a.launchers.split(",")
    print(f"cores {os.cpu_count()}; sweep: {' '.join(args)}")
    tmp = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    try:
        _warm(args, tmp / "warm")
        walls: dict[str, list[float]] = {name: [] for name in launchers}
        for r in range(a.repeats):
            order = launchers if r % 2 == 0 else launchers[::-1]
            for name in order:
                load0 = os.getloadavg()[0]
                wall, peak = _sweep(args, name, tmp / f"{name}-{r}")
                walls[name].append(wall)
                print(f"  {name:<15} {wall:7.1f} s   peak RSS {peak / 2**30:.2f} GiB   "
                      f"(load average {load0:.1f} -> {os.getloadavg()[0]:.1f})", flush=True)
                rate = _training_flop_rate(tmp / f"{name}-{r}")
                if rate:
                    from bench_replicas import matmul_peak  # this folder is on sys.path

                    peak1 = matmul_peak(threads=1)
                    print(f"    training: {rate[0]:.0f} GFLOP at {rate[1]:.1f} GFLOP/s per process, "
                          f"{100 * rate[1] / peak1:.0f}% of the 1-thread fp32 matmul peak {peak1:.0f} GFLOP/s "
                          f"(measured now)", flush=True)
        ref = launchers[0]
        med = {name: statistics.median(w) for name, w in walls.items()}
        for name in launchers[1:]:
            print(f"{ref} / {name}: {med[ref] / med[name]:.2f}x  (median {med[ref]:.1f} s vs {med[name]:.1f} s; "
                  f"> 1 means {name} is faster)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
