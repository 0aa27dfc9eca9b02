"""Sweeps on a real SLURM scheduler (a one-node cluster: ``.ci/slurm/start-slurm.sh``, run by ``.ci/run``).

- The README's SLURM command gives the local launcher's rates.json and metrics.json, byte for byte.
- A job cancelled mid-sweep: ``rates.py`` waits for the others, names the job by id and state, and
  exits 1; the same command again submits only the missing run, which continues from its
  checkpoint and ends bit-identical to an uninterrupted run.
- A job signalled for its time limit is requeued (``max_num_timeout`` of ``genlab_slurm``) and
  resumes by itself from its checkpoint, ending bit-identical to an uninterrupted run.

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

from genlab.sweep.slurm import job_folders, job_overrides, submitted_jobs

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


# The time limit's signal, sent when each run has checkpointed.  Slurm sends a job's --signal
# (USR2, signal_delay_s before the limit) from slurmctld's limit check, which runs every 30 s, so a
# real one-minute limit signals a job 30 to 60 s after it starts: a run that trains faster than
# that finishes in its first attempt and tests nothing (stop 29's CI: restarts [0, 0], on a machine
# twice as fast as the one the step count was sized on), and a requeued attempt can be signalled
# before submitit has installed its handler (seen once here: the job died by signal 12 one second
# after it restarted).  So the test sends the limit's signal itself, with scancel, through the same
# path (to the job's steps, not its batch shell), once a run's checkpoint is at step RESUME_AT or
# later: a quarter of its 12000 steps, so it still trains about 10 s here (5 s on CI's machine), and
# a requeued run that restarted from step 0 instead of resuming shows in its timings.
# submitit counts any USR2 as a timeout when the limit is at most 10 minutes (its guaranteed
# walltime, min(0.8 limit, limit - 10 min), is then not positive), so the requeue is the timeout
# path of max_num_timeout, which the job's log names; SLURM holds a requeued job for 2 minutes.
LONG = [o for o in DIFFUSION if not o.startswith(("diffusion.steps=", "diffusion.checkpoint_every="))] + \
    ["diffusion.steps=12000", "diffusion.checkpoint_every=500"]
RESUME_AT = 3000    # the checkpoint step after which a job is signalled
LIMIT = ["hydra/launcher=genlab_slurm", "hydra.launcher.cpus_per_task=1", "hydra.launcher.timeout_min=10",
         "hydra.launcher.signal_delay_s=30", "hydra.launcher.max_num_timeout=2"]


def test_a_timed_out_job_is_requeued_and_resumes_bit_for_bit(tmp_path):
    whole = _rates(*LONG, "rates.n=[100,200]", f"rates.out_dir={tmp_path / 'whole'}")
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "requeued"
    cmd = [sys.executable, str(RATES), *LONG, "rates.n=[100,200]", f"rates.out_dir={out}", *LIMIT]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    signalled: dict[str, str] = {}                           # run directory -> its job's id
    def signal_each_run_past_the_first_quarter() -> bool:
        from genlab.training import load_checkpoint           # torch: imported once the jobs run
        jobs = submitted_jobs(out / "runs", set())
        for ckpt in out.glob("runs/*/checkpoints/last.pt"):
            run = ckpt.parent.parent.name
            n = re.search(r"(?:^|,)n=(\d+)", run).group(1)
            job = next((j for j in jobs if f"n={n}" in (job_overrides(j) or [])), None)
            if run not in signalled and job is not None and load_checkpoint(str(ckpt))["step"] >= RESUME_AT:
                subprocess.run(["scancel", "--signal=USR2", job.job_id], check=True)
                signalled[run] = job.job_id
        return len(signalled) == 2
    _wait_for(signal_each_run_past_the_first_quarter, f"both runs' checkpoints at step {RESUME_AT}", proc)
    stdout, stderr = proc.communicate(timeout=900)
    assert proc.returncode == 0, stderr + stdout

    # the jobs asked SLURM for the limit and its signal, were requeued as timed out, and resumed
    script = next((out / "runs" / ".submitit").glob("*/*_submission.sh")).read_text()
    assert "#SBATCH --signal=USR2@30" in script and "#SBATCH --time=10" in script, script
    for run, job_id in signalled.items():
        show = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True).stdout
        restarts = re.search(r"Restarts=(\d+)", show)
        assert restarts and int(restarts.group(1)) == 1, f"{run}: job {job_id} was not requeued once:\n{show}"
        log = (out / "runs" / ".submitit" / job_id / f"{job_id}_0_log.err").read_text()
        assert "this job is timed-out" in log, log
        # the last attempt trained at most 12000 - RESUME_AT steps, so it continued from a checkpoint:
        # train_steps_per_s is its steps over its loop's time and train_time_s is that time plus the
        # set-up (under a second), so the product is 12000 or more for a run trained from step 0
        t = json.loads((out / "runs" / run / "timings.json").read_text())
        assert t["train_steps_per_s"] * t["train_time_s"] < 12000, f"{run} trained from step 0: {t}"
    assert _metrics(out) == _metrics(tmp_path / "whole") and len(_metrics(out)) == 2
