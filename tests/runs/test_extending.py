"""A family and a truth added from outside the package (README, "Extending genlab"; CONTRIBUTING.md).

The plugin is `docs/examples/gausslab/gausslab.py`, the very file the README
quotes: it registers the ``gaussfit`` family (its own config section) and the
``shifted_gaussian`` truth (its own parameter), and brings its recipe.  Nothing
of genlab is edited: the plugin is found through ``GENLAB_PLUGINS`` and
``PYTHONPATH`` alone, in the sweep's process and in every job it launches.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_DIR = ROOT / "docs" / "examples" / "gausslab"
FAST = ["eval.m=64", "eval.reps=2", "eval.floor_cache=null", "progress=false", "device=cpu"]


def _env() -> dict:
    return {**os.environ, "GENLAB_PLUGINS": "gausslab",
            "PYTHONPATH": os.pathsep.join([str(PLUGIN_DIR), os.environ.get("PYTHONPATH", "")])}


def _script(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / name), *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=600)


def test_a_plugins_family_and_truth_run_a_rate_sweep(tmp_path):
    out = tmp_path / "sweep"
    done = _script("rates.py", "recipe=gaussfit_shifted", "rates.n=[32,64,128]", "rates.seeds=2",
                   f"rates.out_dir={out}", *FAST, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "rates.json").read_text())
    assert {r["metric"] for r in report["rates"]} == {"tv", "w1"} and report["missing_runs"] == {}
    tv = next(r for r in report["rates"] if r["metric"] == "tv")
    assert tv["n"] == [32, 64, 128] and all(v is not None for v in tv["mean"])
    assert tv["fit"] is not None and tv["fit"]["slope"] < 0      # three resolved points: a slope is fitted
    runs = sorted((out / "runs").glob("*/config.yaml"))
    assert len(runs) == 6
    cfg = yaml.safe_load(runs[0].read_text())
    # the plugin's section and truth parameter are config keys like any other; no built-in family's section
    assert cfg["estimator"] == "gaussfit" and cfg["gaussfit"] == {"shrinkage": 0.0}
    assert cfg["truth"]["name"] == "shifted_gaussian" and cfg["truth"]["shift"] == 2.0
    assert not {"kde", "diffusion", "gan", "icl"} & set(cfg)


#: each command line with the one line its check gives (`genlab.run.overrides.check_overrides`, which
#: scripts/train.py and scripts/rates.py run before any work)
PLUGIN_CHECKS = {
    "gaussfit.shrinkage=2": "gaussfit.shrinkage must be in [0, 1], got 2.0",
    "truth.shfit=1": "unknown config key 'truth.shfit'",
    "n=1": "n must be at least 2 for estimator 'gaussfit' (a covariance needs two points), got 1",
    "estimator=vae": "estimator must be one of empirical, kde, diffusion, gan, icl, regression, gaussfit; got 'vae'",
}
_CHECK_SCRIPT = """
import json, sys
from genlab.config.compose import ConfigError
from genlab.run.overrides import check_overrides
out = {}
for arg in sys.argv[1:]:
    try:
        check_overrides(["recipe=gaussfit_shifted", arg])
        out[arg] = None
    except ConfigError as exc:
        out[arg] = str(exc)
print(json.dumps(out))
"""


def test_a_plugins_keys_are_checked_like_genlabs_own(tmp_path):
    done = subprocess.run([sys.executable, "-c", _CHECK_SCRIPT, *PLUGIN_CHECKS], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == PLUGIN_CHECKS
    # and through the command line: one line, exit status 2, nothing written
    bad = _script("train.py", "recipe=gaussfit_shifted", "gaussfit.shrinkage=2", f"out_dir={tmp_path / 'a'}", *FAST,
                  cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip() == "error: gaussfit.shrinkage must be in [0, 1], got 2.0"
    assert not (tmp_path / "a").exists()


def test_a_plugin_that_cannot_be_imported_is_one_line(tmp_path):
    env = {**_env(), "GENLAB_PLUGINS": "no_such_plugin"}
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py"), "recipe=kde_gmm", *FAST,
                           f"out_dir={tmp_path / 'run'}"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: genlab plugin 'no_such_plugin' (GENLAB_PLUGINS or entry point genlab.plugins) cannot be imported: "
        "No module named 'no_such_plugin'"]


def test_the_readme_shows_the_plugin_as_it_is():
    """The README's two blocks (the family, the truth) are the plugin's own lines, so neither can drift."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Extending genlab"):]
    section = section[:section.index("\n## ", 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2
    source = (PLUGIN_DIR / "gausslab.py").read_text()
    for block in blocks:
        assert block in source, block[:80]
