"""The catalogue of bad inputs: each gives one clear line, a non-zero exit, and loses no file.

Command-line cases run `genlab.cli.train.main_entry` / `genlab.cli.rates.main` in
process (the same code the scripts run) and check the exit status, stderr of a
single line holding the expected words, and that every file present in the
output directory before the call is there afterwards, byte for byte.  Library
cases (truths, metrics) check a one-line ValueError naming the argument.
"""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

import metrics as M
from genlab.config.compose import compose_config
from genlab.cli.train import main_entry
from genlab.distributions import GaussianMixture
from genlab.run.compare import compare_runs
from genlab.run.pipeline import run

DIFF_TINY = ["recipe=diffusion_gmm", "n=64", "eval.m=48", "eval.reps=2", "eval.kde_reference=false",
             "eval.metrics=[tv]", "diffusion.steps=4", "diffusion.checkpoint_every=2", "diffusion.batch_size=32",
             "diffusion.width=16", "diffusion.sampler_steps=4", "diffusion.likelihood_steps=2",
             "diffusion.score_error_m=32", "diffusion.warmup_steps=1", "eval.floor_cache=null",
             "progress=false", "device=cpu"]


@pytest.fixture(scope="module")
def unfinished(tmp_path_factory):
    """A diffusion run dir as a kill after its checkpoint leaves it: config + checkpoint, no metrics."""
    d = tmp_path_factory.mktemp("unfinished")
    run(OmegaConf.to_object(compose_config(DIFF_TINY)), d, progress=False)
    (d / "metrics.json").unlink()
    return d


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    d = tmp_path_factory.mktemp("complete")
    run(OmegaConf.to_object(compose_config(["recipe=empirical_gmm", "n=16", "eval.m=32", "eval.reps=2",
                                            "eval.metrics=[w1]", "eval.floor_cache=null"])), d, progress=False)
    return d


def _truncate(d):
    ck = d / "checkpoints" / "last.pt"
    ck.write_bytes(ck.read_bytes()[:100])


# (id, argv or None, words expected on the one line, how to prepare the out_dir or None)
CLI = [
    ("unknown recipe", ["recipe=nope"], "unknown recipe 'nope'; available:", None),
    ("no recipe", [], "no recipe given", None),
    ("misspelled key", ["recipe=kde_gmm", "eval.mm=3"], "unknown config key 'eval.mm'", None),
    ("misspelled group", ["recipe=kde_gmm", "kdee.c=1"], "unknown config key 'kdee'", None),
    ("misspelled key added with +", ["recipe=kde_gmm", "+kde.bandwith=0.5"], "unknown config key 'kde.bandwith'",
     None),
    ("new key added with +", ["recipe=kde_gmm", "+foo=1"], "unknown config key 'foo'", None),
    ("new key added with ++", ["recipe=kde_gmm", "++foo=1"], "unknown config key 'foo'", None),
    ("floor cache that is a file", ["recipe=kde_gmm", "eval.floor_cache=/proc/version"], "is not a directory", None),
    ("wrong type", ["recipe=kde_gmm", "n=lots"], "n: Value 'lots'", None),
    ("wrong type in a list", ["recipe=kde_gmm", "rates.n=[1,x]"], "rates.n", None),
    ("n = 0", ["recipe=kde_gmm", "n=0"], "n must be a positive integer", None),
    ("negative n", ["recipe=kde_gmm", "n=-3"], "n must be a positive integer", None),
    ("eval.m = 0", ["recipe=kde_gmm", "eval.m=0"], "eval.m must be a positive integer", None),
    ("eval.m = 1", ["recipe=kde_gmm", "eval.m=1"], "eval.m must be at least 2", None),
    ("n = 1 for a KDE", ["recipe=kde_gmm", "n=1"], "n must be at least 2 for estimator 'kde'", None),
    ("n = 1 for a diffusion", ["recipe=diffusion_gmm", "n=1"], "n must be at least 2 for estimator 'diffusion'",
     None),
    ("n = 10^12, past memory", ["recipe=empirical_gmm", "n=1000000000000"], "GiB for its points alone", None),
    ("n = 10^20, past int64", ["recipe=kde_gmm", "n=100000000000000000000"], "n = 100000000000000000000 with eval.m",
     None),
    ("eval.m = 10^11, past memory", ["recipe=empirical_gmm", "eval.m=100000000000"],
     "eval.m = 100000000000 (d = 2) needs at least", None),
    ("eval.reps = 0", ["recipe=kde_gmm", "eval.reps=0"], "eval.reps must be a positive integer", None),
    ("unknown estimator", ["recipe=kde_gmm", "estimator=vae"], "estimator must be one of", None),
    ("unknown metric", ["recipe=kde_gmm", "eval.metrics=[w9]"], "eval.metrics must be one of", None),
    ("no metric", ["recipe=kde_gmm", "eval.metrics=[]"], "eval.metrics is empty", None),
    ("density metric, no density", ["recipe=empirical_gmm", "eval.metrics=[kl]"], "needs the model's density", None),
    ("parameter the truth lacks", ["recipe=kde_gmm", "truth.s=2"], "truth 'gmm_anisotropic': s: unknown", None),
    ("negative sigma", ["recipe=kde_gmm", "truth.name=gmm_ring", "truth.sigma=-0.1"], "sigma must be > 0", None),
    ("NaN sigma", ["recipe=kde_gmm", "truth.name=gmm_ring", "truth.sigma=nan"], "sigma must be finite", None),
    ("dim = 0", ["recipe=kde_gmm", "truth.name=gmm_random", "truth.dim=0"], "dim must be a positive integer", None),
    ("s <= 0", ["recipe=kde_smooth", "truth.s=-1"], "s must be > 0", None),
    ("device", ["recipe=kde_gmm", "device=tpu"], "device must be auto, cpu or cuda", None),
    ("bandwidth <= 0", ["recipe=kde_gmm", "kde.bandwidth=0"], "kde.bandwidth must be > 0", None),
    ("t0 >= T", ["recipe=diffusion_gmm", "diffusion.t0=9"], "t0", None),
    ("t0 <= 0", ["recipe=diffusion_gmm", "diffusion.t0=0"], "t0", None),
    ("unknown sampler", ["recipe=diffusion_gmm", "diffusion.sampler=leapfrog"], "sampler must be one of", None),
    ("unknown target", ["recipe=diffusion_gmm", "diffusion.target=v"], "target", None),
    ("unknown score", ["recipe=diffusion_gmm", "diffusion.score=perfect"], "score must be one of", None),
    ("unknown likelihood precision", ["recipe=diffusion_gmm", "diffusion.likelihood_dtype=float16"],
     "likelihood_dtype must be one of", None),
    ("oracle score of a truth with no closed form", ["recipe=diffusion_oracle", "truth.name=smooth"],
     "oracle needs a truth", None),
    ("sampler-law TV of a stochastic sampler", ["recipe=diffusion_oracle", "diffusion.sampler=sde_euler"],
     "deterministic sampler", None),
    ("grid W1 of a truth with no box", ["recipe=kde_gmm", "eval.metrics=[w1_grid]"],
     "'w1_grid' needs a truth supported on a box", None),
    ("score network time width = 0", ["recipe=diffusion_lazy", "diffusion.time_width=0"],
     "diffusion.time_width must be a positive integer", None),
    ("unknown GAN loss", ["recipe=gan_ring", "gan.loss=wasserstein"], "gan.loss must be one of", None),
    ("GAN lr <= 0", ["recipe=gan_ring", "gan.lr=0"], "gan.lr must be > 0", None),
    ("GAN discriminator lr < 0", ["recipe=gan_ring", "gan.d_lr=-1e-3"], "gan.d_lr must be > 0", None),
    ("GAN pack = 0", ["recipe=gan_ring", "gan.pack=0"], "gan.pack must be a positive integer", None),
    ("GAN critic steps = 0", ["recipe=gan_grid", "gan.critic_steps=0"], "gan.critic_steps must be a positive", None),
    ("GAN beta1 = 1", ["recipe=gan_ring", "gan.beta1=1.0"], "gan.beta1 must be in [0, 1)", None),
    ("GAN negative penalty weight", ["recipe=gan_ring", "gan.gp_lambda=-10"], "gan.gp_lambda must be >= 0", None),
    ("GAN unknown activation", ["recipe=gan_ring", "gan.d_activation=sine"], "gan.d_activation must be one of",
     None),
    ("density metric of a GAN", ["recipe=gan_ring", "eval.metrics=[kl]"], "needs the model's density", None),
    ("icl d = 0", ["recipe=icl_noisy", "icl.d=0"], "d must be a positive integer", None),
    ("regression unknown parametrisation", ["recipe=ntk_lazy", "regression.parametrisation=muP"],
     "regression.parametrisation must be one of", None),
    ("regression width = 0", ["recipe=ntk_lazy", "regression.width=0"],
     "regression.width must be a positive integer", None),
    ("regression alpha <= 0", ["recipe=lazy_alpha", "regression.alpha=0"], "regression.alpha must be > 0", None),
    ("regression target of a dimension the inputs lack", ["recipe=regression_subspace", "regression.ambient_dim=1"],
     "regression.ambient_dim must be >= d = 2", None),
    ("regression Gram matrix past memory", ["recipe=regression_smooth_krr", "n=100000"],
     "over regression.max_gram_bytes = 2.00 GiB (refused before allocation)", None),
    ("regression metric of another model", ["recipe=regression_smooth", "eval.metrics=[kernel_drift]"],
     "'kernel_drift' needs regression.model=two_layer", None),
    ("regression flow reference of an early-stopped network", ["recipe=ntk_lazy", "regression.early_stopping=true"],
     "regression.flow_reference needs optimizer=gd and early_stopping=false", None),
    ("regression metric of another family", ["recipe=regression_smooth", "eval.metrics=[w1]"],
     "estimator regression reports", None),
    ("data_split other than 0 or 1", ["recipe=kde_gmm", "data_split=2"], "data_split must be null, 0 or 1", None),
    ("data_split of a family that draws its own data", ["recipe=icl_noisy", "data_split=0"],
     "data_split: estimator 'icl' draws its own data", None),
    ("bad value inside a sweep", ["-m", "recipe=kde_gmm", "n=100,0"], "n=0: n must be a positive integer", None),
    ("unwritable out_dir", ["recipe=kde_gmm", "out_dir=/proc/genlab/x"], "not writable", None),
    ("out_dir holds a complete run", ["recipe=empirical_gmm"], "holds a complete run", "complete"),
    ("skip_complete over a complete run of another n",
     ["recipe=empirical_gmm", "n=32", "eval.m=32", "eval.reps=2", "eval.metrics=[w1]", "eval.floor_cache=null",
      "skip_complete=true"], "differing keys: n", "complete"),
    ("skip_complete over another recipe's run", ["recipe=kde_gmm", "skip_complete=true", "eval.floor_cache=null"],
     "holds a complete run with other settings", "complete"),
    ("checkpoint without resume", DIFF_TINY, "resume=true continues it", "unfinished"),
    ("checkpoint of other settings", DIFF_TINY + ["resume=true", "diffusion.lr=0.5"],
     "differing keys: diffusion.lr", "unfinished"),
    ("checkpoint of another recipe", ["recipe=kde_gmm", "resume=true", "eval.floor_cache=null"],
     "differing keys:", "unfinished"),
    ("truncated checkpoint", DIFF_TINY + ["resume=true"], "checkpoint", "truncated"),
]

RATES = [
    ("sweep over an empty list", ["recipe=empirical_gmm", "rates.n=[]"], "rates.n is empty"),
    ("sweep over one size", ["recipe=empirical_gmm", "rates.n=[10]"], "at least two distinct sample sizes"),
    ("rate of a metric not evaluated", ["recipe=empirical_gmm", "rates.metrics=[tv]"], "rates.metrics"),
    ("zero seeds", ["recipe=empirical_gmm", "rates.seeds=0"], "rates.seeds must be a positive integer"),
    ("steps sweep over one value", ["recipe=diffusion_oracle", "rates.x_values=[64]"],
     "at least two distinct positive values"),
    ("sweep over the seed", ["recipe=diffusion_oracle", "rates.x=seed"], "rates.x cannot be 'seed'"),
    ("unknown replica mode", ["recipe=diffusion_gmm", "rates.replicas=always"], "rates.replicas must be one of"),
    ("swept key that does not exist", ["recipe=diffusion_oracle", "rates.x=diffusion.stepz"], "diffusion.stepz"),
    ("rates.out_dir that is a file", ["recipe=empirical_gmm", "rates.out_dir=/proc/version"], "is a file"),
    ("run directory names past the file-name limit",
     ["recipe=kde_gmm", "rates.metrics=[sliced_w1]", f"eval.metrics=[{','.join(['sliced_w1'] * 24)}]"],
     "the limit is 255"),
]

LIBRARY = [
    ("weights not summing to 1", lambda: GaussianMixture([0.5, 0.4], torch.zeros(2, 1), torch.ones(2, 1, 1)),
     "weights"),
    ("covariance not positive definite",
     lambda: GaussianMixture([1.0], torch.zeros(1, 2), torch.tensor([[[1.0, 2.0], [2.0, 1.0]]])), "covs"),
    ("means and covs of other dimensions",
     lambda: GaussianMixture([1.0], torch.zeros(1, 2), torch.eye(3)[None]), "covs"),
    ("NaN in data given to a metric", lambda: M.wasserstein(np.array([[0.0], [np.nan]]), np.zeros((2, 1))), "x"),
    ("mismatched dimensions", lambda: M.wasserstein(np.zeros((3, 2)), np.zeros((3, 3))), "dimension"),
    ("empty arrays", lambda: M.wasserstein(np.zeros((0, 2)), np.zeros((3, 2))), "x"),
    ("p < 1", lambda: M.wasserstein(np.zeros((3, 1)), np.ones((3, 1)), p=0.5), "p"),
    ("comparing runs that are not complete", lambda: compare_runs("/nonexistent/a", "/nonexistent/b"),
     "is not a complete run"),
    ("negative weights", lambda: M.wasserstein(np.zeros((2, 1)), np.ones((2, 1)), weights_x=[1.5, -0.5]),
     "weights_x"),
]


def _snapshot(d):
    return {p.relative_to(d): p.read_bytes() for p in d.rglob("*") if p.is_file()} if d else {}


def _one_line(err: str, words: str):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert words in lines[0], err
    assert "Traceback" not in err


@pytest.mark.parametrize("case", CLI, ids=[c[0] for c in CLI])
def test_command_line(case, tmp_path, monkeypatch, capsys, request):
    _, argv, words, prepare = case
    argv = list(argv)
    out = None
    if prepare:
        src = request.getfixturevalue("unfinished" if prepare == "truncated" else prepare)
        out = tmp_path / "run"
        shutil.copytree(src, out)
        if prepare == "truncated":
            _truncate(out)
        argv.append(f"out_dir={out}")
    before = _snapshot(out)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["train.py", *argv])
    with pytest.raises(SystemExit) as info:
        main_entry("train")
    assert info.value.code not in (0, None)
    _one_line(capsys.readouterr().err, words)
    after = _snapshot(out)
    assert {k: v for k, v in after.items() if k in before} == before, "a file that existed was changed"
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("metrics.json"))


@pytest.mark.parametrize("case", RATES, ids=[c[0] for c in RATES])
def test_rate_sweep(case, tmp_path, monkeypatch, capsys):
    from genlab.cli.rates import main

    _, argv, words = case
    monkeypatch.chdir(tmp_path)
    assert main(list(argv)) not in (0, None)
    _one_line(capsys.readouterr().err, words)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("case", LIBRARY, ids=[c[0] for c in LIBRARY])
def test_library(case):
    _, call, name = case
    with pytest.raises(ValueError) as info:
        call()
    text = str(info.value)
    assert "\n" not in text and name in text, text


def test_the_catalogue_has_at_least_30_cases():
    assert len(CLI) + len(RATES) + len(LIBRARY) >= 30
