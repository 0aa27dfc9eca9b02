"""Composing a run's config from a recipe and overrides: Hydra's compose API, one-line errors.

Hydra reports a bad override as several lines plus a hint about
HYDRA_FULL_ERROR; `compose_config` turns the first failure into one line that
names the key (`ConfigError`), and refuses a key the schema does not know.
"""

from __future__ import annotations

import functools
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import CompactHydraException, MissingConfigException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from genlab.config.schema import register_schema, run_schema
from genlab.plugins import plugin_recipe_dirs

__all__ = ["RECIPES_DIR", "ConfigError", "available_recipes", "compose_config", "leaf_keys", "check_no_missing",
           "recipe_dirs", "searchpath_overrides", "load_schema"]

RECIPES_DIR = Path(__file__).resolve().parents[2] / "recipes"


class ConfigError(ValueError):
    """A config or override that cannot be used; the message is one line."""


def load_schema() -> type:
    """The run schema with every plugin's families and truths (`genlab.plugins`); a plugin that cannot be
    imported is a ConfigError naming it."""
    try:
        return run_schema()
    except ImportError as exc:
        raise ConfigError(" ".join(str(exc).split())) from None


def recipe_dirs() -> list[Path]:
    """Where recipes are found: genlab's ``recipes/`` and each plugin's ``GENLAB_RECIPES``."""
    load_schema()
    return [RECIPES_DIR, *plugin_recipe_dirs()]


def searchpath_overrides() -> list[str]:
    """The Hydra override that adds the plugins' recipe directories to the search path ([] if none)."""
    extra = recipe_dirs()[1:]
    return [f"hydra.searchpath=[{','.join(f'file://{d}' for d in extra)}]"] if extra else []


def available_recipes() -> list[str]:
    """Names of the recipes in ``recipes/recipe/`` and in the plugins' recipe directories, sorted."""
    return sorted({p.stem for d in recipe_dirs() for p in (d / "recipe").glob("*.yaml")})


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
    load_schema()
    register_schema()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(RECIPES_DIR), version_base="1.3"):
            cfg = compose(config_name="config", overrides=[*overrides, *searchpath_overrides()],
                          return_hydra_config=hydra)
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


def leaf_keys(node, prefix: str = "") -> list[str]:
    """The dotted keys of the leaves of a DictConfig (``hydra`` left out)."""
    out = []
    for k in node.keys():
        if not prefix and k == "hydra":
            continue
        child = node._get_node(k)
        if isinstance(child, DictConfig):
            out += leaf_keys(child, f"{prefix}{k}.")
        else:
            out.append(f"{prefix}{k}")
    return out


@functools.lru_cache(maxsize=1)
def _schema_keys(schema: type) -> frozenset:
    """Every leaf key of the run schema, built once per schema (compose_config runs per job and per sweep value)."""
    return frozenset(leaf_keys(OmegaConf.structured(schema)))


def _check_known_keys(cfg) -> None:
    """Refuse a key the schema does not know: ``+kde.bandwith=0.5`` or ``+foo=1`` would otherwise be
    added by Hydra's ``+`` and then dropped without a word when the config becomes a RunConfig."""
    known = _schema_keys(run_schema())
    for key in leaf_keys(cfg):
        if key not in known:
            raise ConfigError(f"unknown config key '{key}'")


def check_no_missing(cfg) -> None:
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise ConfigError(f"config key '{missing[0]}' has no value; set it with {missing[0]}=...")
