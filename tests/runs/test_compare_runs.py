"""`genlab.run.compare.compare_runs`: the distance between two finished runs' laws, against exact answers."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
import yaml
from omegaconf import OmegaConf

import metrics as M
from genlab.config.compose import compose_config
from genlab.core.seeding import derive_seed, make_generator
from genlab.diffusion.restore import restore_diffusion
from genlab.run.compare import compare_runs, load_run_config
from genlab.run.data import training_points
from genlab.run.pipeline import run
from genlab.run.validate import build_truth
from genlab.baselines.family import restore_kde

KDE = ["recipe=kde_gmm", "n=32", "eval.m=400", "eval.reps=3", "eval.metrics=[w1]", "kde.bandwidth=0.4",
       "eval.kde_reference=false", "eval.floor_cache=null", "progress=false", "device=cpu"]
DIFF = ["recipe=diffusion_gmm", "n=48", "eval.m=48", "eval.reps=2", "eval.kde_reference=false",
        "eval.metrics=[sliced_w1]", "diffusion.steps=6", "diffusion.checkpoint_every=3", "diffusion.batch_size=32",
        "diffusion.width=16", "diffusion.sampler_steps=8", "diffusion.likelihood_steps=4",
        "diffusion.score_error_times=[]", "diffusion.warmup_steps=1", "diffusion.t0_metrics=false",
        "eval.floor_cache=null", "progress=false", "device=cpu"]


def _run(tmp_path_factory, name, argv):
    d = tmp_path_factory.mktemp(name)
    run(OmegaConf.to_object(compose_config(argv)), d, progress=False)
    return d


@pytest.fixture(scope="module")
def kde_runs(tmp_path_factory):
    return {s: _run(tmp_path_factory, f"kde{s}", KDE + [f"data_split={s}"]) for s in (0, 1)}


@pytest.fixture(scope="module")
def diff_runs(tmp_path_factory):
    runs = {s: _run(tmp_path_factory, f"diff{s}", DIFF + [f"data_split={s}"]) for s in (0, 1)}
    runs["again"] = _run(tmp_path_factory, "diffagain", DIFF + ["data_split=0"])
    return runs


def test_two_kde_runs_tv_contains_the_quadrature_value(kde_runs):
    out = compare_runs(kde_runs[0], kde_runs[1], metrics=["tv"], m=4000)
    laws = []
    for s in (0, 1):
        _, cfg = load_run_config(kde_runs[s])
        truth = build_truth(cfg)
        laws.append(restore_kde(cfg, truth, training_points(truth, cfg.n, cfg.seed, s), kde_runs[s], device="cpu"))
    exact = M.tv_quadrature(*(lambda x, law=law: law.log_prob(torch.as_tensor(x)).numpy() for law in laws),
                            [(-6.0, 6.0), (-6.0, 6.0)], n_grid=192)
    assert exact.ci_high - exact.ci_low < 1e-6  # the box holds both laws: the quadrature is the answer
    tv = out["tv"]
    assert tv.ci_low <= exact.value <= tv.ci_high, (tv, exact)
    assert 0.1 < exact.value < 0.9  # two KDEs on 32 disjoint points each: neither equal nor apart
    assert tv.floor == pytest.approx(0.5 * (tv.ci_high - tv.ci_low))


def test_a_kde_draws_its_own_law_so_the_interval_is_not_widened(kde_runs):
    est = compare_runs(kde_runs[0], kde_runs[1], metrics=["tv"], m=500)["tv"]
    assert "widened by 0," in est.note


def test_a_restored_model_is_the_runs_model(diff_runs, kde_runs):
    saved = np.load(diff_runs[1] / "samples.npz")["samples"]
    _, cfg = load_run_config(diff_runs[1])
    truth = build_truth(cfg)
    model = restore_diffusion(cfg, truth, training_points(truth, cfg.n, cfg.seed, 1), diff_runs[1])
    x = model.sample(cfg.eval.m, generator=make_generator(derive_seed(cfg.seed, "sample")))
    assert np.array_equal(x.numpy(), saved)
    saved = np.load(kde_runs[1] / "samples.npz")["samples"]
    _, cfg = load_run_config(kde_runs[1])
    law = restore_kde(cfg, truth, training_points(truth, cfg.n, cfg.seed, 1), kde_runs[1], device="cpu")
    g = make_generator(derive_seed(cfg.seed, "sample"))
    np.testing.assert_array_equal(law.sample_with_log_prob(cfg.eval.m, g)[0].numpy(), saved)


def test_two_runs_of_one_split_are_at_distance_zero(diff_runs):
    out = compare_runs(diff_runs[0], diff_runs["again"], metrics=["tv", "sliced_w1", "w1"], m=32)
    assert out["tv"].value == 0.0 and out["tv"].ci_low == 0.0
    assert out["w1"].value == 0.0 and out["sliced_w1"].value == 0.0
    assert out["w1"].floor > 0.0


def test_two_splits_are_apart_and_the_sample_distance_has_the_runs_floor(diff_runs):
    out = compare_runs(diff_runs[0], diff_runs[1], m=32)
    assert list(out) == ["tv", "sliced_w1", "w1"]
    assert 0.0 < out["tv"].value <= 1.0 and out["tv"].ci_low <= out["tv"].value <= out["tv"].ci_high
    floor = json.loads((diff_runs[0] / "metrics.json").read_text())["sliced_w1_floor"]
    assert out["sliced_w1"].floor == floor  # the same truth samples at the same m as the run's own floor


def test_runs_of_other_settings_are_refused_naming_the_key(diff_runs, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(diff_runs[0], other)
    saved = yaml.safe_load((other / "config.yaml").read_text())
    saved["diffusion"]["lr"], saved["data_split"], saved["device"] = 0.5, 1, "auto"
    (other / "config.yaml").write_text(yaml.safe_dump(saved))
    with pytest.raises(ValueError, match=r"differ in more than data_split and device: diffusion.lr$"):
        compare_runs(diff_runs[0], other)


def test_bad_inputs_are_one_line_errors(diff_runs, tmp_path):
    unfinished = tmp_path / "unfinished"
    shutil.copytree(diff_runs[0], unfinished)
    (unfinished / "metrics.json").unlink()
    bare = tmp_path / "bare"
    shutil.copytree(diff_runs[0], bare)
    shutil.rmtree(bare / "checkpoints")
    cases = [((diff_runs[0], unfinished), {}, "is not a complete run (no metrics.json)"),
             ((diff_runs[0], bare), {"metrics": ["tv"]}, "diffusion.checkpoint_every > 0"),
             ((diff_runs[0], diff_runs[1]), {"metrics": ["kl"]}, "metrics must be among tv"),
             ((diff_runs[0], diff_runs[1]), {"metrics": []}, "metrics is empty")]
    for args, kwargs, words in cases:
        with pytest.raises(ValueError) as info:
            compare_runs(*args, **kwargs)
        assert words in str(info.value) and "\n" not in str(info.value)


def test_tv_of_a_model_without_a_density_is_refused(tmp_path_factory):
    argv = ["recipe=empirical_gmm", "n=16", "eval.m=32", "eval.reps=2", "eval.metrics=[w1]", "eval.floor_cache=null"]
    a, b = (_run(tmp_path_factory, f"emp{s}", argv + [f"data_split={s}"]) for s in (0, 1))
    with pytest.raises(ValueError, match="'tv' needs both runs' densities, and estimator 'empirical' restores none"):
        compare_runs(a, b, metrics=["tv"])
    out = compare_runs(a, b)
    assert list(out) == ["sliced_w1", "w1"] and out["w1"].value > 0.0
