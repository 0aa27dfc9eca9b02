"""The families genlab knows: the built-in ones, in the order ``estimator:`` lists them, and the plugins'.

Importing this module registers the built-in families (each declared in its own
package's ``family.py``); the plugins' families are registered when the config
schema is built (`genlab.config.schema.run_schema` imports them, `genlab.plugins`).
The interface and the registry itself live in `genlab.core.family`; everything a
run or a sweep asks of a family goes through `get_family`.
"""

from __future__ import annotations

from genlab.baselines.family import EMPIRICAL, KDE
from genlab.core.family import Family, Fitted, ReplicaFit, family_names, get_family, register_family
from genlab.diffusion.family import DIFFUSION
from genlab.gan.family import GAN
from genlab.icl.family import ICL

__all__ = ["Family", "Fitted", "ReplicaFit", "register_family", "get_family", "family_names", "family_sections",
           "BUILTIN"]

#: the built-in families, in the order the unknown-estimator error lists them
BUILTIN = (EMPIRICAL, KDE, DIFFUSION, GAN, ICL)


def family_sections() -> tuple:
    """The config sections the registered families own (a run records only its own family's section)."""
    return tuple(get_family(n).section for n in family_names() if get_family(n).section)


for _family in BUILTIN:
    if _family.name not in family_names():
        register_family(_family)
