"""Plugins: modules outside genlab that register families and truths, found by name or by entry point.

A plugin is a module that, when imported, calls `genlab.register_family` and/or
`genlab.register_truth`; it may set ``GENLAB_RECIPES`` to a directory holding
``recipe/<name>.yaml`` files, which `scripts/train.py` and `scripts/rates.py`
then find beside genlab's own recipes.  Plugins are imported once per process
(every job of a sweep imports them again, from the environment it inherits):

- the modules named in the environment variable ``GENLAB_PLUGINS``, separated by commas;
- the entry points of the group ``genlab.plugins`` of installed packages
  (``[project.entry-points."genlab.plugins"] mine = "mylab.family"`` in their pyproject.toml).

A plugin that cannot be imported is an error naming it, not a silent gap in the registry.
"""

from __future__ import annotations

import functools
import importlib
import os
from importlib.metadata import entry_points
from pathlib import Path

__all__ = ["ENV", "ENTRY_POINT_GROUP", "load_plugins", "plugin_recipe_dirs"]

ENV = "GENLAB_PLUGINS"
ENTRY_POINT_GROUP = "genlab.plugins"

#: module name -> the module, for the plugins this process has imported
_LOADED: dict = {}


@functools.lru_cache(maxsize=1)
def _entry_point_modules() -> tuple:
    """The modules of the installed entry points (read once: the installed packages do not change in a process)."""
    return tuple(ep.value.split(":", 1)[0] for ep in entry_points(group=ENTRY_POINT_GROUP))


def _names() -> list[str]:
    named = [n.strip() for n in os.environ.get(ENV, "").split(",") if n.strip()]
    return list(dict.fromkeys(named + list(_entry_point_modules())))


def load_plugins() -> list:
    """Import every plugin not imported yet (`GENLAB_PLUGINS`, entry points); return all loaded modules.

    Raises
    ------
    ImportError
        One line naming the plugin that failed and why.
    """
    for name in _names():
        if name in _LOADED:
            continue
        try:
            _LOADED[name] = importlib.import_module(name)
        except ImportError as exc:
            raise ImportError(f"genlab plugin '{name}' ({ENV} or entry point {ENTRY_POINT_GROUP}) cannot be "
                              f"imported: {' '.join(str(exc).split())}") from None
    return list(_LOADED.values())


def plugin_recipe_dirs() -> list[Path]:
    """The ``GENLAB_RECIPES`` directories of the loaded plugins, in load order."""
    dirs = []
    for module in load_plugins():
        where = getattr(module, "GENLAB_RECIPES", None)
        if where is not None:
            dirs.append(Path(where).resolve())
    return list(dict.fromkeys(dirs))
