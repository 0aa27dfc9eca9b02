"""One ICL run: prompts -> train a model -> error against k beside baselines and theory -> metrics + icl.png."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from genlab.core.device import resolve_device
from genlab.icl import baselines as bl
from genlab.icl.config import ICLConfig
from genlab.icl.evaluate import bootstrap_mean_ci, bootstrap_ratio_ci, gamma_cosine, normalised_errors
from genlab.plots.icl import plot_icl
from genlab.icl.models import LinearSelfAttention, make_model
from genlab.icl.prompts import PromptSampler
from genlab.icl.train import train_icl
from genlab.core.files import CHECKPOINT_DIR
from genlab.core.seeding import derive_seed, make_generator
from genlab.theory import icl as theory

__all__ = ["run_icl", "make_prompt_sampler"]


def make_prompt_sampler(cfg: ICLConfig, seed: int, *, n_tasks: int | None = None) -> PromptSampler:
    """The prompt law of ``cfg``; the task pool (if any) is seeded from ``seed`` alone."""
    return PromptSampler(cfg.family, cfg.d, cfg.k, sigma2=cfg.sigma2, tau2=cfg.tau2,
                         n_tasks=cfg.n_tasks if n_tasks is None else n_tasks, covariance=cfg.covariance,
                         sparsity=cfg.sparsity, relu_width=cfg.relu_width,
                         pool_seed=derive_seed(seed, "icl_pool"))


def _baseline_preds(cfg: ICLConfig, sampler: PromptSampler, xs, ys) -> dict[str, torch.Tensor]:
    """Predictions (B, K) of every baseline that applies to ``cfg``."""
    out = {"least_squares": bl.least_squares(xs, ys), "averaging": bl.averaging(xs, ys),
           "knn": bl.knn(xs, ys, cfg.knn_neighbors)}
    if cfg.sigma2 > 0:
        out["ridge"] = bl.ridge(xs, ys, cfg.sigma2 / cfg.tau2)
    gamma = theory.zfb_gamma(sampler.lam, cfg.k, cfg.sigma2, cfg.tau2)
    out["one_step_gd"] = bl.preconditioned_gd(xs, ys, 1 / gamma)
    if cfg.family == "sparse_linear":
        out["lasso"] = bl.lasso(xs, ys, cfg.lasso_alpha)
    if sampler.pool is not None and cfg.sigma2 > 0:
        out["dmmse"] = bl.discrete_mmse(xs, ys, sampler.pool, cfg.sigma2)
    return out


def _theory_curves(cfg: ICLConfig, sampler: PromptSampler) -> dict[str, list]:
    """Normalised excess curves of genlab.theory.icl for k = 0..cfg.k (isotropic linear laws only)."""
    ks = range(cfg.k + 1)
    if cfg.family not in ("linear", "noisy_linear"):
        return {}
    lam = sampler.lam
    curves = {"one_step_gd (ZFB)": [theory.lsa_risk(cfg.d, cfg.k, k, sigma2=cfg.sigma2, tau2=cfg.tau2,
                                                    eigenvalues=lam) for k in ks],
              "averaging": [theory.averaging_risk(cfg.d, k, cfg.sigma2, cfg.tau2, eigenvalues=lam) for k in ks]}
    if cfg.covariance == "isotropic":
        curves["least_squares"] = [theory.least_squares_risk(cfg.d, k, cfg.sigma2, cfg.tau2) for k in ks]
        if cfg.sigma2 > 0:
            curves["bayes_ridge"] = [theory.bayes_ridge_risk(cfg.d, k, cfg.sigma2, cfg.tau2, n_mc=cfg.bayes_mc,
                                                             seed=derive_seed(0, "icl_theory", k)) for k in ks]
    return curves


def run_icl(cfg: ICLConfig, run_dir: Path, *, seed: int, device, progress: bool = False) -> dict[str, float]:
    """Train ``cfg.model`` on prompts of ``cfg``, evaluate against k, write ``icl.png``; flat metrics.

    Seeds: the task pool, the model initialisation, the training prompts and the
    evaluation prompts each come from their own stream (`derive_seed`), so the
    evaluation prompts do not move with training settings.

    Returns
    -------
    dict[str, float]
        For every k = 0..cfg.k: ``err_k{k}`` with ``_ci_low``/``_ci_high`` (model);
        ``{baseline}_k{k}``; ``theory_{curve}_k{k}``; ``bayes_k{k}`` and
        ``excess_ratio_k{k}`` (+ CI) where the Bayes estimator is known (ridge for
        Gaussian w); ``lsa_gamma_cosine``, ``lsa_gamma_relerr``, ``lsa_population_risk``
        (exact risk of the learned preconditioner) and ``theory_lsa_risk`` for the LSA
        model; with a finite pool, ``err_pool_k{k}`` (tasks from the pool),
        ``bayes_pool_k{k}`` and ``excess_ratio_pool_k{k}`` (dMMSE is Bayes there),
        ``ridge_pool_k{k}``, and ``dist_dmmse``, the mean over k = 1..K of the
        normalised squared distance of the model's predictions to dMMSE's on fresh
        tasks (Raventos et al. 2023, Fig. 2), with ``dist_dmmse_ridge``, the same
        distance between dMMSE and ridge themselves (how far apart the two are to
        tell); ``dist_ridge`` (the model to ridge, also without a pool) wherever
        sigma^2 > 0; training numbers.
    """
    cfg = cfg.validate() if hasattr(cfg, "validate") else cfg
    device = resolve_device(device)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    sampler = make_prompt_sampler(cfg, seed)
    model = make_model(cfg.model, cfg.d, cfg.k, width=cfg.width, depth=cfg.depth, heads=cfg.heads,
                       generator=make_generator(derive_seed(seed, "icl_init")))
    loss_positions = cfg.loss_positions or ("last" if cfg.model == "lsa" else "all")
    out = train_icl(model, sampler, cfg, batch_size=cfg.batch_size,
                    generator=make_generator(derive_seed(seed, "icl_data")), loss_positions=loss_positions,
                    loss_weighting=cfg.loss_weighting, device=device, progress=progress,
                    checkpoint_dir=str(run_dir / CHECKPOINT_DIR) if cfg.checkpoint_every else None)
    metrics: dict[str, float] = {k: float(v) for k, v in out.items()}

    # evaluation on fresh tasks w ~ N(0, tau^2 I): the law ICL should generalise to
    fresh = make_prompt_sampler(cfg, seed, n_tasks=0)
    g_eval = make_generator(derive_seed(seed, "icl_eval"))
    g_boot = make_generator(derive_seed(seed, "icl_boot"))
    norm = fresh.signal_variance
    xs, ys, ws = fresh.sample(cfg.eval_prompts, g_eval)
    f = fresh.clean(xs, ws)
    with torch.no_grad():
        preds = torch.cat([model(a.to(device), b.to(device)).cpu() for a, b in zip(xs.split(1280), ys.split(1280))])
    err = normalised_errors(preds, f, norm)
    mean, low, high = bootstrap_mean_ci(err, n_boot=cfg.n_boot, generator=g_boot)
    ks = range(cfg.k + 1)
    for k in ks:
        metrics[f"err_k{k}"], metrics[f"err_k{k}_ci_low"], metrics[f"err_k{k}_ci_high"] = (
            float(mean[k]), float(low[k]), float(high[k]))
    base = _baseline_preds(cfg, sampler, xs, ys)
    base_err = {name: normalised_errors(p, f, norm) for name, p in base.items()}
    for name, e in base_err.items():
        for k in ks:
            metrics[f"{name}_k{k}"] = float(e[:, k].mean())
    bayes = None
    if cfg.family in ("linear", "noisy_linear") and sampler.pool is None:
        bayes = base_err["ridge"] if cfg.sigma2 > 0 else base_err["least_squares"]
    if bayes is not None:
        r, rl, rh = bootstrap_ratio_ci(err, bayes, n_boot=cfg.n_boot, generator=g_boot)
        for k in ks:
            metrics[f"bayes_k{k}"] = float(bayes[:, k].mean())
            if k > 0 and float(bayes[:, k].mean()) > 1e-8:
                metrics[f"excess_ratio_k{k}"], metrics[f"excess_ratio_k{k}_ci_low"], metrics[f"excess_ratio_k{k}_ci_high"] = (
                    float(r[k]), float(rl[k]), float(rh[k]))
    if sampler.pool is not None:
        xp, yp, wp = sampler.sample(cfg.eval_prompts, g_eval)
        with torch.no_grad():
            pp = model(xp.to(device), yp.to(device)).cpu()
        ep = normalised_errors(pp, sampler.clean(xp, wp), norm)
        for k in ks:
            metrics[f"err_pool_k{k}"] = float(ep[:, k].mean())
        if "dmmse" in base:
            dm_err = normalised_errors(bl.discrete_mmse(xp, yp, sampler.pool, cfg.sigma2), sampler.clean(xp, wp), norm)
            r, rl, rh = bootstrap_ratio_ci(ep, dm_err, n_boot=cfg.n_boot, generator=g_boot)
            for k in range(1, cfg.k + 1):
                metrics[f"bayes_pool_k{k}"] = float(dm_err[:, k].mean())
                metrics[f"excess_ratio_pool_k{k}"] = float(r[k])
            metrics["dist_dmmse"] = float(normalised_errors(preds, base["dmmse"], norm)[:, 1:].mean())
        if "ridge" in base:
            ridge_err = normalised_errors(bl.ridge(xp, yp, cfg.sigma2 / cfg.tau2), sampler.clean(xp, wp), norm)
            for k in ks:
                metrics[f"ridge_pool_k{k}"] = float(ridge_err[:, k].mean())
        if "dmmse" in base and "ridge" in base:
            metrics["dist_dmmse_ridge"] = float(normalised_errors(base["dmmse"], base["ridge"], norm)[:, 1:].mean())
    if "ridge" in base:
        metrics["dist_ridge"] = float(normalised_errors(preds, base["ridge"], norm)[:, 1:].mean())
    curves = _theory_curves(cfg, sampler)
    for name, v in curves.items():
        key = name.split(" ")[0]
        for k in ks:
            metrics[f"theory_{key}_k{k}"] = float(v[k])
    if isinstance(model, LinearSelfAttention):
        target = torch.diag(1 / theory.zfb_gamma(sampler.lam, cfg.k, cfg.sigma2, cfg.tau2))
        learned = model.effective_gamma_inv().detach().cpu().double()
        metrics["lsa_gamma_cosine"] = gamma_cosine(learned, target)
        metrics["lsa_gamma_relerr"] = float((learned - target).norm() / target.norm())
        # exact population risk at k examples of the learned preconditioner (off-diagonal blocks ignored)
        metrics["lsa_population_risk"] = theory.preconditioned_gd_risk(sampler.lam, learned, cfg.k, cfg.sigma2, cfg.tau2)
        metrics["theory_lsa_risk"] = theory.lsa_risk(cfg.d, cfg.k, sigma2=cfg.sigma2, tau2=cfg.tau2, eigenvalues=sampler.lam)

    shown = {n: e.mean(0) for n, e in base_err.items() if n != "least_squares" or cfg.sigma2 == 0}
    if cfg.sigma2 > 0:  # least squares diverges near k = d; draw it only where finite-variance
        shown["least_squares"] = torch.where(torch.tensor([abs(k - cfg.d) > 1 for k in ks]),
                                             base_err["least_squares"].mean(0), torch.tensor(float("nan")))
    title = (f"{cfg.model} on {cfg.family}, d={cfg.d}, sigma2={cfg.sigma2}, M={cfg.n_tasks or 'inf'}; "
             f"{cfg.eval_prompts} prompts, 95% bootstrap CI")
    plot_icl(run_dir / "icl.png", ks, {"mean": mean, "low": low, "high": high, "label": cfg.model}, shown,
             curves, title=title)
    # inf (least squares at k ~ d with noise) and nan have no JSON number: left out
    return {k: v for k, v in metrics.items() if math.isfinite(v)}
