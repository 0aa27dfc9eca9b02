"""scripts/score_regimes.py (issue 17, item 6): bad arguments refused in one line, the five estimators run
end to end at toy size, and the table reads back what the runs wrote."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from genlab.cli.study import M_CHANCE
from genlab.cli import score_regimes as sr
from genlab.core.seeding import derive_seed, make_generator
from genlab.diffusion.memorization import memorization_fraction

ROOT = Path(__file__).resolve().parents[2]
TOY = ["eval.m=48", "eval.reps=2", "diffusion.steps=2", "diffusion.batch_size=32", "diffusion.width=16",
       "diffusion.sampler_steps=4", "diffusion.likelihood_steps=2", "diffusion.score_error_m=32",
       "diffusion.warmup_steps=1", "diffusion.t0=0.05"]


@pytest.mark.parametrize("args, message", [
    (["n=1000,abc"], "must be integers"),
    (["n=1"], "n must be >= 2"),
    (["seeds=0"], "seeds, jobs >= 1"),
    (["recipe=kde_gmm"], "recipe is set by the study"),
    (["seed=3"], "seed is set by the study"),
    (["diffusion.score=oracle"], "diffusion.score is set by the study"),
    (["bogus"], "is not key=value"),
    (["diffusion.widht=3"], "widht"),
])
def test_bad_arguments_are_one_line_errors_with_exit_2_before_any_run(tmp_path, args, message):
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "score_regimes.py"), *args,
                           f"out_dir={tmp_path / 'study'}"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr
    assert not (tmp_path / "study").exists()


def test_held_out_bandwidth_is_the_held_out_rule_on_the_standardised_training_set_of_the_run():
    truth, x = sr._training_set(200, 1)
    drawn = truth.sample(200, generator=make_generator(derive_seed(1, "data"))).to(torch.float64)
    assert torch.equal(x, drawn)
    z = (x - x.mean(0)) / x.std(0)
    from genlab.baselines.bandwidth import held_out
    assert sr.held_out_score_bandwidth(200, 1) == held_out(z)


@pytest.mark.slow
def test_the_study_runs_every_estimator_at_toy_size_and_tabulates_what_they_wrote(tmp_path):
    out = tmp_path / "study"
    assert sr.main(["n=64,96", "seeds=1", f"out_dir={out}", *TOY]) == 0
    names = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert names == sorted(f"{e}_n{n}_s0" for e, _, _ in sr.ESTIMATORS for n in (64, 96))
    table = sr.collect(out, [64, 96], [0])
    cv = json.loads((out / "kde_cv_n64_s0" / "metrics.json").read_text())
    lazy = json.loads((out / "lazy_n96_s0" / "metrics.json").read_text())
    assert table["kde_cv", 64]["tv"][0] == cv["tv"] and table["lazy", 96]["tv"][2] == 1
    assert table["lazy", 96]["weight_movement"][0] == lazy["weight_movement"]
    assert math.isnan(table["kde", 64]["weight_movement"][0])  # no network, no weight movement
    # the chance level is the memorisation fraction of fresh truth points against the same training set
    truth, x = sr._training_set(64, 0)
    chance = truth.sample(M_CHANCE, generator=make_generator(derive_seed(0, "chance"))).to(torch.float64)
    assert table["network", 64]["memorisation_chance"][0] == memorization_fraction(chance, x)
    text = (out / "score_regimes.md").read_text()
    assert text.count("\n") == 2 * (2 + 10) + 1 and "KDE score, held-out h" in text
    assert (out / "score_regimes.png").stat().st_size > 0
    # the bandwidth the kde_cv run used is the held-out one, to 3 significant digits
    import yaml
    used = yaml.safe_load((out / "kde_cv_n96_s0" / "config.yaml").read_text())["diffusion"]["score_bandwidth"]
    assert used == float(f"{sr.held_out_score_bandwidth(96, 0):.3g}")
    # a second call finds every run complete and runs nothing
    assert sr.run_missing(out, [64, 96], [0], 1, TOY) == []
