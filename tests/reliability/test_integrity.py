"""Integrity of what runs and sweeps write (issue 18, item 1): one writer per run directory, a
complete run is one whose files agree, a skipped run is this run, a floor cache that is checked,
and a sweep directory that belongs to its sweep."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

import metrics as M
from genlab.run import floor_cache
from genlab.config.compose import compose_config
from genlab.cli.train import main_entry
from genlab.run.pipeline import run
from genlab.run.floor_cache import cached_floors
from genlab.core.files import is_complete, metrics_problem

ROOT = Path(__file__).resolve().parents[2]
TINY = ["recipe=empirical_gmm", "n=16", "eval.m=32", "eval.reps=2", "eval.metrics=[w1]", "eval.floor_cache=null",
        "progress=false", "device=cpu"]


def _snapshot(d: Path) -> dict:
    return {p.relative_to(d): p.read_bytes() for p in d.rglob("*") if p.is_file()}


def _train(argv, monkeypatch, capsys) -> tuple[int, str]:
    """main_entry("train") in process: (exit code, stderr); stdout is kept in ``_train.out``."""
    monkeypatch.setattr(sys, "argv", ["train.py", *argv])
    code = 0
    try:
        main_entry("train")
    except SystemExit as exc:
        code = exc.code or 0
    cap = capsys.readouterr()
    _train.out = cap.out
    return code, cap.err


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    d = tmp_path_factory.mktemp("complete")
    run(OmegaConf.to_object(compose_config(TINY)), d, progress=False)
    return d


# -- one writer per run directory -------------------------------------------------------------

def test_a_run_into_a_directory_a_live_run_holds_is_refused_and_a_killed_holders_lock_is_taken(
        tmp_path, monkeypatch, capsys):
    d = tmp_path / "run"
    d.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from genlab.run.guard import lock_run_dir; "
                               "lock_run_dir(sys.argv[1]); print('locked', flush=True); time.sleep(120)", str(d)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = _snapshot(d)
        code, err = _train([*TINY, f"out_dir={d}"], monkeypatch, capsys)
        assert code == 2
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "is in use by a run that is still working" in lines[0], err
        assert f"pid {holder.pid}" in lines[0]
        assert _snapshot(d) == before and not (d / "metrics.json").exists()
        assert (d / ".genlab.lock.holder").read_text().startswith(f"pid {holder.pid} on ")
    finally:
        holder.kill()  # SIGKILL: the lock file stays behind, the lock itself dies with its holder
        holder.wait()
    assert (d / ".genlab.lock").exists()
    code, err = _train([*TINY, f"out_dir={d}"], monkeypatch, capsys)
    assert code == 0, err
    assert is_complete(d)


def test_two_runs_started_at_once_into_one_directory_leave_one_consistent_run(tmp_path):
    """The case of the issue: n = 500 and n = 3000 into one out_dir left config.yaml saying 500 beside
    the metrics.json of 3000.  Now the second is refused, whether it finds the first working (the lock)
    or finished (the complete run)."""
    d = tmp_path / "run"
    base = [a for a in TINY if not a.startswith("n=")] + ["eval.m=600", f"out_dir={d}"]
    procs = [subprocess.Popen([sys.executable, str(ROOT / "scripts" / "train.py"), *base, f"n={n}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
             for n in (500, 3000)]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], outs
    refused = outs[[p.returncode for p in procs].index(2)][1].strip().splitlines()
    assert len(refused) == 1 and ("in use by a run" in refused[0] or "holds a complete run" in refused[0]), refused
    config = OmegaConf.load(d / "config.yaml")
    assert json.loads((d / "metrics.json").read_text())["n"] == config.n
    assert metrics_problem(d) is None


# -- a complete run is one whose files agree ----------------------------------------------------

@pytest.mark.parametrize("damage, why", [
    (lambda p: p.write_text(p.read_text()[:40]), "does not parse"),
    (lambda p: p.write_text("{}"), "holds no metrics"),
    (lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "n": 3000})), "its n is 3000"),
], ids=["truncated", "empty object", "another run's n"])
def test_a_damaged_metrics_json_is_no_complete_run_and_skip_complete_does_the_run_again(
        damage, why, complete, tmp_path, monkeypatch, capsys):
    d = tmp_path / "run"
    shutil.copytree(complete, d)
    good = (d / "metrics.json").read_bytes()
    damage(d / "metrics.json")
    assert not is_complete(d) and why in metrics_problem(d)
    code, err = _train([*TINY, f"out_dir={d}", "skip_complete=true"], monkeypatch, capsys)
    assert code == 0, err
    assert "is no complete run's record" in err and why in err
    assert (d / "metrics.json").read_bytes() == good  # the run done again, bit for bit


def test_skip_complete_refuses_a_complete_run_of_other_settings(complete, tmp_path, monkeypatch, capsys):
    d = tmp_path / "run"
    shutil.copytree(complete, d)
    before = _snapshot(d)
    for argv, keys in ([[*TINY, "n=32"], "differing keys: n"],
                       [["recipe=kde_gmm", "n=16", "eval.floor_cache=null", "device=cpu"], "estimator"]):
        code, err = _train([*argv, f"out_dir={d}", "skip_complete=true"], monkeypatch, capsys)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1, err
        assert "holds a complete run with other settings" in lines[0] and keys in lines[0], err
        assert _snapshot(d) == before
    code, err = _train([*TINY, f"out_dir={d}", "skip_complete=true"], monkeypatch, capsys)  # its own settings
    assert code == 0 and "complete already, skipped" in _train.out, err


# -- the floor cache is checked on read ----------------------------------------------------------

def _sampler(n, s):
    return np.random.default_rng(s).normal(size=(n, 2))


def _entry(tmp_path: Path, m: int = 100) -> Path:
    """The cache file the floor of w1 at size m writes."""
    before = set(tmp_path.glob("*.json"))
    cached_floors(str(tmp_path), {"name": "g"}, _sampler, ["w1"], m=m, reps=2, seed=0)
    (new,) = set(tmp_path.glob("*.json")) - before
    return new


@pytest.mark.parametrize("damage, why", [
    (lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "mean": 99.0})), "digest"),
    (lambda p: p.write_text(p.read_text()[:30]), "does not parse"),
    (lambda p: p.write_text("{}"), "fields are missing"),
], ids=["mean edited to 99", "truncated", "empty object"])
def test_a_damaged_floor_cache_entry_is_recomputed_with_a_warning(damage, why, tmp_path, capsys):
    path = _entry(tmp_path)
    damage(path)
    floors = cached_floors(str(tmp_path), {"name": "g"}, _sampler, ["w1"], m=100, reps=2, seed=0)
    direct = M.metric_floor(_sampler, "w1", 100, reps=2, seed=0)
    assert floors["w1"].mean == direct.mean and floors["w1"].values == direct.values
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "damaged" in err[0] and why in err[0], err
    cached_floors(str(tmp_path), {"name": "g"}, _sampler, ["w1"], m=100, reps=2, seed=0)
    assert capsys.readouterr().err == ""  # rewritten whole: read back without a word


def test_an_entry_copied_under_another_keys_name_is_not_served(tmp_path, capsys):
    small, large = _entry(tmp_path, m=100), _entry(tmp_path, m=150)
    shutil.copy(small, large)
    floors = cached_floors(str(tmp_path), {"name": "g"}, _sampler, ["w1"], m=150, reps=2, seed=0)
    assert floors["w1"].m == 150
    assert floors["w1"].mean == M.metric_floor(_sampler, "w1", 150, reps=2, seed=0).mean
    assert "another key" in capsys.readouterr().err


def test_the_cache_key_holds_the_code_that_computes_the_floor(tmp_path, monkeypatch):
    _entry(tmp_path)
    monkeypatch.setattr(floor_cache, "_code_fingerprint", lambda: "changed-metrics-code")
    _entry(tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 2


def test_a_floor_cache_that_is_a_file_is_refused_in_one_line(tmp_path):
    f = tmp_path / "floors"
    f.write_text("not a directory")
    with pytest.raises(ValueError) as info:
        cached_floors(str(f), {"name": "g"}, _sampler, ["w1"], m=50, reps=2, seed=0)
    assert "\n" not in str(info.value) and "eval.floor_cache" in str(info.value) and "not a directory" in str(info.value)


# -- a sweep directory belongs to its sweep -----------------------------------------------------

SWEEP = ["recipe=empirical_gmm", "rates.n=[16,32]", "rates.seeds=1", "rates.compare=[]", "rates.metrics=[w1]",
         "eval.m=32", "eval.reps=2",
         "eval.metrics=[w1]", "eval.floor_cache=null", "device=cpu", "hydra/launcher=basic"]


def test_rates_out_dir_holding_another_sweep_is_refused_before_anything_is_written(tmp_path, monkeypatch, capsys):
    from genlab.cli.rates import main

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "sweep"
    assert main([*SWEEP, f"rates.out_dir={out}"]) == 0
    assert json.loads((out / "sweep.json").read_text())["recipe"] == "empirical_gmm"
    before = _snapshot(out)
    capsys.readouterr()
    others = [
        (["recipe=kde_gmm", *SWEEP[1:]], "recipe 'empirical_gmm' there, 'kde_gmm' here"),
        ([*SWEEP, "eval.reps=3"], "overrides"),
    ]
    for argv, words in others:
        assert main([*argv, f"rates.out_dir={out}"]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and "holds another sweep" in lines[0] and words in lines[0], lines
        assert _snapshot(out) == before
    (out / "sweep.json").unlink()  # a directory written before sweep.json: its runs name their recipe
    assert main(["recipe=kde_gmm", *SWEEP[1:], f"rates.out_dir={out}"]) == 2
    assert "holds runs of recipe empirical_gmm, not kde_gmm" in capsys.readouterr().err
    assert main([*SWEEP, "rates.seeds=2", f"rates.out_dir={out}"]) == 0  # its own sweep, one seed more
    assert json.loads((out / "sweep.json").read_text())["recipe"] == "empirical_gmm"
    assert os.path.isdir(out / "runs")


@pytest.fixture
def read_only(tmp_path):
    """``make(d)`` remounts directory d read-only (a bind mount; root's writes are refused too, which
    permission bits cannot do); skips, naming why, where this process may not mount."""
    mounted = []

    def make(d: Path) -> None:
        for cmd in (["mount", "--bind", str(d), str(d)], ["mount", "-o", "remount,bind,ro", str(d)]):
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                if mounted:
                    subprocess.run(["umount", str(d)], capture_output=True)
                pytest.skip(f"cannot make a read-only mount here ({' '.join(cmd)}: "
                            f"{res.stderr.strip() or res.returncode})")
            if not mounted:
                mounted.append(d)
    yield make
    for d in mounted:
        subprocess.run(["umount", str(d)], check=True)


def test_a_read_only_rates_out_dir_is_refused_in_one_line_and_left_as_it_was(tmp_path, monkeypatch, capsys,
                                                                               read_only):
    from genlab.cli.rates import main

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "sweep"
    assert main([*SWEEP, f"rates.out_dir={out}"]) == 0
    before = _snapshot(out)
    read_only(out)
    capsys.readouterr()
    assert main([*SWEEP, "rates.seeds=2", f"rates.out_dir={out}"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "rates.out_dir" in lines[0] and "Read-only file system" in lines[0], lines
    assert _snapshot(out) == before


def test_a_complete_run_of_other_settings_in_a_sweep_is_not_aggregated_as_its_own(tmp_path, monkeypatch, capsys):
    """A rerun skips complete runs; one made before the recipe (or a default) changed would be passed off
    as this sweep's.  Here a run's config.yaml says eval.seed 7, which this command does not give."""
    from genlab.cli.rates import main

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "sweep"
    assert main([*SWEEP, f"rates.out_dir={out}"]) == 0
    victim = sorted(out.glob("runs/*/config.yaml"))[0]
    cfg = OmegaConf.load(victim)
    cfg.eval.seed = 7
    OmegaConf.save(cfg, victim)
    rates_before = (out / "rates.json").read_bytes()
    capsys.readouterr()
    assert main([*SWEEP, f"rates.out_dir={out}"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "was made with other settings" in lines[0] and "differing keys: eval.seed" in lines[0]
    assert (out / "rates.json").read_bytes() == rates_before


# -- daily use (issue 18, item 6) and a full disk (item 2) --------------------------------------

def test_a_truths_sampler_reproduces_the_runs_own_scores(complete):
    """metrics.evaluate(truth.as_sampler(eval.seed), ...) is what a run computes, bit for bit."""
    from genlab.run.pipeline import build_truth

    cfg = OmegaConf.to_object(compose_config(TINY))
    samples = np.load(complete / "samples.npz")["samples"]
    est = M.evaluate(build_truth(cfg).as_sampler(cfg.eval.seed), samples, ["w1"], m=cfg.eval.m, reps=cfg.eval.reps,
                     seed=cfg.eval.seed)["w1"]
    mx = json.loads((complete / "metrics.json").read_text())
    assert est.value == mx["w1"] and est.floor == mx["w1_floor"]


def test_the_run_table_marks_values_within_3x_of_their_floor_and_lower_bounds(capsys):
    from genlab.run.report import metrics_table

    print(metrics_table({"w1": 0.30, "w1_floor": 0.12, "tv": 0.5, "tv_floor": 0.01,
                    "tv_classifier": 0.2, "tv_classifier_floor": 0.01, "tv_classifier_is_lower_bound": 1}), end="")
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["w1"].endswith("within 3x floor")
    assert rows["tv"].rstrip().endswith("0.01")
    assert rows["tv_classifier"].endswith("lower bound")


def test_a_full_disk_ends_the_run_in_one_line_and_keeps_the_files_written_before(complete, tmp_path, monkeypatch,
                                                                                   capsys):
    import errno

    from genlab.core import files as runs

    d = tmp_path / "run"
    real = runs.atomic_write_bytes

    def full(path, data):
        if Path(path).name == "samples.npz":  # the disk fills up after config.yaml
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, data)

    monkeypatch.setattr(runs, "atomic_write_bytes", full)
    code, err = _train([*TINY, f"out_dir={d}"], monkeypatch, capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert "No space left on device" in lines[0] and "samples.npz" in lines[0] and "intact" in lines[0]
    assert (d / "config.yaml").is_file() and not (d / "metrics.json").exists()
    assert not list(d.glob(".*.tmp"))  # no half-written temporary left


def test_a_disk_full_while_checkpointing_ends_in_one_line_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch,
                                                                                               capsys):
    """The disk fills up during the second checkpoint (torch.save has written part of it): the run ends
    in one line naming the checkpoint, the first checkpoint is byte-identical, no temporary is left."""
    import errno

    from genlab.training import checkpoint as training

    d = tmp_path / "run"
    real, calls, first = training.torch.save, [], {}

    def save(obj, fh):
        calls.append(1)
        if len(calls) == 2:
            first["bytes"] = (d / "checkpoints" / "last.pt").read_bytes()
            fh.write(b"partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as write(2) raises it: no file name
        return real(obj, fh)

    monkeypatch.setattr(training.torch, "save", save)
    code, err = _train(["recipe=diffusion_gmm", "n=64", "diffusion.steps=30", "diffusion.checkpoint_every=10",
                        "diffusion.width=16", "diffusion.batch_size=16", "eval.m=32", "eval.reps=2",
                        "eval.metrics=[w1]", "eval.kde_reference=false", "eval.floor_cache=null", "progress=false",
                        "device=cpu", f"out_dir={d}"], monkeypatch, capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert "No space left on device" in lines[0] and "last.pt" in lines[0] and "intact" in lines[0]
    assert (d / "checkpoints" / "last.pt").read_bytes() == first["bytes"]
    assert not list(d.rglob(".*.tmp*")) and not (d / "metrics.json").exists()


def test_a_runs_config_yaml_holds_only_its_own_familys_section(complete, tmp_path, monkeypatch, capsys):
    """A KDE (here: empirical) run's config.yaml held every diffusion, GAN and ICL key (issue 18, item 6);
    a config.yaml written before, with every section, still resumes and skips as the same settings."""
    saved = OmegaConf.load(complete / "config.yaml")
    assert saved.estimator == "empirical" and not {"kde", "diffusion", "gan", "icl"} & set(saved.keys())
    assert {"truth", "eval", "n", "seed"} <= set(saved.keys())
    d = tmp_path / "run"
    shutil.copytree(complete, d)
    full = OmegaConf.structured(OmegaConf.to_object(compose_config([*TINY, f"out_dir={d}"])))
    OmegaConf.save(full, d / "config.yaml")  # as runs wrote it before
    code, err = _train([*TINY, f"out_dir={d}", "skip_complete=true"], monkeypatch, capsys)
    assert code == 0 and "complete already, skipped" in _train.out, err
