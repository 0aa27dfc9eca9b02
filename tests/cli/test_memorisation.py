"""scripts/memorisation.py (issue 15, item 4): bad arguments refused in one line, the transition rule on tables
with a known answer, and the study end to end at toy size -- two disjoint training sets per (n, seed), the
splits compared, the table reading back what the runs wrote."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from genlab.cli.study import M_CHANCE
from genlab.cli import memorisation as mem
from genlab.core.seeding import derive_seed, make_generator
from genlab.diffusion.memorization import distance_to_training, memorization_fraction
from genlab.run.data import training_points

ROOT = Path(__file__).resolve().parents[2]
#: toy runs: the default t0 kept, so that the empirical-optimal score lands on its own training points
TOY = ["eval.m=48", "eval.reps=2", "diffusion.batch_size=32", "diffusion.sampler_steps=32",
       "diffusion.likelihood_steps=4", "diffusion.warmup_steps=1", "eval.kde_reference=false",
       "diffusion.t0_metrics=false", "diffusion.score_error_times=[]"]
NS = (16, 32)


@pytest.mark.parametrize("args, message", [
    (["n=16,abc"], "n must be integers"),
    (["n=1"], "n must be >= 2"),
    (["seeds=0"], "seeds must be >= 1"),
    (["seeds=1,2"], "seeds is one integer"),
    (["widths=0"], "widths must be >= 1"),
    (["recipe=kde_gmm"], "recipe must be one of diffusion_gmm, diffusion_subspace"),
    (["seed=3"], "seed is set by the study"),
    (["data_split=1"], "data_split is set by the study"),
    (["diffusion.width=32"], "diffusion.width is set by the study"),
    (["diffusion.steps=10"], "diffusion.steps is set by the study"),
    (["diffusion.score_bandwidth=0.3"], "diffusion.score_bandwidth is set by the study"),
    (["bogus"], "is not key=value"),
    (["diffusion.widht=3"], "widht"),
    (["eval.m=-4"], "eval.m"),
])
def test_bad_arguments_are_one_line_errors_with_exit_2_before_any_run(tmp_path, capsys, args, message):
    assert mem.main([*args, f"out_dir={tmp_path / 'study'}"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and message in err, err
    assert not (tmp_path / "study").exists()


def test_the_script_exits_2_on_a_bad_argument(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "memorisation.py"), "recipe=diffusion_subspace",
                           "n=16", "out_dir=" + str(tmp_path / "study"), "diffusion.checkpoint_every=5"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "diffusion.checkpoint_every is set by the study" in done.stderr
    assert not (tmp_path / "study").exists()


def test_defaults_are_the_issues_grid_two_widths_and_the_recipes_steps():
    gmm, sub = mem._parse([]), mem._parse(["recipe=diffusion_subspace"])
    assert gmm.ns == [2 ** k for k in range(4, 15)] and gmm.widths == [64, 256] and gmm.seeds == [0, 1, 2]
    assert gmm.steps == [6000] and sub.steps == [4000]
    assert gmm.to_truth == "tv" and sub.to_truth == "w1"  # the subspace law has no density on R^10
    assert gmm.out_dir != sub.out_dir  # run names do not carry the recipe: two studies must not share runs
    names = [e.name for e in gmm.estimators]
    assert names == ["net_w64_k6000", "net_w256_k6000", "empirical", "kde"]
    assert "diffusion.checkpoint_every=6000" in gmm.estimators[1].overrides


# --- the transition rule -------------------------------------------------------------------------------------

def test_transition_is_the_start_of_the_last_unbroken_generalising_stretch():
    # excess memorisation over chance (mean, 95% half-width): significant where mean - half > 0
    excess = [(16, 0.8, 0.05), (32, 0.5, 0.1), (64, 0.02, 0.05), (128, 0.1, 0.03), (256, 0.01, 0.02),
              (512, -0.01, 0.01)]
    # 64 is at chance, but 128 memorises again: n* is 256, not 64
    assert mem.transition_n(excess, 0.0, True) == 256
    assert mem.transition_n(excess[::-1], 0.0, True) == 256  # the order of the rows does not matter
    # d(train) / d(fresh): memorising where mean + half < 1; a NaN half-width (one seed) reads the mean alone
    ratio = [(16, 0.3, 0.1), (32, 0.9, 0.2), (64, 0.97, 0.01), (128, 1.0, 0.05), (256, 1.02, math.nan)]
    assert mem.transition_n(ratio, 1.0, False) == 128
    assert mem.transition_n([(16, 0.99, math.nan)], 1.0, False) is None
    # an interval that just touches the level counts as not told apart from it
    assert mem.transition_n([(16, 0.9, 0.1), (32, 1.1, 0.1)], 1.0, False) == 16
    assert mem.transition_n([(16, 0.1, 0.1), (32, 0.3, 0.1)], 0.0, True) is None  # the largest n memorises
    assert mem.transition_n([], 0.0, True) is None


def test_transitions_per_estimator_and_their_markdown(tmp_path):
    study = mem.Study(recipe="diffusion_gmm", ns=[16, 32, 64], seeds=[0, 1], widths=[8], steps=[2], jobs=1,
                      out_dir=tmp_path, forward=[])
    ci = lambda mean, half=0.01: (mean, half, 2)  # noqa: E731
    nan = (math.nan, math.nan, 2)
    table = {}
    for name, excess, ratio in (("net_w8_k2", [0.5, 0.0, 0.0], [0.4, 1.0, 1.0]),
                                ("empirical", [0.9, 0.9, 0.9], [0.1, 0.1, 0.1]),
                                ("kde", [0.0, 0.0, 0.0], [1.0, 1.0, 1.0])):
        for n, e, r in zip(study.ns, excess, ratio):
            table[name, n] = {"excess": ci(e), "nn_ratio": ci(r), "memorisation": ci(e + 0.1), "chance": ci(0.1),
                              "to_truth": ci(0.2), "to_truth_floor": nan, "between_tv": ci(0.3),
                              "between_tv_floor": nan, "between_sliced_w1": ci(0.1),
                              "between_sliced_w1_floor": nan, "wall": ci(1.0)}
    assert mem.transitions(table, ["net_w8_k2", "empirical", "kde"]) == {
        "net_w8_k2": (32, 32), "empirical": (None, None), "kde": (16, 16)}
    text = mem.markdown(table, study)
    assert "| network, width 8, 2 steps | 32 | 32 |" in text
    assert "| empirical-optimal score | > 64 | > 64 |" in text and "| KDE score, held-out h | ≤ 16 | ≤ 16 |" in text


# --- the study end to end ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    out = tmp_path_factory.mktemp("memorisation") / "study"
    code = mem.main([f"n={','.join(map(str, NS))}", "widths=16", "steps=2", "seeds=1", f"out_dir={out}", *TOY])
    return code, mem._parse([f"n={','.join(map(str, NS))}", "widths=16", "steps=2", "seeds=1", f"out_dir={out}",
                             *TOY])


@pytest.mark.slow
def test_the_study_runs_both_splits_of_every_estimator_and_compares_them(toy):
    code, study = toy
    assert code == 0
    runs = sorted(p.name for p in study.out_dir.iterdir() if p.is_dir() and p.name != "compare")
    assert runs == sorted(f"{e}_n{n}_s0_split{k}" for e in ("net_w16_k2", "empirical", "kde") for n in NS
                          for k in (0, 1))
    net = yaml.safe_load((study.out_dir / "net_w16_k2_n32_s0_split1" / "config.yaml").read_text())["diffusion"]
    assert net["width"] == 16 and net["steps"] == 2 and net["checkpoint_every"] == 2
    assert (study.out_dir / "net_w16_k2_n32_s0_split1" / "checkpoints" / "last.pt").is_file()
    # kde: one bandwidth for both splits (compare_runs compares runs of one setting), the held-out one
    truth = mem._truth(study.recipe, study.forward)
    for n in NS:
        used = {yaml.safe_load((study.out_dir / f"kde_n{n}_s0_split{k}" / "config.yaml").read_text())
                ["diffusion"]["score_bandwidth"] for k in (0, 1)}
        assert used == {mem.held_out_score_bandwidth(truth, n, 0)}
    assert (study.out_dir / "memorisation.md").read_text().count("\n") == 2 + 3 * len(NS) + 1 + 2 + 3
    assert (study.out_dir / "memorisation.png").stat().st_size > 0
    # a second call finds every run and comparison done
    assert mem.run_missing(study, truth) == [] and mem.compare_missing(study) == []


@pytest.mark.slow
def test_split_0_and_split_1_runs_trained_on_disjoint_sets(toy):
    _, study = toy
    truth = mem._truth(study.recipe, study.forward)
    for n in NS:
        cfgs = [yaml.safe_load((study.out_dir / f"empirical_n{n}_s0_split{k}" / "config.yaml").read_text())
                for k in (0, 1)]
        assert [c["data_split"] for c in cfgs] == [0, 1] and cfgs[0]["seed"] == cfgs[1]["seed"] == 0
        x = [training_points(truth, n, 0, k).to(torch.float64) for k in (0, 1)]
        assert x[0].shape == x[1].shape == (n, 2)
        assert torch.cdist(x[0], x[1]).min() > 0  # no point of one split is in the other
        # the empirical-optimal score reproduces its own split's points, not the other's
        for k in (0, 1):
            samples = torch.as_tensor(np.load(study.out_dir / f"empirical_n{n}_s0_split{k}" / "samples.npz")
                                      ["samples"], dtype=torch.float64)
            assert distance_to_training(samples, x[k], x[1 - k])["nn_dist_ratio"] < 0.5


@pytest.mark.slow
def test_the_table_reads_back_the_runs_and_the_comparisons(toy):
    _, study = toy
    table = mem.collect(study)
    assert set(table) == {(e, n) for e in ("net_w16_k2", "empirical", "kde") for n in NS}
    runs = [json.loads((study.out_dir / f"kde_n16_s0_split{k}" / "metrics.json").read_text()) for k in (0, 1)]
    assert table["kde", 16]["to_truth"][0] == pytest.approx(np.mean([r["tv"] for r in runs]), abs=1e-15)
    assert table["kde", 16]["to_truth_floor"][0] == max(r["tv_floor"] for r in runs)
    assert table["kde", 16]["memorisation"][0] == pytest.approx(
        np.mean([r["memorization_fraction"] for r in runs]), abs=1e-15)
    between = json.loads((study.out_dir / "compare" / "net_w16_k2_n32_s0.json").read_text())
    assert table["net_w16_k2", 32]["between_tv"][0] == between["tv"]
    assert table["net_w16_k2", 32]["between_sliced_w1_floor"][0] == between["sliced_w1_floor"]
    # the chance level: fresh truth points against each split's training set, averaged over the splits
    truth = mem._truth(study.recipe, study.forward)
    chance = truth.sample(M_CHANCE, generator=make_generator(derive_seed(0, "chance"))).to(torch.float64)
    expected = np.mean([memorization_fraction(chance, mem.training_set(truth, 32, 0, k)) for k in (0, 1)])
    assert table["empirical", 32]["chance"][0] == pytest.approx(expected, abs=1e-15)
    # the full memoriser: well above chance, its two laws far apart, each sample near its own training set
    emp = table["empirical", 16]
    assert emp["memorisation"][0] > emp["chance"][0] + 0.2 and emp["nn_ratio"][0] < 0.5
    assert emp["between_tv"][0] > 0.5
