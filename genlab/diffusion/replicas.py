"""R diffusion fits trained as one replica-batched network (issue 7).

``fit_diffusion_replicas(cfg, [x_1, ..., x_R], seeds=[s_1, ..., s_R])`` returns
the R models that ``fit_diffusion(cfg, x_r, seed=s_r)`` would return, to float
tolerance, at the cost of one larger model: the R networks are initialised
one by one from their own seeds and stacked (``genlab.nn.replicas``); each
step draws replica r's minibatch, times and noise from replica r's own
generator in its own run's order; the R losses are summed, so each replica's
gradient is its own loss's; the gradient norm is clipped per replica; Adam and
the EMA are elementwise.  Only the matrix products differ in their summation
order (one ``baddbmm`` against R ``addmm``), which is the float tolerance.

Small networks are overhead-bound (each op's launch costs more than its
arithmetic), so batching R of them runs near the cost of one; at widths
where one network is already compute-bound it saves little
(``benchmarks/bench_replicas.py``).
"""

from __future__ import annotations

import os
import time
from typing import Optional, Sequence

import torch

from genlab.core.device import available_memory_bytes, resolve_device
from genlab.diffusion.config import DiffusionConfig
from genlab.diffusion.estimator import (DiffusionModel, score_mlp, score_model, score_network, standardisation,
                                        train_batch_size, train_stats)
from genlab.diffusion.loss import draw_dsm_noise, dsm_loss_per_sample, times_from_uniform
from genlab.nn.replicas import replica, stack_replicas
from genlab.nn.scaling import weight_movement
from genlab.core.seeding import derive_seed, make_generator
from genlab.training import train
from genlab.core.validation import check_points

__all__ = ["fit_diffusion_replicas", "replicable", "replica_key", "replica_memory_bytes",
           "available_memory_bytes"]


def replicable(cfg: DiffusionConfig) -> Optional[str]:
    """None if fits under ``cfg`` can be replica-batched, else the reason they cannot (one line)."""
    if cfg.score != "learned":
        return f"diffusion.score={cfg.score} trains no network"
    if not cfg.standardize:
        return "diffusion.standardize=false gives each fit its own sigma_data"
    if cfg.checkpoint_every:
        return "diffusion.checkpoint_every > 0 writes each run's own checkpoints"
    return None


def replica_key(cfg: DiffusionConfig, n: int) -> tuple:
    """Fits with equal keys can share one batched network: same settings, minibatch size and t0
    (which depends on n on a t0 schedule)."""
    return (repr(cfg), train_batch_size(cfg, n), cfg.t0_at(n))


def replica_memory_bytes(cfg: DiffusionConfig, d: int, n: int) -> int:
    """An upper estimate of one replica's training memory in bytes (float32).

    Weights, gradient, Adam's two moments and the EMA (5 copies of P
    parameters); activations kept for the backward pass, about
    (3 depth + 10) width-sized tensors per sample of the minibatch; the
    n x d training set.
    """
    w, e = cfg.width, cfg.time_embed_dim
    t = cfg.time_width or w  # the time branch: e -> t -> w
    params = (e + 1) * t + (t + 1) * w + (d + 1) * w + cfg.depth * (w + 1) * w + (w + 1) * d
    batch = train_batch_size(cfg, n)
    acts = batch * ((3 * cfg.depth + 10) * w + e + 4 * d)
    return 4 * (5 * params + acts + n * d)


def fit_diffusion_replicas(cfg: DiffusionConfig, x_trains: Sequence[torch.Tensor], *, seeds: Sequence[int],
                           device="cpu", progress: bool = False) -> list[DiffusionModel]:
    """Train R score networks, one per (x_trains[r] (n_r, d), seeds[r]), as one batched network.

    All R fits share ``cfg`` (``replicable(cfg)`` must be None), the dimension d,
    the minibatch size ``train_batch_size(cfg, n_r)`` and t0 (``cfg.t0_at(n_r)``);
    the n_r may differ.
    Each model's ``train_stats`` hold its own final loss, the batched run's
    steps/s and time, and ``train_replicas`` = R.

    Raises
    ------
    ValueError
        If the fits cannot share a network (the reason is named).
    TrainingDiverged
        As ``fit_diffusion``; ``.replica`` names the first bad replica.
    """
    cfg.validate()
    why = replicable(cfg)
    if why:
        raise ValueError(f"these fits cannot be replica-batched: {why}")
    if len(x_trains) != len(seeds) or not x_trains:
        raise ValueError(f"give one seed per training set, got {len(x_trains)} sets and {len(seeds)} seeds")
    device = resolve_device(device)
    xs = [check_points(f"x_train[{r}]", x).to(torch.float64).cpu() for r, x in enumerate(x_trains)]
    dims = {x.shape[1] for x in xs}
    batches = {train_batch_size(cfg, x.shape[0]) for x in xs}
    t0s = {cfg.t0_at(x.shape[0]) for x in xs}
    if len(dims) > 1 or len(batches) > 1 or len(t0s) > 1:
        raise ValueError(f"replicas must share the dimension, the minibatch size and t0; got d in {sorted(dims)}, "
                         f"batch in {sorted(batches)}, t0 in {sorted(t0s)}")
    (d,), (batch,), R = dims, batches, len(xs)
    process = cfg.make_process(n=xs[0].shape[0])
    coords = [standardisation(cfg, x) for x in xs]
    zs = [((x - sh) / sc).to(torch.float32).to(device) for x, (sh, sc) in zip(xs, coords)]
    nets = [score_network(cfg, d, seed=s) for s in seeds]
    throwaway = make_generator(0)  # the batched init is overwritten by the stacked replicas
    batched = score_mlp(cfg, d, generator=throwaway, replicas=R)
    model = score_model(cfg, process, stack_replicas(nets, batched), xs[0]).to(device)
    gens = [make_generator(derive_seed(s, "train"), device) for s in seeds]

    def step_fn(m, step: int) -> torch.Tensor:
        x0, u, eps = [], [], []
        for z, g in zip(zs, gens):  # each replica's draws, in its own run's order
            x0.append(z[torch.randint(0, z.shape[0], (batch,), generator=g, device=device)])
            u_r, eps_r = draw_dsm_noise(x0[-1], g)
            u.append(u_r)
            eps.append(eps_r)
        t = times_from_uniform(process, torch.stack(u), cfg.time_sampling)               # (R, B)
        per_sample = dsm_loss_per_sample(m, torch.stack(x0), t, torch.stack(eps), cfg.weighting)
        return per_sample.mean(-1)                                                       # (R,)

    t_start = time.perf_counter()
    res = train(model, step_fn, cfg, generators={f"train{r}": g for r, g in enumerate(gens)},
                progress=progress, desc=f"diffusion x{R}", replicas=R, fused=True)
    models = []
    for r, (x, (shift, scale), s) in enumerate(zip(xs, coords, seeds)):
        single = replica(res.ema.net, r, score_mlp(cfg, d, generator=throwaway).to(device))
        stats = train_stats(res.losses[:, r], res.steps_per_s, t_start)
        stats["train_replicas"] = R
        if cfg.weight_movement:
            stats.update(weight_movement(single, nets[r]))
        models.append(DiffusionModel(cfg, process, shift, scale, x, seed=s,
                                     score_model=score_model(cfg, process, single, x),
                                     train_stats=stats))
    return models
