"""``scripts/train.py``: one run (or a Hydra multirun of runs) under ``@hydra.main``, with one-line errors.

The command line is checked first (`genlab.run.overrides`); errors raised while
a run works are printed as one line by `_fail`, and a sweep's failed jobs are
counted and reported at its end.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from omegaconf import OmegaConf

from genlab.config.compose import RECIPES_DIR, ConfigError, available_recipes, searchpath_overrides
from genlab.config.schema import register_schema
from genlab.core.validation import error_line
from genlab.run.guard import complete_run_of
from genlab.run.overrides import check_out_dir, check_overrides
from genlab.run.report import metrics_table
from genlab.training import TrainingDiverged

__all__ = ["main_entry", "usage"]


def _train_task(cfg_node) -> dict:
    """Hydra task of scripts/train.py: one run into Hydra's output directory."""
    from hydra.core.hydra_config import HydraConfig

    # imported here, not at the top: the pipeline draws pictures (pyplot, ~0.1 s), which a command refused
    # by its checks never needs
    from genlab.run.pipeline import run

    cfg = OmegaConf.to_object(cfg_node)
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    cfg.out_dir = str(run_dir)
    try:
        done = complete_run_of(cfg, run_dir) if cfg.skip_complete else None
        if done is not None:
            print(f"{run_dir}  complete already, skipped", flush=True)
            return done
        result = run(cfg, run_dir, progress=cfg.progress)
    except (ValueError, TrainingDiverged) as exc:
        _fail(error_line(exc))
        return None
    except KeyboardInterrupt:
        _interrupted(f"{run_dir} keeps its config.yaml and last checkpoint (if one was written); "
                     f"resume=true continues the run")
    except OSError as exc:  # disk full, quota, a directory gone: every file is written atomically
        where = f" {exc.filename}" if exc.filename else ""
        _fail(error_line(f"cannot write{where} in {run_dir}: {exc.strerror or exc}; the files written "
                         f"before are intact (each is written whole or not at all)"))
        return None
    print(metrics_table(result.metrics), end="")
    print(result.headline(), flush=True)
    return result.metrics


#: a directory, made by main_entry and inherited by the sweep's worker processes (joblib,
#: submitit), where each failed job leaves one file: the parent counts them after the sweep
_FAILURES_ENV = "GENLAB_SWEEP_FAILURES"


def _fail(message: str) -> None:
    """Report a failed run in one line: exit now in a single run; in a sweep, go on and exit 1 at the end.

    Hydra would add its own lines (the overrides, a hint about HYDRA_FULL_ERROR)
    around an exception, so the message is printed here and the process ends
    with ``sys.exit`` (SystemExit passes through Hydra untouched).  In a sweep
    the job may run in another process (joblib, submitit), so the failure is
    recorded as a file in ``$GENLAB_SWEEP_FAILURES``, not in this process's memory.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    print(message, file=sys.stderr, flush=True)
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        where = os.environ.get(_FAILURES_ENV)
        if where and os.path.isdir(where):
            fd, _ = tempfile.mkstemp(prefix="failed-", suffix=".txt", dir=where)
            with os.fdopen(fd, "w") as fh:
                fh.write(message + "\n")
        return
    sys.exit(2)


def usage(task: str) -> str:
    """The help printed for ``--help`` without a recipe: how to call, the recipes, where the keys are."""
    script = {"train": "train.py", "rates": "rates.py"}[task]
    what = {"train": "train one estimator on a known truth and evaluate it against the truth",
            "rates": "sweep a recipe over n and seeds, fit rates and draw them beside theory"}[task]
    return "\n".join([
        f"usage: python scripts/{script} recipe=NAME [key=value ...]" + ("  [-m key=a,b,c ...]" if task == "train" else ""),
        "",
        f"{script}: {what}.",
        "",
        "recipes: " + ", ".join(available_recipes()),
        "",
        "python scripts/train.py recipe=NAME --help   that recipe's config, every key with its value"
        + ("" if task == "train" else " (rates.py takes the same keys, and rates.*)"),
        "python scripts/train.py recipe=NAME --cfg job   the resolved config, without running",
        "keys: README.md (What a run writes, Rates); overrides use Hydra's grammar (key=value, +key, ~key)",
    ])


def _interrupted(what: str) -> None:
    """End on SIGINT with one line (Hydra would print the KeyboardInterrupt's traceback) and exit 130."""
    print(error_line(f"interrupted (SIGINT): {what}"), file=sys.stderr, flush=True)
    sys.exit(130)


_TASKS = {"train": _train_task}


def _checked_argv(task: str) -> list[str] | None:
    """The command line, checked (exit 2 with one line if a run it asks for cannot work), with the plugins'
    recipe directories on Hydra's search path; None when only the usage is to be printed."""
    argv = sys.argv[1:]
    if any(a in ("--help", "-h") for a in argv) and not any(a.split("=", 1)[0].lstrip("+~") == "recipe"
                                                             for a in argv):
        print(usage(task))  # Hydra's own help composes the config, which needs a recipe
        return None
    try:
        if not any(a in ("--help", "-h", "--hydra-help", "--info", "-i") for a in argv):
            check_overrides(argv)
            check_out_dir(argv)
        return [*argv, *searchpath_overrides()]
    except ConfigError as exc:
        print(error_line(exc), file=sys.stderr)
        sys.exit(2)


def main_entry(task: str) -> None:
    """Run ``task`` under ``@hydra.main`` after checking the command line (one-line errors); a sweep whose
    jobs failed exits 1 after the others ran, naming how many."""
    import hydra

    argv = _checked_argv(task)
    if argv is None:
        return
    sys.argv[1:] = argv
    register_schema()
    failures = tempfile.mkdtemp(prefix="genlab-sweep-")
    os.environ[_FAILURES_ENV] = failures
    try:
        try:
            hydra.main(config_path=str(RECIPES_DIR), config_name="config", version_base="1.3")(_TASKS[task])()
        except KeyboardInterrupt:  # outside a run (Hydra's set-up, a sweep between its jobs)
            _interrupted("complete runs are kept; rerun the command to continue")
        failed = len(os.listdir(failures))
    finally:
        shutil.rmtree(failures, ignore_errors=True)
        os.environ.pop(_FAILURES_ENV, None)
    if failed:
        print(error_line(f"{failed} run(s) of the sweep failed"), file=sys.stderr)
        sys.exit(1)
