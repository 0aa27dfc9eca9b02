"""scripts/task_diversity.py (issue 15, item 5): bad arguments refused in one line, the threshold rule M* on
tables with a known answer, the study end to end at toy size, and the task pool of each run being the one
its seed says: tau N(0, I) drawn from the stream derive_seed(seed, "icl_pool")."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from genlab.cli import task_diversity as td
from genlab.core.seeding import derive_seed, make_generator
from genlab.icl import baselines as bl
from genlab.icl.config import ICLConfig
from genlab.icl.evaluate import normalised_errors
from genlab.icl.run import make_prompt_sampler

ROOT = Path(__file__).resolve().parents[2]
#: toy runs: tests/cli/test_recipes.py's TINY["icl"], and a one-block transformer
TOY = ["icl.steps=2", "icl.eval_prompts=1280", "icl.n_boot=50", "icl.bayes_mc=2000", "icl.depth=1",
       "icl.width=8", "icl.warmup_steps=1"]
MS = (1, 4, 0)


@pytest.mark.parametrize("args, message", [
    (["M=1,abc"], "M must be integers"),
    (["M=-4"], "M must be >= 0"),
    (["seeds=0"], "seeds must be >= 1"),
    (["seeds=1,2"], "seeds is one integer"),
    (["jobs=0"], "jobs must be >= 1"),
    (["recipe=icl_noisy"], "recipe is set by the study"),
    (["icl.n_tasks=64"], "icl.n_tasks is set by the study"),
    (["seed=3"], "seed is set by the study"),
    (["icl.family=linear"], "icl.family is set by the study"),
    (["icl.sigma2=0"], "icl.sigma2 must be > 0"),
    (["bogus"], "is not key=value"),
    (["icl.stpes=3"], "stpes"),
    (["icl.eval_prompts=10"], "icl.eval_prompts"),
])
def test_bad_arguments_are_one_line_errors_with_exit_2_before_any_run(tmp_path, capsys, args, message):
    assert td.main([*args, f"out_dir={tmp_path / 'study'}"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and message in err, err
    assert not (tmp_path / "study").exists()


def test_the_script_exits_2_on_a_bad_argument(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "task_diversity.py"), "M=1,0",
                           "out_dir=" + str(tmp_path / "study"), "progress=true"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "progress is set by the study" in done.stderr
    assert not (tmp_path / "study").exists()


def test_defaults_are_the_issues_grid_and_a_few_minute_model():
    study = td._parse([])
    finite = [m for m in study.ms if m > 0]
    # at least 8 values from 1 to 2^15, plus the unbounded pool, drawn last
    assert len(finite) >= 8 and min(finite) == 1 and max(finite) == 2 ** 15 and study.ms[-1] == 0
    assert study.seeds == [0, 1, 2] and study.jobs == 1 and study.k == 10
    assert study.overrides == ["icl.steps=5000"]
    # the command line's own value of a study default replaces it; other overrides join it
    assert td._parse(["icl.steps=300", "icl.eval_prompts=2560"]).overrides == ["icl.steps=300", "icl.eval_prompts=2560"]
    assert td._parse(["icl.k=6"]).k == 6
    assert td._parse(["M=16,0,4,16"]).ms == [4, 16, 0]  # sorted, repeats dropped, the unbounded pool last
    assert td.run_name(0, 2) == "Minf_s2" and td.run_name(4096, 0) == "M4096_s0"


# --- the threshold rule ----------------------------------------------------------------------------------------

def test_threshold_is_the_start_of_the_last_unbroken_ridge_stretch():
    # Delta = dist_dmmse - dist_ridge (mean, 95% half-width) per M; > 0 is closer to ridge
    rows = [(1, -0.5, 0.05), (4, -0.3, 0.05), (16, 0.2, 0.05), (64, -0.01, 0.05), (256, 0.1, 0.05),
            (1024, 0.3, 0.02), (4096, 0.2, math.nan), (0, -9.0, 0.1)]
    # significantly closer to ridge (mean - half > 0) from 256 on; 16 is, but 64 is not: M* is 256, not 16;
    # the unbounded pool (M = 0, no dMMSE) takes no part, however its row reads
    assert td.threshold_m(rows, True) == 256
    # never significantly closer to dMMSE (mean + half >= 0): 64 is not told apart from 0, so 16 on
    assert td.threshold_m(rows, False) == 16
    assert td.threshold_m(rows[::-1], True) == 256  # the order of the rows does not matter
    # an interval that just touches 0 is not significant for the first reading and is enough for the second
    assert td.threshold_m([(1, -0.1, 0.1), (4, 0.1, 0.1)], True) is None
    assert td.threshold_m([(1, -0.1, 0.1), (4, 0.1, 0.1)], False) == 1
    # one seed: the mean alone
    assert td.threshold_m([(1, -0.1, math.nan), (4, 0.1, math.nan)], True) == 4
    # the largest M still closer to dMMSE: M* beyond the grid; a missing mean breaks the stretch
    assert td.threshold_m([(1, 0.2, 0.1), (4, -0.2, 0.1)], False) is None
    assert td.threshold_m([(1, 0.2, 0.1), (4, math.nan, math.nan), (16, 0.2, 0.1)], False) == 16
    assert td.threshold_m([], True) is None and td.threshold_m([(0, 1.0, 0.1)], True) is None


def _table(deltas: dict) -> dict:
    """A collect() table with the given Delta per M (half-width 0.01, 3 seeds); M = 0 without pool numbers."""
    nan = (math.nan, math.nan, 0)
    table = {}
    for m, delta in deltas.items():
        v = {key: (0.5, 0.01, 3) for key in (*td.RUN_KEYS, "wall")}
        v["delta"] = (delta, 0.01, 3) if m else nan
        if m == 0:
            v.update({key: nan for key in ("err_pool", "dmmse_pool", "dmmse", "ridge_pool", "dist_dmmse",
                                           "dist_dmmse_ridge")})
        table[m] = v
    return table


def test_thresholds_and_markdown(tmp_path):
    study = td.Study(ms=[1, 4, 16, 64, 0], seeds=[0, 1, 2], jobs=1, out_dir=tmp_path, overrides=[], k=10)
    table = _table({1: -0.2, 4: 0.005, 16: 0.1, 64: 0.2, 0: None})
    assert td.thresholds(table) == (16, 4)
    text = td.markdown(table, study)
    assert "M*(ridge: significantly closer to ridge from here on) = 16;" in text
    assert "M*(not dMMSE: never significantly closer to dMMSE from here on) = 4" in text
    # the unbounded pool: fresh-task numbers and dist_ridge only, last
    rows = [line for line in text.splitlines() if line.startswith("| ∞")]
    assert rows == ["| ∞ (fresh w) | 3 | — | — | — | 0.5 ± 0.01 | — | 0.5 ± 0.01 | 0 |",
                    "| ∞ (fresh w) | — | 0.5 ± 0.01 | — | — |"]
    assert text.count("\n| 1 |") == 2 and text.index("| 64 |") < text.index("| ∞")
    # when every M qualifies, and when none does
    assert "= ≤ 1;" in td.markdown(_table({1: 0.2, 4: 0.2}), study)
    assert "= > 4;" in td.markdown(_table({1: -0.2, 4: -0.2}), study)
    td.plot_task_diversity(table, 10, td.thresholds(table), tmp_path / "task_diversity.png")
    assert (tmp_path / "task_diversity.png").stat().st_size > 0


# --- the study end to end --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    out = tmp_path_factory.mktemp("task_diversity") / "study"
    args = [f"M={','.join(map(str, MS))}", "seeds=2", f"out_dir={out}", *TOY]
    return td.main(args), td._parse(args)


def _cfg(run_dir: Path) -> tuple[ICLConfig, int]:
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    return ICLConfig(**cfg["icl"]), cfg["seed"]


@pytest.mark.slow
def test_the_study_runs_every_pool_size_and_seed_and_tabulates_them(toy):
    code, study = toy
    assert code == 0
    runs = sorted(p.name for p in study.out_dir.iterdir() if p.is_dir())
    assert runs == sorted(td.run_name(m, s) for m in MS for s in (0, 1))
    for m in MS:
        cfg, seed = _cfg(study.run_dir(m, 1))
        assert cfg.n_tasks == m and seed == 1 and cfg.steps == 2 and cfg.depth == 1
    table = td.collect(study)
    assert set(table) == set(MS)
    k = study.k
    for m in (1, 4):
        runs = [json.loads((study.run_dir(m, s) / "metrics.json").read_text()) for s in (0, 1)]
        assert table[m]["err_pool"][0] == pytest.approx((runs[0][f"err_pool_k{k}"] + runs[1][f"err_pool_k{k}"]) / 2,
                                                        abs=1e-15)
        deltas = [r["dist_dmmse"] - r["dist_ridge"] for r in runs]
        assert table[m]["delta"][0] == pytest.approx(sum(deltas) / 2, abs=1e-15) and table[m]["delta"][2] == 2
        for key in td.RUN_KEYS:  # every number the table shows is there for a finite pool
            assert math.isfinite(table[m][key][0]) and math.isfinite(table[m][key][1]), key
    # the unbounded pool: no pool tasks, no dMMSE; its distance to ridge still measured
    inf = json.loads((study.run_dir(0, 0) / "metrics.json").read_text())
    assert not any(key.startswith(("err_pool", "bayes_pool", "ridge_pool", "dmmse", "dist_dmmse")) for key in inf)
    assert "dist_ridge" in inf and math.isfinite(table[0]["dist_ridge"][0]) and table[0]["dist_ridge"][2] == 2
    assert all(math.isnan(table[0][key][0]) for key in ("err_pool", "dmmse", "dist_dmmse", "delta"))
    text = (study.out_dir / "task_diversity.md").read_text()
    assert text.count("\n| ") == 2 * (len(MS) + 1) and "M*(ridge" in text
    assert (study.out_dir / "task_diversity.png").stat().st_size > 0
    assert td.run_missing(study) == []  # a second call finds every run done


@pytest.mark.slow
def test_the_task_pool_is_what_the_seed_says_it_is(toy):
    _, study = toy
    pools = {}
    for m in (1, 4):
        for s in (0, 1):
            cfg, seed = _cfg(study.run_dir(m, s))
            pool = make_prompt_sampler(cfg, seed).pool
            # M tasks w_m = tau z_m, z ~ N(0, I_d) from the stream of derive_seed(seed, "icl_pool"), nothing else
            z = torch.randn(m, cfg.d, generator=make_generator(derive_seed(seed, "icl_pool")))
            assert pool.shape == (m, cfg.d) and torch.equal(pool, z * cfg.tau2 ** 0.5)
            assert len(torch.unique(pool, dim=0)) == m
            pools[m, s] = pool
            # the run used that pool: dMMSE's errors it reported (on fresh and on pool prompts) are recomputed
            # from it on the run's evaluation prompts, and another seed's pool gives other numbers
            metrics = json.loads((study.run_dir(m, s) / "metrics.json").read_text())
            fresh = make_prompt_sampler(cfg, seed, n_tasks=0)
            g_eval = make_generator(derive_seed(seed, "icl_eval"))
            xs, ys, ws = fresh.sample(cfg.eval_prompts, g_eval)
            xp, yp, wp = make_prompt_sampler(cfg, seed).sample(cfg.eval_prompts, g_eval)
            norm, k = fresh.signal_variance, cfg.k

            def dmmse_errors(p):
                on_fresh = normalised_errors(bl.discrete_mmse(xs, ys, p, cfg.sigma2), fresh.clean(xs, ws), norm)
                on_pool = normalised_errors(bl.discrete_mmse(xp, yp, p, cfg.sigma2), fresh.clean(xp, wp), norm)
                return float(on_fresh[:, k].mean()), float(on_pool[:, k].mean())

            assert dmmse_errors(pool) == pytest.approx((metrics[f"dmmse_k{k}"], metrics[f"bayes_pool_k{k}"]),
                                                       rel=1e-12)
            other = make_prompt_sampler(cfg, seed + 7).pool
            assert dmmse_errors(other)[0] != pytest.approx(metrics[f"dmmse_k{k}"], rel=1e-6)
            # every task a pool prompt was drawn with is one of the pool's
            assert (wp[:, None, :] == pool[None]).all(dim=2).any(dim=1).all()
    for m in (1, 4):
        assert not torch.equal(pools[m, 0], pools[m, 1])  # other seeds, other pools
