"""The command line checked before any work: every run a command asks for composes and passes its value checks.

Before handing ``sys.argv`` to ``@hydra.main`` the scripts call
`check_overrides`, which composes the config once per value of every sweep
(through Hydra's compose API, so the grammar is Hydra's own) and turns the
first failure into one line that names the key; value checks (n > 0, the
truth's parameters, ...) run for every combination too, so a bad value
anywhere in a sweep fails before the first run.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import OverrideParseException
from omegaconf import OmegaConf

from genlab.config.compose import ConfigError, available_recipes, check_no_missing, compose_config
from genlab.core.files import ensure_writable_dir
from genlab.families import get_family
from genlab.run.validate import build_truth, check_metrics_for_truth, validate

__all__ = ["check_overrides", "check_out_dir"]

# Hydra's own flags, which carry no config override.
_FLAGS_WITH_VALUE = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd",
                     "--experimental-rerun", "--info", "-i"}



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
        check_no_missing(cfg)
        _check_values(cfg, " ".join(combo))


def _check_values(cfg_node, where: str) -> None:
    """Value checks of a composed config (cheap: no data, no model)."""
    cfg = OmegaConf.to_object(cfg_node)
    try:
        validate(cfg)
        if get_family(cfg.estimator).fits_truth:  # a whole-run family's law is its own, not cfg.truth
            check_metrics_for_truth(cfg, build_truth(cfg))
    except ValueError as exc:
        prefix = f"{where}: " if where else ""
        raise ConfigError(prefix + " ".join(str(exc).split())) from None


def check_out_dir(argv: list[str]) -> None:
    """Create an explicit out_dir and probe it, so an unwritable one fails before any work.

    (``os.access`` is no test: for root it says yes even under /proc.)  Hydra
    uses this very directory as its run (or sweep) directory.
    """
    for arg in argv:
        if arg.startswith("out_dir=") and "${" not in arg:
            try:
                ensure_writable_dir(Path(arg.split("=", 1)[1]).expanduser())
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
