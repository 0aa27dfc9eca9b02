"""Who may write a run directory, and whether what it holds belongs to this run.

Three guards, each a one-line ValueError when it refuses:

- **One writer at a time.**  `lock_run_dir` takes an exclusive ``flock`` on
  ``<run_dir>/.genlab.lock`` for as long as the run works; a second run into the
  same directory is refused while the first is alive, naming its pid and host
  (from ``.genlab.lock.holder``, there while the lock is held).
  The kernel drops the lock when its holder dies however it dies (SIGKILL, a
  node lost under SLURM), so the file a killed run leaves behind is a stale
  lock by construction and the next run simply takes it: no pid check, no
  clean-up.  (``flock`` over NFS is emulated with ``fcntl`` byte-range locks by
  Linux since 2.6.12, so cluster file systems are covered too.)
- **A complete run is kept.**  `guard_run_dir` refuses to overwrite one
  (``runs.is_complete``: metrics.json parses and agrees with config.yaml), and
  restarts over an unfinished run's checkpoint only with ``resume=true`` (or a
  SLURM requeue) and the same settings.
- **A skipped run is this run.**  `complete_run_of` returns a complete run's
  metrics only if its config.yaml has the same settings, so ``skip_complete``
  never passes off another recipe's or another n's result as this one.

Settings are compared key by key on the flattened configs, except the keys that
say where and how a run is shown, not what it computes (`genlab.config.identity`).
"""

from __future__ import annotations

import fcntl
import os
import socket
import sys
import time
from pathlib import Path

from omegaconf import OmegaConf

from genlab.config.identity import config_differences, run_config
from genlab.core.files import (CHECKPOINT_DIR, CONFIG_FILE, METRICS_FILE, atomic_write_text, ensure_writable_dir,
                               is_complete, metrics_problem, read_metrics)

__all__ = ["lock_run_dir", "unlock_run_dir", "LOCK_FILE", "HOLDER_FILE", "guard_run_dir", "open_run_dir",
           "complete_run_of", "requeued"]

LOCK_FILE = ".genlab.lock"
HOLDER_FILE = ".genlab.lock.holder"
#: run directory (resolved) -> open file holding its lock, for the runs this process works on
_HELD: dict[Path, object] = {}


def lock_run_dir(run_dir: str | os.PathLike) -> None:
    """Take the run directory's lock for this process, or raise ValueError naming its holder.

    The lock file itself stays empty; the holder's pid, host and start time
    go to ``.genlab.lock.holder`` beside it, removed again by `unlock_run_dir`
    (a killed holder leaves it behind, and the next holder overwrites it).
    Taking a lock this process already holds is a no-op (a replica group
    rerun run by run opens each directory again).
    """
    key = Path(run_dir).resolve()
    if key in _HELD:
        return
    fh = open(key / LOCK_FILE, "a")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        try:
            holder = (key / HOLDER_FILE).read_text().strip()
        except OSError:
            holder = ""
        raise ValueError(f"out_dir {run_dir} is in use by a run that is still working "
                         f"({holder or 'another process'}); wait for it to end, or choose another out_dir") from None
    _HELD[key] = fh
    (key / HOLDER_FILE).write_text(f"pid {os.getpid()} on {socket.gethostname()}, since "
                                   f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime())}\n")


def unlock_run_dir(run_dir: str | os.PathLike) -> None:
    """Release the lock this process holds on ``run_dir`` (nothing if it holds none)."""
    key = Path(run_dir).resolve()
    fh = _HELD.pop(key, None)
    if fh is not None:
        (key / HOLDER_FILE).unlink(missing_ok=True)
        fh.close()  # closing the descriptor releases the flock


def requeued() -> bool:
    """Whether SLURM restarted this job (``SLURM_RESTART_COUNT`` > 0): it then resumes by itself."""
    return int(os.environ.get("SLURM_RESTART_COUNT", "0") or 0) > 0


def guard_run_dir(cfg, run_dir: Path) -> bool:
    """Refuse to overwrite a complete run, or to restart over an unfinished one without resume.

    Returns whether the run resumes (its config.yaml is then kept as it is).

    A run directory holding a checkpoint is continued only with ``resume=true``
    (or under a SLURM requeue), and only by the same settings: its config.yaml
    is compared key by key and the differing keys are named.  A metrics.json
    that does not parse or contradicts config.yaml is no complete run: the run
    is done again, with a one-line warning.
    """
    problem = metrics_problem(run_dir)
    if problem is None:
        raise ValueError(f"out_dir {run_dir} holds a complete run (metrics.json); choose another out_dir "
                         f"(or skip_complete=true to keep it)")
    if (run_dir / METRICS_FILE).exists():
        print(f"warning: {run_dir / METRICS_FILE} is no complete run's record ({problem}); "
              f"the run is done again", file=sys.stderr, flush=True)
    if not (run_dir / CHECKPOINT_DIR).is_dir() or not any((run_dir / CHECKPOINT_DIR).glob("*.pt")):
        return False
    if not (cfg.resume or requeued()):
        raise ValueError(f"out_dir {run_dir} holds the checkpoint of an unfinished run; resume=true "
                         f"continues it, or choose another out_dir")
    diff = config_differences(run_dir, cfg, "resume")
    if diff:
        raise ValueError(f"resume: the checkpoint in {run_dir} belongs to a run with other settings; "
                         f"differing keys: {', '.join(diff)}")
    return True


def complete_run_of(cfg, run_dir: Path) -> dict | None:
    """The metrics of the complete run in ``run_dir`` if it has ``cfg``'s settings; None if none is complete.

    A complete run of other settings is refused (ValueError naming the keys):
    skipping it would report its numbers as this run's.
    """
    if not is_complete(run_dir):
        return None
    diff = config_differences(run_dir, cfg, "skip_complete")
    if diff:
        raise ValueError(f"skip_complete: out_dir {run_dir} holds a complete run with other settings "
                         f"(differing keys: {', '.join(diff)}); choose another out_dir")
    return read_metrics(run_dir)


def open_run_dir(cfg, run_dir: str | os.PathLike) -> Path:
    """Create ``run_dir``, take its lock (released by the caller, however the run ends), refuse what
    `guard_run_dir` refuses, and write config.yaml (`genlab.config.identity.run_config`) unless resuming."""
    run_dir = ensure_writable_dir(run_dir)
    lock_run_dir(run_dir)
    try:
        if not guard_run_dir(cfg, run_dir):
            atomic_write_text(run_dir / CONFIG_FILE, OmegaConf.to_yaml(run_config(cfg)))
    except BaseException:
        unlock_run_dir(run_dir)
        raise
    return run_dir
