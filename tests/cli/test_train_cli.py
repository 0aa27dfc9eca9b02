"""The command-line contract of scripts/train.py: outputs, last line, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "scripts" / "train.py"


def train(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, HYDRA_FULL_ERROR="")
    env.pop("HYDRA_FULL_ERROR")
    return subprocess.run([sys.executable, str(TRAIN), *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, timeout=300)


def test_kde_gmm_writes_the_four_outputs_and_prints_its_run_dir(tmp_path):
    out = tmp_path / "run"
    proc = train("recipe=kde_gmm", "n=400", "eval.m=300", "eval.reps=2", "kde.bandwidth=scott",
                 "eval.metrics=[w1,sliced_w1,tv,tv_hist]", f"out_dir={out}", "progress=false")
    assert proc.returncode == 0, proc.stderr
    for name in ("config.yaml", "metrics.json", "samples.npz", "samples.png"):
        assert (out / name).is_file(), name
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith(str(out))
    assert "w1" in last and "floor" in last
    mx = json.loads((out / "metrics.json").read_text())
    for name in ("w1", "sliced_w1", "tv", "tv_hist"):
        assert isinstance(mx[name], float)
        assert f"{name}_floor" in mx
    assert mx["n"] == 400
    with np.load(out / "samples.npz") as z:
        assert z["samples"].shape == (300, 2)


def test_default_out_dir_is_under_runs_recipe(tmp_path):
    proc = train("recipe=empirical_gmm", "n=50", "eval.m=100", "eval.reps=2", "eval.metrics=[w1]",
                 "progress=false", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run_dir = Path(proc.stdout.strip().splitlines()[-1].split()[0])
    assert run_dir.resolve().relative_to(tmp_path.resolve()).parts[:2] == ("runs", "empirical_gmm")
    assert (run_dir / "metrics.json").is_file()


def test_a_gan_without_high_quality_samples_prints_its_undefined_reverse_kl(tmp_path):
    # 20 steps on the ring leave every sample far from every mode: the mode histogram, hence its
    # reverse KL, is undefined and left out of metrics.json while its floor is there
    out = tmp_path / "run"
    proc = train("recipe=gan_ring", "n=64", "gan.steps=20", "gan.monitor_every=10", "gan.monitor_m=32",
                 "eval.m=200", "eval.reps=2", f"out_dir={out}", "progress=false")
    assert proc.returncode == 0, proc.stderr
    mx = json.loads((out / "metrics.json").read_text())
    assert mx["high_quality_fraction"] == 0.0
    assert "mode_reverse_kl" not in mx and "mode_reverse_kl_floor" in mx
    (row,) = [line for line in proc.stdout.splitlines() if line.startswith("mode_reverse_kl ")]
    assert row.split()[1] == "undefined"
    assert proc.stdout.strip().splitlines()[-1].startswith(str(out))


BAD = [
    (["recipe=no_such_recipe"], "unknown recipe 'no_such_recipe'; available: "),
    ([], "no recipe given"),
    (["recipe=kde_gmm", "nn=3"], "unknown config key 'nn'"),
    (["recipe=kde_gmm", "truth.dimm=3"], "unknown config key 'truth.dimm'"),
    (["recipe=kde_gmm", "n=many"], "n: Value 'many'"),
    (["recipe=kde_gmm", "n=0"], "n must be a positive integer"),
    (["recipe=kde_gmm", "n=-5"], "n must be a positive integer"),
    (["recipe=kde_gmm", "eval.m=0"], "eval.m must be a positive integer"),
    (["recipe=kde_gmm", "estimator=vae"], "estimator must be one of"),
    (["recipe=kde_gmm", "eval.metrics=[w7]"], "eval.metrics must be one of"),
    (["recipe=empirical_gmm", "eval.metrics=[tv]"], "needs the model's density"),
    (["recipe=kde_gmm", "truth.name=gmm_nope"], "gmm_nope"),
    (["recipe=kde_gmm", "truth.s=2.0"], "s"),
    (["recipe=kde_gmm", "kde.bandwidth=-1"], "kde.bandwidth must be > 0"),
    (["recipe=kde_gmm", "kde.bandwidth=wide"], "kde.bandwidth must be one of"),
    (["recipe=kde_gmm", "device=tpu"], "device must be auto, cpu or cuda"),
    (["recipe=kde_gmm", "truth.name=gmm_ring", "truth.sigma=-1"], "truth 'gmm_ring': sigma must be > 0"),
    (["recipe=kde_gmm", "truth.name=gmm_ring", "truth.sigma=nan"], "truth 'gmm_ring': sigma must be finite"),
    (["recipe=kde_gmm", "truth.name=gmm_ring", "truth.radius=inf"], "truth 'gmm_ring': radius must be finite"),
    (["recipe=kde_gmm", "truth.name=gmm_random", "truth.dim=0"], "truth 'gmm_random': dim must be a positive"),
    (["recipe=kde_gmm", "truth.name=smooth", "truth.s=0"], "truth 'smooth': s must be > 0"),
    (["recipe=kde_gmm", "truth.name=smooth", "truth.amplitude=1.5"], "amplitude must be in [0, 1)"),
    (["recipe=empirical_uniform", "truth.dim=3", "eval.metrics=[w1_law]"], "needs a 1-D truth"),
    (["recipe=gan_smooth", "eval.metrics=[w1_grid]"], "'w1_grid' needs the model's density"),
    (["recipe=kde_gmm", "eval.metrics=[w1_grid]"], "'w1_grid' needs a truth supported on a box"),
    (["recipe=kde_smooth", "truth.dim=4", "eval.metrics=[w1_grid]"], "needs a truth of dimension at most 3"),
    (["recipe=kde_smooth", "eval.metrics=[w1_grid]", "eval.grid_cells=0"], "eval.grid_cells must be a positive"),
    (["recipe=kde_gmm", "eval.kde_reference=true", "eval.metrics=[w1]"], "kde_reference needs 'tv'"),
    (["recipe=diffusion_gmm", "diffusion.t0=0"], "t0"),
    (["recipe=diffusion_gmm", "diffusion.t0=7.0"], "t0"),
    (["recipe=diffusion_gmm", "diffusion.sampler=rk45"], "sampler must be one of"),
    (["recipe=diffusion_gmm", "diffusion.target=velocity"], "target"),
    (["recipe=kde_gmm", "eval.metrics=[tv_sampler]"],
     "'tv_sampler' is computed by estimator diffusion only, not by 'kde'"),
    (["recipe=diffusion_gmm", "eval.metrics=[tv_sampler]", "diffusion.sampler=sde_euler"],
     "needs diffusion.sampler in ['ode_euler', 'ode_heun'], got 'sde_euler'"),
    (["recipe=icl_noisy", "icl.d=0"], "d must be a positive integer"),
    (["recipe=icl_noisy", "icl.sigma2=-1"], "sigma2"),
    (["recipe=icl_noisy", "icl.min_lr_ratio=1.5"], "min_lr_ratio must be in [0, 1], got 1.5"),
    (["-m", "recipe=kde_gmm", "n=100,0"], "n must be a positive integer"),
    (["-m", "recipe=kde_gmm", "n=100,abc"], "n: Value 'abc'"),
    (["recipe=kde_gmm", "out_dir=/proc/genlab_cannot_write"], "not writable"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) or "empty" for a, _ in BAD])
def test_bad_input_is_refused_in_one_line_before_any_work(args, message, tmp_path):
    """In-process: every bad command line is refused by the up-front check, in one line."""
    from genlab.config.compose import ConfigError
    from genlab.run.overrides import check_out_dir, check_overrides

    with pytest.raises(ConfigError) as info:
        check_overrides(list(args))
        check_out_dir(list(args))
    text = str(info.value)
    assert "\n" not in text and message in text, text


# Through the real script: exit status, stderr of one line, nothing written.
_THROUGH_SCRIPT = {"recipe=no_such_recipe", "nn=3", "n=many", "n=0", "n=100,0",
                   "out_dir=/proc/genlab_cannot_write", "truth.sigma=-1"}
SCRIPT_CASES = [case for case in BAD if _THROUGH_SCRIPT & set(case[0])] + [
    (["recipe=kde_gmm", "kde.bandwidth=-1", "n=50", "eval.m=50"], "kde.bandwidth must be > 0")]


@pytest.mark.parametrize("args,message", SCRIPT_CASES, ids=[" ".join(a) for a, _ in SCRIPT_CASES])
def test_bad_input_is_one_line_and_nonzero(args, message, tmp_path):
    proc = train(*args, "progress=false", cwd=tmp_path) if args else train(cwd=tmp_path)
    assert proc.returncode != 0
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert message in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("metrics.json"))


@pytest.mark.parametrize("script", ["train.py", "rates.py"])
def test_help_without_a_recipe_prints_usage_and_the_recipes(script, tmp_path):
    """Hydra's --help composes the config, which needs a recipe: it printed a traceback (issue 18)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, str(root / "scripts" / script), "--help"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.startswith(f"usage: python scripts/{script} recipe=NAME")
    assert "diffusion_gmm" in proc.stdout and "--cfg job" in proc.stdout
