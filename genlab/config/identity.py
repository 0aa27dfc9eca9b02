"""Which settings define a run: one definition of the keys that do not, and of comparing two runs' settings.

A run is defined by its config less the keys that say where it is kept and how
it is shown.  Those keys are left out of

- the name of a sweep's run directory (`DIRNAME_FREE_KEYS`; Hydra's
  ``override_dirname.exclude_keys`` in recipes/config.yaml names the same, tested),
- the comparison of a run with its resumption or a skipped rerun (`RESUME_FREE_KEYS`,
  `settings_differences`; a checkpoint of a training loop resumes only under the
  very settings it was written with, `genlab.training.checkpoint`),
- a sweep's identity and hash (`PATH_KEYS`, `genlab.sweep.plan`).

The ``rates.*`` keys configure a sweep, never a run (`SWEEP_ONLY_PREFIX`).
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from genlab.config.schema import run_schema
from genlab.core.files import CONFIG_FILE
from genlab.families import family_sections, get_family

__all__ = ["PATH_KEYS", "RESUME_FREE_KEYS", "DIRNAME_FREE_KEYS", "SWEEP_ONLY_PREFIX", "run_config",
           "settings_differences", "config_differences"]

#: keys that name where something is kept, not what a run computes
PATH_KEYS = ("eval.floor_cache",)
#: keys that may differ between a run and its resumption (or a skipped rerun): where it is written, how it
#: is shown, and the switches that ask to resume or skip
RESUME_FREE_KEYS = ("out_dir", "progress", "resume", "skip_complete", *PATH_KEYS)
#: keys left out of a sweep's run-directory names: those, the recipe (the sweep directory names it) and the
#: device (a run's numbers do not depend on it on CPU, and a sweep may move between machines)
DIRNAME_FREE_KEYS = ("recipe", "out_dir", "progress", "device", "skip_complete", "resume", *PATH_KEYS)
#: keys that configure a sweep (scripts/rates.py), never the run itself
SWEEP_ONLY_PREFIX = "rates."


def _flatten(tree, prefix: str = "") -> dict:
    if isinstance(tree, dict):
        out = {}
        for k, v in tree.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: tree}


def run_config(cfg) -> dict:
    """The config a run records in config.yaml: every section but the other families' ones.

    A KDE run's config.yaml held every diffusion, GAN and ICL key, none of which it reads.
    """
    tree = OmegaConf.to_container(OmegaConf.structured(cfg) if not OmegaConf.is_config(cfg) else cfg,
                                  resolve=False)
    return _own_sections(tree)


def _own_sections(tree: dict) -> dict:
    """``tree`` without the config sections of the families other than its estimator's (`genlab.families`)."""
    sections = family_sections()
    try:
        own = get_family(tree.get("estimator")).section
    except ValueError:  # an unknown estimator is validate's to refuse; keep every section meanwhile
        return tree
    return {k: v for k, v in tree.items() if k not in sections or k == own}


def _schema_defaults() -> dict:
    """Every key of the current schema with its default, flattened (all families' sections)."""
    return _flatten(OmegaConf.to_container(OmegaConf.structured(run_schema()), resolve=False))


def settings_differences(saved: dict, cfg, *, ignore: tuple = (), common_only: bool = False) -> list[str]:
    """The keys (sorted, flattened) where a run's recorded config ``saved`` and ``cfg`` differ.

    A key the schema gained after the run was made (absent from ``saved``) differs only where
    ``cfg`` sets it away from its default: a new key's default keeps what the run computed before
    (a run started before ``diffusion.beta1`` existed resumes under the default 0.9, not under
    0.5).  ``ignore``: further keys to leave out; ``common_only``: compare only the keys both have.
    """
    # (a config.yaml written before runs recorded only their own family's section holds them all)
    saved = _flatten(_own_sections(saved))
    now = _flatten(run_config(cfg))
    keys = set(saved) & set(now) if common_only else set(saved) | set(now)
    keys = {k for k in keys if k not in RESUME_FREE_KEYS and k not in ignore and not k.startswith(SWEEP_ONLY_PREFIX)}
    added = {k for k in keys if k not in saved}
    defaults = _schema_defaults() if added else {}
    return sorted(k for k in keys
                  if (now[k] != defaults.get(k, "<no default>") if k in added
                      else saved[k] != now.get(k, "<absent>")))


def config_differences(run_dir: Path, cfg, what: str, *, ignore: tuple = (), common_only: bool = False) -> list[str]:
    """The keys (sorted, flattened) where ``run_dir``'s config.yaml and ``cfg`` differ (`settings_differences`).

    ``what`` names the check in the error raised when config.yaml cannot be read.
    """
    try:
        saved = OmegaConf.to_container(OmegaConf.load(run_dir / CONFIG_FILE))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{what}: cannot read {run_dir / CONFIG_FILE}: {' '.join(str(exc).split())}") from None
    return settings_differences(saved, cfg, ignore=ignore, common_only=common_only)
