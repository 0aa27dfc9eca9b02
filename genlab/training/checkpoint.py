"""A training loop's checkpoint: written atomically, resumed bit for bit, refused under other settings.

One `Checkpointer` serves every loop (the shared `genlab.training.train` and the
GAN's two-optimiser loop): it writes ``last.pt`` every ``checkpoint_every``
steps and at the end, each time whole or not at all (`save_checkpoint`), and on
resume loads the modules, optimisers, torch's global generator and every named
generator of the loop, so a resumed run replays exactly the draws an
uninterrupted run would have made.

Resume policy (one rule, beside the run directory's, `genlab.config.identity`):
a checkpoint resumes only under the very settings it was written with; every
key of the loop's settings is compared and the differing ones are named.

File format (``torch.load(path, weights_only=True)`` loads it): a dict with
``format`` (the loop's tag), ``step``, one state dict per module and optimiser
under the names the loop gives them, ``rng`` (``torch``, and ``gen/<name>`` per
generator), ``config`` (the settings as a dict), and the loop's own payload
(``losses``, ``extra``, ``history`` ...).
"""

from __future__ import annotations

import io
import os
from typing import Mapping, Optional

import torch

from genlab.core.files import atomic_write_bytes
from genlab.core.interrupts import sigint_held

__all__ = ["CHECKPOINT_NAME", "TRAIN_FORMAT", "Checkpointer", "save_checkpoint", "load_checkpoint"]

CHECKPOINT_NAME = "last.pt"
#: the format tag of the shared loop's checkpoints (`genlab.training.train`)
TRAIN_FORMAT = "genlab-train-v1"


def save_checkpoint(path: str, obj: dict) -> None:
    """``torch.save`` ``obj`` to ``path`` atomically (`genlab.core.files.atomic_write_bytes`), with SIGINT held
    until the file is complete (`genlab.core.interrupts.sigint_held`: an interrupt inside torch.save's zip
    writer would otherwise end the run with the writer's RuntimeError, exit 1, instead of exit 130)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    try:
        with sigint_held():
            buf = io.BytesIO()
            torch.save(obj, buf)
            atomic_write_bytes(path, buf.getvalue())
    except OSError as exc:
        if exc.filename is None:  # write(2) and fsync(2) name no file: name the checkpoint (disk full)
            raise OSError(exc.errno, exc.strerror, path) from exc
        raise


def load_checkpoint(path: str, fmt: str = TRAIN_FORMAT) -> dict:
    """Load a checkpoint with ``weights_only=True``; a bad file, or one of another loop than ``fmt``
    (default: the shared loop's) names, gives a one-line ValueError."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ValueError(f"checkpoint {path} does not exist") from None
    except Exception as exc:  # truncated, not a zip, unsafe pickle ...
        raise ValueError(f"checkpoint {path} cannot be loaded: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    if not isinstance(obj, dict) or obj.get("format") != fmt:
        raise ValueError(f"checkpoint {path} is not a genlab training checkpoint ({fmt})")
    return obj


class Checkpointer:
    """``<checkpoint_dir>/last.pt`` of one training loop (nothing at all without a directory).

    Parameters
    ----------
    checkpoint_dir : str or None
        Where ``last.pt`` lives; None: the loop keeps no checkpoint.
    fmt : str
        The loop's format tag, so one loop never loads another's file.
    config : dict
        The loop's settings, stored with each checkpoint and compared on resume.
    every : int
        Write every this many steps (0: only at the end) ...
    total : int
        ... and at step ``total``, the end.
    modules, optimizers : dict of name -> nn.Module / Optimizer
        Saved and restored by name.
    generators : dict of name -> torch.Generator
        Every generator the loop draws from; their states are saved and restored.
    """

    def __init__(self, checkpoint_dir: Optional[str], fmt: str, config: dict, *, every: int, total: int,
                 modules: Mapping[str, torch.nn.Module], optimizers: Mapping[str, torch.optim.Optimizer],
                 generators: Optional[Mapping[str, torch.Generator]] = None):
        self.path = os.path.join(checkpoint_dir, CHECKPOINT_NAME) if checkpoint_dir else None
        self.fmt, self.config, self.every, self.total = fmt, dict(config), int(every), int(total)
        self.modules, self.optimizers = dict(modules), dict(optimizers)
        self.generators = dict(generators or {})

    def exists(self) -> bool:
        return self.path is not None and os.path.exists(self.path)

    def resume(self) -> Optional[dict]:
        """Load the checkpoint, if there is one, into the modules, optimisers and generators; return it
        (its ``step`` and the loop's payload), or None.

        Raises
        ------
        ValueError
            The checkpoint was written under other settings (the differing keys named), lacks a
            generator's state, or cannot be loaded.
        """
        if not self.exists():
            return None
        ck = load_checkpoint(self.path, self.fmt)
        saved = ck.get("config", {})
        diff = sorted(k for k in set(saved) | set(self.config)
                      if saved.get(k, "<absent>") != self.config.get(k, "<absent>"))
        if diff:
            raise ValueError(f"checkpoint {self.path} was written under other settings; differing keys: "
                             + ", ".join(diff))
        missing = sorted(set(self.generators) - {k[4:] for k in ck["rng"] if k.startswith("gen/")})
        if missing:
            raise ValueError(f"checkpoint {self.path} has no state for generators: {', '.join(missing)}")
        for name, module in self.modules.items():
            module.load_state_dict(ck[name])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(ck[name])
        torch.set_rng_state(ck["rng"]["torch"])
        for name, g in self.generators.items():
            g.set_state(ck["rng"][f"gen/{name}"])
        return ck

    def due(self, done: int) -> bool:
        """Whether a checkpoint is written after ``done`` steps before the end (the end always writes one)."""
        return bool(self.every) and done % self.every == 0 and done < self.total

    def save(self, step: int, **payload) -> None:
        """Write ``last.pt`` for ``step`` with the loop's ``payload`` (nothing without a directory)."""
        if self.path is None:
            return
        save_checkpoint(self.path, {
            "format": self.fmt, "step": step,
            **{name: m.state_dict() for name, m in self.modules.items()},
            **{name: o.state_dict() for name, o in self.optimizers.items()},
            "rng": {"torch": torch.get_rng_state(), **{f"gen/{k}": g.get_state() for k, g in self.generators.items()}},
            "config": self.config, **payload})

    def kept(self) -> str:
        """What a divergence message says about the checkpoint on disk (the last good state)."""
        return (f"the last good checkpoint is kept at {self.path}" if self.exists()
                else "no checkpoint was written")
