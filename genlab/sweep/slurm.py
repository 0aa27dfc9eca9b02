"""The SLURM jobs of a sweep: which a launch submitted, waiting for all of them, and which failed.

Hydra's submitit launcher submits a multirun as one job array and then
collects the results in order, raising at the first job that failed or was
cancelled: ``train.py -m`` ends while later array tasks still run, and a
rerun would submit duplicates of them.  A sweep therefore watches the jobs
itself, through submitit (the library the launcher submits with, whose
``SlurmJob`` reads the scheduler's state from ``sacct``): it waits until
every job it submitted has ended, and names each one that did not complete,
with its SLURM state, the run it was for, and its log.

Each job of a sweep has a folder ``<runs_dir>/.submitit/<job id>`` (the
launcher's ``submitit_folder``, ``${hydra.sweep.dir}/.submitit/%j``, with
``hydra.sweep.dir`` the sweep's runs directory); the jobs a launch submitted
are the folders that were not there before it.
"""

from __future__ import annotations

import time
from pathlib import Path

__all__ = ["launcher_names", "is_cluster_launcher", "job_folders", "submitted_jobs", "wait_for", "job_overrides", "job_problems"]

#: the folder under a sweep's runs directory where submitit keeps each job's files
SUBMITIT_DIR = ".submitit"


def launcher_names(launcher_overrides: list[str]) -> list[str]:
    """The launchers that ``hydra/launcher=NAME`` overrides choose (none: Hydra's default, joblib here)."""
    return [a.split("=", 1)[1] for a in launcher_overrides if a.startswith("hydra/launcher=")]


def is_cluster_launcher(launcher_overrides: list[str]) -> bool:
    """Whether ``hydra/launcher=...`` names a SLURM launcher (``submitit_slurm``, ``genlab_slurm``)."""
    return any("slurm" in name for name in launcher_names(launcher_overrides))


def job_folders(runs_dir: Path) -> set[str]:
    """The ids of the jobs (``12345``, or ``12345_3`` for an array task) with a folder under
    ``runs_dir/.submitit`` holding their submission (an array's own folder holds only its sbatch script)."""
    root = runs_dir / SUBMITIT_DIR
    if not root.is_dir():
        return set()
    return {p.name for p in root.iterdir() if (p / f"{p.name}_submitted.pkl").is_file()}


def submitted_jobs(runs_dir: Path, before: set[str]) -> list:
    """submitit ``SlurmJob``s for the folders under ``runs_dir/.submitit`` that are not in ``before``."""
    from submitit import SlurmJob

    new = sorted(job_folders(runs_dir) - before, key=_job_order)
    return [SlurmJob(folder=runs_dir / SUBMITIT_DIR / job_id, job_id=job_id) for job_id in new]


def _job_order(job_id: str) -> tuple[int, int]:
    array, _, task = job_id.partition("_")
    return (int(array) if array.isdigit() else 0, int(task) if task.isdigit() else 0)


def wait_for(jobs: list, *, poll_s: float = 2.0, on_poll=None) -> None:
    """Block until every job in ``jobs`` has ended (its result file written, or sacct says it ended).

    ``on_poll()`` is called between polls (the sweep's progress bar).  submitit
    asks sacct at most every few seconds however often ``done()`` is called.
    """
    pending = list(jobs)
    while pending:
        pending = [j for j in pending if not j.done()]
        if on_poll is not None:
            on_poll()
        if pending:
            time.sleep(poll_s)


def job_overrides(job) -> list[str] | None:
    """The Hydra overrides a job ran with (``n=500``, ``seed=1``, ...), read from its submission; None
    if the submission file is gone or unreadable."""
    try:
        return list(job.submission().args[0])
    except Exception:  # noqa: BLE001 -- any unpickling failure: the job is then named without its run
        return None


def _error_line(path: Path) -> str:
    """The last of genlab's one-line errors (``error: ...``) in a job's stderr, or ''.  (The other
    lines a killed job leaves are srun's: "srun: Force Terminated StepId=16.0".)"""
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines()]
    except OSError:
        return ""
    return next((ln for ln in reversed(lines) if ln.startswith("error:")), "")


def job_problems(jobs: list, keys: tuple[str, ...], run_complete) -> list[str]:
    """One line per job that did not give its run: its id, SLURM state, the run, genlab's error if it
    printed one, and its log.

    ``run_complete(overrides)`` says whether the run of a job's overrides (None:
    unknown) is complete now; the run decides, not the state: a job whose run
    refused to start (a run directory locked by another job, say) ends COMPLETED
    and is a problem, its error line saying why, and one signalled for its time
    limit just as its run ended is FAILED with its run complete.  ``keys`` are
    the overrides that name the run in the message (the swept key and the seed).
    """
    out = []
    for job in jobs:
        overrides = job_overrides(job)
        if run_complete(overrides):  # also FAILED: a time limit's signal can come as a run ends
            continue
        state = job.watcher.get_state(job.job_id, mode="force")
        what = "run unknown" if overrides is None else \
            " ".join(o for o in overrides if o.split("=", 1)[0] in keys)
        error = _error_line(job.paths.stderr)
        out.append(f"job {job.job_id} ({what}): {state}" + (f": {error}" if error else "")
                   + f" (log {job.paths.stderr})")
    return out
