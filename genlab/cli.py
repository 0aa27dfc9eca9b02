"""Command-line front end shared by the scripts: Hydra overrides checked up front, one-line errors.

Hydra reports a bad override as several lines plus a hint about
HYDRA_FULL_ERROR.  Before handing ``sys.argv`` to ``@hydra.main`` the scripts
call `check_overrides`, which composes the config once per value of every
sweep (through Hydra's compose API, so the grammar is Hydra's own) and turns
the first failure into one line that names the key; value checks (n > 0, the
truth's parameters, ...) run for every combination too, so a bad value
anywhere in a sweep fails before the first run.  Errors raised while a run
works are printed as one line by `_fail`.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import CompactHydraException, MissingConfigException, OverrideParseException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from genlab.config import register_schema
from genlab.validation import error_line

__all__ = ["RECIPES_DIR", "ConfigError", "available_recipes", "check_overrides",
           "compose_config", "usage"]

RECIPES_DIR = Path(__file__).resolve().parent.parent / "recipes"

# Hydra's own flags, which carry no config override.
_FLAGS_WITH_VALUE = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd",
                     "--experimental-rerun", "--info", "-i"}


class ConfigError(ValueError):
    """A config or override that cannot be used; the message is one line."""


def available_recipes() -> list[str]:
    """Names of the recipes in ``recipes/recipe/``, sorted."""
    return sorted(p.stem for p in (RECIPES_DIR / "recipe").glob("*.yaml"))


def _one_line(exc: BaseException) -> str:
    """The first informative line of an OmegaConf / Hydra error, with the key named."""
    cause = exc
    while cause.__cause__ is not None and not isinstance(cause, OmegaConfBaseException):
        cause = cause.__cause__
    if isinstance(cause, OmegaConfBaseException):
        key = getattr(cause, "full_key", None)
        msg = str(cause).strip().splitlines()[0]
        if "not in struct" in msg or "Key '" in msg and "not in" in msg:
            return f"unknown config key '{key}'" if key else msg
        if key:
            return f"{key}: {msg}"
        return msg
    return " ".join(str(exc).split())


def compose_config(overrides: list[str], hydra: bool = False):
    """Compose the run config for plain ``key=value`` overrides (no sweeps); raise ConfigError.

    ``hydra=True`` keeps Hydra's own node (``cfg.hydra.launcher``, ...) in the result.
    """
    register_schema()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(RECIPES_DIR), version_base="1.3"):
            cfg = compose(config_name="config", overrides=overrides, return_hydra_config=hydra)
    except MissingConfigException as exc:
        text = str(exc)
        if "recipe" in text:
            name = next((o.split("=", 1)[1] for o in overrides if o.startswith("recipe=")), None)
            what = f"unknown recipe '{name}'" if name else "no recipe given (recipe=NAME)"
            raise ConfigError(f"{what}; available: {', '.join(available_recipes())}") from None
        raise ConfigError(_one_line(exc)) from None
    except (OmegaConfBaseException, CompactHydraException, ValueError) as exc:
        raise ConfigError(_one_line(exc)) from None
    finally:
        GlobalHydra.instance().clear()
    _check_known_keys(cfg)
    return cfg


def _leaf_keys(node, prefix: str = "") -> list[str]:
    """The dotted keys of the leaves of a DictConfig (``hydra`` left out)."""
    out = []
    for k in node.keys():
        if not prefix and k == "hydra":
            continue
        child = node._get_node(k)
        if isinstance(child, DictConfig):
            out += _leaf_keys(child, f"{prefix}{k}.")
        else:
            out.append(f"{prefix}{k}")
    return out


@functools.lru_cache(maxsize=1)
def _schema_keys() -> frozenset:
    """Every leaf key of the run schema, built once (compose_config runs per job and per sweep value)."""
    from genlab.config import RunConfig

    return frozenset(_leaf_keys(OmegaConf.structured(RunConfig)))


def _check_known_keys(cfg) -> None:
    """Refuse a key the schema does not know: ``+kde.bandwith=0.5`` or ``+foo=1`` would otherwise be
    added by Hydra's ``+`` and then dropped without a word when the config becomes a RunConfig."""
    known = _schema_keys()
    for key in _leaf_keys(cfg):
        if key not in known:
            raise ConfigError(f"unknown config key '{key}'")


def _check_no_missing(cfg) -> None:
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise ConfigError(f"config key '{missing[0]}' has no value; set it with {missing[0]}=...")


def check_overrides(argv: list[str]) -> None:
    """Raise ConfigError (one line) unless every run the command line asks for composes.

    ``argv`` is ``sys.argv[1:]``.  Hydra's own flags and ``hydra.*`` / ``hydra/*``
    overrides are passed through unchecked.  For a sweep (``-m`` with ``a=1,2``)
    each combination of sweep values is composed, so that a bad value anywhere
    in the sweep fails before the first run starts.
    """
    plain: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in _FLAGS_WITH_VALUE:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        plain.append(arg)
    if not any(a.split("=", 1)[0].lstrip("+~") == "recipe" for a in plain):
        raise ConfigError(f"no recipe given (recipe=NAME); available: {', '.join(available_recipes())}")
    try:
        parsed = OverridesParser.create().parse_overrides(plain)
    except OverrideParseException as exc:
        raise ConfigError(" ".join(str(exc).split())) from None
    fixed, sweeps = [], []
    for ov, text in zip(parsed, plain):
        if ov.key_or_group.startswith("hydra"):
            continue
        if ov.is_sweep_override():
            values = [f"{ov.get_key_element()}={v}" for v in ov.sweep_string_iterator()]
            if not values:
                raise ConfigError(f"{ov.key_or_group}: the sweep is empty")
            sweeps.append(values)
        else:
            fixed.append(text)
    for combo in itertools.product(*sweeps):
        cfg = compose_config(fixed + list(combo))
        _check_no_missing(cfg)
        _check_values(cfg, " ".join(combo))


def _check_values(cfg_node, where: str) -> None:
    """Value checks of a composed config (cheap: no data, no model)."""
    from genlab.experiment import build_truth, check_metrics_for_truth, validate
    from genlab.families import get_family

    cfg = OmegaConf.to_object(cfg_node)
    try:
        validate(cfg)
        if get_family(cfg.estimator).fits_truth:  # ICL's law is over prompts (cfg.icl), not cfg.truth
            check_metrics_for_truth(cfg, build_truth(cfg))
    except ValueError as exc:
        prefix = f"{where}: " if where else ""
        raise ConfigError(prefix + " ".join(str(exc).split())) from None


def _check_out_dir(argv: list[str]) -> None:
    """Create an explicit out_dir and probe it, so an unwritable one fails before any work.

    (``os.access`` is no test: for root it says yes even under /proc.)  Hydra
    uses this very directory as its run (or sweep) directory.
    """
    from genlab.runs import ensure_writable_dir

    for arg in argv:
        if arg.startswith("out_dir=") and "${" not in arg:
            try:
                ensure_writable_dir(Path(arg.split("=", 1)[1]).expanduser())
            except ValueError as exc:
                raise ConfigError(str(exc)) from None


#: a value within this factor of its floor is marked in the run table: it measures the metric's own
#: sampling error more than the model (the 3x rule of `rates.floor_factor`)
AT_FLOOR = 3.0


def _print_metrics(mx: dict) -> None:
    """The table of every metric that has a floor; a metric left out of ``mx`` is printed as undefined.

    (A GAN with no high-quality sample has no mode histogram, so ``mode_reverse_kl``
    is left out while its floor is there: `genlab.gan.monitor.mode_statistics`.)
    """
    names = sorted(k[: -len("_floor")] for k in mx if k.endswith("_floor"))
    if not names:
        return
    print(f"{'metric':<16}{'value':>12}{'95% CI':>26}{'floor':>12}")
    for name in names:
        lo, hi = mx.get(f"{name}_ci_low"), mx.get(f"{name}_ci_high")
        ci = f"[{lo:.4g}, {hi:.4g}]" if lo is not None and hi is not None else ""
        value = f"{mx[name]:>12.4g}" if mx.get(name) is not None else f"{'undefined':>12}"
        notes = ["lower bound"] if mx.get(f"{name}_is_lower_bound") else []
        floor = mx[name + "_floor"]
        if mx.get(name) is not None and floor is not None and floor > 0 and mx[name] <= AT_FLOOR * floor:
            notes.append(f"within {AT_FLOOR:g}x floor")
        print(f"{name:<16}{value}{ci:>26}{floor:>12.3g}" + "".join(f"  {n}" for n in notes))


def _train_task(cfg_node) -> dict:
    """Hydra task of scripts/train.py: one run into Hydra's output directory."""
    from hydra.core.hydra_config import HydraConfig

    from genlab.experiment import run

    cfg = OmegaConf.to_object(cfg_node)
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    cfg.out_dir = str(run_dir)
    from genlab.run_guard import complete_run_of
    from genlab.training import TrainingDiverged

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
    _print_metrics(result.metrics)
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
    import os
    import sys
    import tempfile

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
    import sys

    print(error_line(f"interrupted (SIGINT): {what}"), file=sys.stderr, flush=True)
    sys.exit(130)


_TASKS = {"train": _train_task}


def main_entry(task: str) -> None:
    """Run ``task`` under ``@hydra.main`` after checking the command line (one-line errors)."""
    import sys

    import hydra

    argv = sys.argv[1:]
    if any(a in ("--help", "-h") for a in argv) and not any(a.split("=", 1)[0].lstrip("+~") == "recipe"
                                                             for a in argv):
        print(usage(task))  # Hydra's own help composes the config, which needs a recipe
        return
    try:
        if not any(a in ("--help", "-h", "--hydra-help", "--info", "-i") for a in argv):
            check_overrides(argv)
            _check_out_dir(argv)
    except ConfigError as exc:
        print(error_line(exc), file=sys.stderr)
        sys.exit(2)
    register_schema()
    import os
    import shutil
    import tempfile

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
