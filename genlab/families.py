"""The families genlab knows: the built-in ones, found in their packages, and the plugins'.

Importing this module registers the built-in families: every package of genlab
with a ``family.py`` that lists ``FAMILIES`` (`genlab.baselines.family`:
empirical and kde; `genlab.diffusion.family`; `genlab.gan.family`;
`genlab.icl.family`), in the order of the packages' names, so a new family
package is found with no edit here.  The plugins' families are registered when
the config schema is built (`genlab.config.schema.run_schema` imports them,
`genlab.plugins`).  The interface and the registry itself live in
`genlab.core.family`; everything a run or a sweep asks of a family goes through
`get_family`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from genlab.core.family import Family, Fitted, ReplicaFit, family_names, get_family, register_family

__all__ = ["Family", "Fitted", "ReplicaFit", "register_family", "get_family", "family_names", "family_sections",
           "builtin_families"]

_PACKAGE = Path(__file__).resolve().parent


def builtin_families() -> tuple:
    """The families declared by genlab's own packages (``<package>/family.py``'s ``FAMILIES``), by package name."""
    found = []
    for family_py in sorted(_PACKAGE.glob("*/family.py")):
        module = importlib.import_module(f"genlab.{family_py.parent.name}.family")
        found += list(getattr(module, "FAMILIES", ()))
    return tuple(found)


def family_sections() -> tuple:
    """The config sections the registered families own (a run records only its own family's section)."""
    return tuple(get_family(n).section for n in family_names() if get_family(n).section)


for _family in builtin_families():
    if _family.name not in family_names():
        register_family(_family)
