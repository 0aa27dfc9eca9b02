"""Sweeps on a real SLURM scheduler (a one-node cluster: ``.ci/slurm/start-slurm.sh``, run by ``.ci/run``).

- The README's SLURM command gives the local launcher's rates.json and metrics.json, byte for byte.
- A job cancelled mid-sweep: ``rates.py`` waits for the others, names the job by id and state, and
  exits 1; the same command again submits only the missing run, which continues from its
  checkpoint and ends bit-identical to an uninterrupted run.
- A job reaching its time limit is requeued (``max_num_timeout`` of ``genlab_slurm``) and
  resumes by itself, ending bit-identical to an uninterrupted run.

Without a cluster these tests skip, naming why; with ``GENLAB_REQUIRE_SLURM=1`` (``.ci/run``)
they fail instead, so CI cannot pass without having run them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genlab.slurm_jobs import job_folders, job_overrides, submitted_jobs

pytestmark = pytest.mark.slurm

ROOT = Path(__file__).resolve().parents[2]
RATES = ROOT / "scripts" / "rates.py"


def _cluster_problem() -> str | None:
    """Why no SLURM cluster with accounting answers here, or None."""
    for cmd in (["sinfo", "-h", "-o", "%T"], ["sacct", "-n", "-X", "-S", "now"]):
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{cmd[0]}: {exc}"
        if res.returncode != 0:
            return f"{' '.join(cmd)}: {(res.stderr.strip().splitlines() or ['exit ' + str(res.returncode)])[-1]}"
    return None


@pytest.fixture(scope="module", autouse=True)
def cluster():
    problem = _cluster_problem()
    if problem is None:
        return
    if os.environ.get("GENLAB_REQUIRE_SLURM") == "1":
        pytest.fail(f"no SLURM cluster: {problem}", pytrace=False)
    pytest.skip(f"no SLURM cluster ({problem}); .ci/run starts one (.ci/slurm/start-slurm.sh)")


def _rates(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RATES), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def _metrics(sweep: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in sorted(sweep.glob("runs/*/metrics.json"))}


def _jobs_in(sweep: Path) -> set[str]:
    return job_folders(sweep / "runs")


# 2 sizes x 2 seeds of the empirical measure, and the same runs of the KDE beside it (rates.compare)
EMPIRICAL = ["recipe=empirical_gmm", "eval.m=2000", "eval.metrics=[w1]", "rates.metrics=[w1]", "rates.n=[16,32]",
             "rates.seeds=2", "rates.compare=[kde_gmm]"]


def _sacct(job_ids: set[str], fields: str) -> list[list[str]]:
    arrays = sorted({j.split("_")[0] for j in job_ids})
    out = subprocess.run(["sacct", "-n", "-X", "--parsable2", "-o", fields, "-j", ",".join(arrays)],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


def test_the_readme_command_on_slurm_equals_the_local_sweep(tmp_path, readme_slurm_launcher_args):
    launcher = readme_slurm_launcher_args
    assert "hydra/launcher=genlab_slurm" in launcher
    cache = f"eval.floor_cache={tmp_path / 'floors'}"  # shared: the floor is computed once, by the local sweep
    local = _rates(*EMPIRICAL, cache, f"rates.out_dir={tmp_path / 'local'}")
    assert local.returncode == 0, local.stderr
    slurm = _rates(*EMPIRICAL, cache, f"rates.out_dir={tmp_path / 'slurm'}", *launcher)
    assert slurm.returncode == 0, slurm.stderr + slurm.stdout
    main, compare = tmp_path / "slurm", tmp_path / "slurm" / "compare" / "kde_gmm"
    assert len(_jobs_in(main)) == 4 and len(_jobs_in(compare)) == 4   # one array task per (n, seed)
    for name in ("rates.json", "rates.csv", "rates.md"):
        assert (main / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    for sweep, local in ((main, tmp_path / "local"), (compare, tmp_path / "local" / "compare" / "kde_gmm")):
        assert _metrics(sweep) == _metrics(local) and len(_metrics(local)) == 4
    # the comparison's jobs were queued with the main sweep's, not after them; each job is named by
    # its recipe
    rows = _sacct(_jobs_in(main) | _jobs_in(compare), "JobName%40,Submit,End")
    first_end = min(end for _, _, end in rows)
    assert all(submit <= first_end for _, submit, _ in rows), rows
    assert {name for name, _, _ in rows} == {"genlab-empirical_gmm", "genlab-kde_gmm"}


# A diffusion run that checkpoints every 200 of its 6000 steps: about 15 s of training on one core.
DIFFUSION = ["recipe=diffusion_gmm", "eval.m=100", "eval.reps=2", "eval.metrics=[w1]", "rates.metrics=[w1]",
             "eval.kde_reference=false", "diffusion.steps=6000", "diffusion.checkpoint_every=200",
             "diffusion.batch_size=64", "diffusion.width=32", "diffusion.sampler_steps=20",
             "diffusion.score_error_m=100", "eval.floor_cache=null", "rates.seeds=1", "rates.compare=[]",
             "rates.replicas=off", "device=cpu"]
ONE_CORE = ["hydra/launcher=genlab_slurm", "hydra.launcher.cpus_per_task=1", "hydra.launcher.timeout_min=10"]


def _wait_for(predicate, what: str, proc=None, limit: float = 300) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert proc is None or proc.poll() is None, f"the sweep ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


# The cancelled sweep's runs train about 25 s on one core (12000 steps), so the scancel, sent as
# soon as the first checkpoint shows, comes while the victim still trains: a job that ignores the
# SIGTERM is killed KillWait = 5 s later.  With 6000 steps a run trained 13 s, and finding its job
# took the test about 7 s (importing genlab beside two training jobs on 2 cores), so the victim
# finished inside KillWait and wrote its metrics.json: the sweep was complete, and exited 0.
CANCEL = [o for o in DIFFUSION if not o.startswith("diffusion.steps=")] + ["diffusion.steps=12000"]


def test_a_cancelled_job_is_named_and_the_rerun_submits_only_its_run(tmp_path):
    whole = _rates(*CANCEL, "rates.n=[100,200]", f"rates.out_dir={tmp_path / 'whole'}")
    assert whole.returncode == 0, whole.stderr

    out = tmp_path / "cancelled"
    cmd = [sys.executable, str(RATES), *CANCEL, "rates.n=[100,200]", f"rates.out_dir={out}", *ONE_CORE]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    _wait_for(lambda: list(out.glob("runs/*/checkpoints/last.pt")), "a run's first checkpoint", proc)
    victim = next(out.glob("runs/*/checkpoints/last.pt")).parent.parent
    n = int(re.search(r"(?:^|,)n=(\d+)", victim.name).group(1))
    job = next(j for j in submitted_jobs(out / "runs", set()) if f"n={n}" in (job_overrides(j) or []))
    subprocess.run(["scancel", job.job_id], check=True)
    stdout, stderr = proc.communicate(timeout=600)

    assert proc.returncode == 1, stderr
    # the other job was waited for and its run is complete; the cancelled one is named by id and state
    assert len(_metrics(out)) == 1
    failed = [ln for ln in stdout.splitlines() if ln.startswith("warning: sweep job failed")]
    assert len(failed) == 1 and f"job {job.job_id} (n={n} seed=0): CANCELLED" in failed[0], stdout
    assert f"1 run(s) missing: n={n} seed=0" in stdout

    before = _jobs_in(out)
    again = _rates(*CANCEL, "rates.n=[100,200]", f"rates.out_dir={out}", *ONE_CORE)
    assert again.returncode == 0, again.stderr + again.stdout
    assert len(_jobs_in(out) - before) == 1                  # only the missing run was submitted
    assert _metrics(out) == _metrics(tmp_path / "whole")       # continued from its checkpoint, bit for bit
    assert json.loads((out / "rates.json").read_text())["missing_runs"] == {}


# About 40 s of training on one core, checkpointed every 500 steps.  A job's limit is 1 minute and
# submitit is signalled 30 s before it; slurmctld checks limits every 30 s, so the signal comes 30 to
# 60 s after the start, and a job trains 8 to 38 s of it (it starts in about 22 s).  So the first
# attempt always times out, and the run ends in the 2nd to 5th (max_num_timeout = 6 here, for the
# worst case); SLURM holds a requeued job for 2 minutes, so the test takes 4 to 8 minutes.
LONG = [o for o in DIFFUSION if not o.startswith(("diffusion.steps=", "diffusion.checkpoint_every="))] + \
    ["diffusion.steps=18000", "diffusion.checkpoint_every=500"]


def test_a_timed_out_job_is_requeued_and_resumes_bit_for_bit(tmp_path):
    whole = _rates(*LONG, "rates.n=[100,200]", "rates.seeds=1", f"rates.out_dir={tmp_path / 'whole'}")
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "requeued"
    # submitit requeues a job signalled for its limit (max_num_timeout), and the job resumes from its
    # last checkpoint (SLURM_RESTART_COUNT > 0)
    res = _rates(*LONG, "rates.n=[100,200]", f"rates.out_dir={out}", "hydra/launcher=genlab_slurm",
                 "hydra.launcher.cpus_per_task=1", "hydra.launcher.timeout_min=1",
                 "hydra.launcher.signal_delay_s=30", "hydra.launcher.max_num_timeout=6", timeout=1500)
    assert res.returncode == 0, res.stderr + res.stdout
    restarts = []
    for job_id in _jobs_in(out):
        show = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True).stdout
        m = re.search(r"Restarts=(\d+)", show)
        restarts.append(int(m.group(1)) if m else -1)
    assert max(restarts) >= 1, f"no job was requeued (restarts {restarts}): the test did not test a timeout"
    assert _metrics(out) == _metrics(tmp_path / "whole")
