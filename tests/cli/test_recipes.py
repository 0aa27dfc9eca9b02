"""Every recipe composes against the schema and runs end to end at toy size (CONTRIBUTING.md, "Adding a recipe")."""

from __future__ import annotations

import json
import os

import pytest
from omegaconf import OmegaConf

from genlab.config.compose import available_recipes, compose_config
from genlab.run.pipeline import run

# The device every recipe runs on here: cpu in CI; GENLAB_TEST_DEVICE=cuda checks the CUDA path on a GPU machine.
DEVICE = os.environ.get("GENLAB_TEST_DEVICE", "cpu")

# Toy sizes per family: enough to go through every stage (fit, sample, density, floors, files).
TINY = {
    "empirical": ["n=32", "eval.m=64", "eval.reps=2"],
    "kde": ["n=64", "eval.m=64", "eval.reps=2"],
    "diffusion": ["n=64", "eval.m=48", "eval.reps=2", "diffusion.steps=2", "diffusion.batch_size=32",
                  "diffusion.width=16", "diffusion.sampler_steps=4", "diffusion.likelihood_steps=2",
                  "diffusion.score_error_m=32", "diffusion.warmup_steps=1"],
    "gan": ["n=64", "eval.m=64", "eval.reps=2", "gan.steps=3", "gan.batch_size=16", "gan.g_width=8",
            "gan.d_width=8", "gan.monitor_every=2", "gan.monitor_m=32", "gan.checkpoint_every=2"],
    "icl": ["icl.steps=2", "icl.eval_prompts=1280", "icl.n_boot=50", "icl.bayes_mc=2000"],
    "regression": ["n=40", "regression.steps=3", "regression.eval_every=1", "regression.test_points=200",
                   "regression.kernel_points=8"],
}
# Recipes that need more than their family's toy sizes: the oracle's exact sampler law is only
# defined once the Heun steps stop folding space (64 steps on its mixture).
TINY_RECIPE = {"diffusion_oracle": ["diffusion.sampler_steps=64"]}


def test_there_are_recipes_for_every_issue_so_far():
    assert {"empirical_gmm", "empirical_uniform", "kde_gmm", "kde_smooth", "diffusion_gmm",
            "icl_lsa", "icl_noisy", "icl_linear", "icl_task_diversity",
            "diffusion_smooth", "diffusion_subspace", "diffusion_oracle", "diffusion_lazy",
            "gan_ring", "gan_grid", "gan_gmm", "gan_smooth",
            "regression_smooth", "regression_subspace", "ntk_lazy", "meanfield_single_index", "lazy_alpha",
            } <= set(available_recipes())


@pytest.mark.parametrize("recipe", available_recipes())
def test_recipe_name_matches_its_file_and_composes(recipe):
    cfg = compose_config([f"recipe={recipe}"])
    assert cfg.name == recipe
    OmegaConf.to_object(cfg)  # every value has the schema's type


@pytest.mark.parametrize("recipe", available_recipes())
def test_recipe_runs_at_toy_size(recipe, tmp_path):
    family = compose_config([f"recipe={recipe}"]).estimator
    cfg = OmegaConf.to_object(compose_config([f"recipe={recipe}", "eval.floor_cache=null", f"device={DEVICE}",
                                              *TINY[family], *TINY_RECIPE.get(recipe, [])]))
    result = run(cfg, tmp_path, progress=False)
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written == json.loads(json.dumps(result.metrics))
    assert (tmp_path / "config.yaml").is_file()
    if family == "icl":
        assert (tmp_path / "icl.png").is_file()
    else:
        picture = "regression.png" if family == "regression" else "samples.png"
        assert (tmp_path / picture).is_file()
        assert family == "regression" or (tmp_path / "samples.npz").is_file()
        for metric in cfg.eval.metrics:
            assert metric in written and f"{metric}_floor" in written
    if family == "gan":
        assert (tmp_path / "training.png").is_file() and (tmp_path / "checkpoints" / "last.pt").is_file()


@pytest.mark.parametrize("recipe", [r for r in available_recipes() if r.startswith("gan_")])
def test_every_gan_rate_sweep_is_drawn_beside_the_empirical_measure_and_theory(recipe):
    # issue 5: each GAN recipe runs under rates.py against the empirical-measure line and the theory exponents
    from genlab.sweep.report import theory_for

    cfg = compose_config([f"recipe={recipe}"])
    assert any(other.startswith("empirical_") for other in cfg.rates.compare)
    config = OmegaConf.to_container(cfg, resolve=True)
    for metric in cfg.rates.metrics:
        for estimator in ("gan", "empirical"):
            theory = theory_for(estimator, metric, config)
            assert theory is not None and theory["exponent"] < 0 and theory["source"], (estimator, metric)


@pytest.mark.parametrize("recipe, overrides", [
    ("kde_smooth", ["truth.dim=2"]), ("diffusion_smooth", ["truth.dim=2"]), ("gan_smooth", []),
    ("diffusion_subspace", []),
])
def test_every_smooth_recipe_in_d_at_least_2_has_a_non_separable_truth(recipe, overrides):
    # issue 14, item 4: over a product of 1-D factors the minimax rates are the 1-D ones.  A
    # product's log-density has zero mixed differences log p(x + a e_i + b e_l) - log p(x + a e_i)
    # - log p(x + b e_l) + log p(x) up to rounding (~1e-15); the recipes' truth has them of order
    # its amplitude (asserted >= 1e-3 in RMS) for every pair of (intrinsic) coordinates.
    import torch

    from genlab.config import truth_kwargs
    from genlab.distributions import SmoothJointDensity, make_truth

    cfg = OmegaConf.to_object(compose_config([f"recipe={recipe}", *overrides]))
    truth = make_truth(cfg.truth.name, **truth_kwargs(cfg.truth))
    law = getattr(truth, "base", truth)           # the subspace truth's intrinsic density
    assert type(law) is SmoothJointDensity and law.dim >= 2
    x = torch.rand(400, law.dim, generator=torch.Generator().manual_seed(0), dtype=torch.float64) - 0.5
    for i in range(law.dim):
        for l in range(i + 1, law.dim):
            ei, el = torch.zeros(law.dim, dtype=torch.float64), torch.zeros(law.dim, dtype=torch.float64)
            ei[i], el[l] = 0.3, 0.3
            mixed = law.log_prob(x + ei + el) - law.log_prob(x + ei) - law.log_prob(x + el) + law.log_prob(x)
            assert mixed.pow(2).mean().sqrt() >= 1e-3, (recipe, i, l)
