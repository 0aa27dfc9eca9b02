"""What the study scripts (`genlab.cli.score_regimes`, `genlab.cli.memorisation`, `genlab.cli.task_diversity`)
share: running their scripts/train.py runs, the KDE score's held-out bandwidth in the coordinates it smooths
in, the memorisation references drawn from the truth, the command line, and how a seed mean is printed."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from genlab.baselines.bandwidth import held_out
from genlab.core.seeding import derive_seed, make_generator
from genlab.diffusion.memorization import distance_to_training, memorization_fraction

__all__ = ["TRAIN", "M_CHANCE", "run_commands", "standardised_held_out", "truth_references",
           "memorisation_references", "fmt_mean_ci", "split_study_args", "int_list", "one_int"]

#: the script every study run goes through
TRAIN = Path(__file__).resolve().parents[2] / "scripts" / "train.py"
#: fresh truth points scored for the chance level of the memorisation fraction
M_CHANCE = 2000


def run_commands(commands: list[tuple[str, list[str]]], jobs: int) -> list[str]:
    """Run each ``(name, scripts/train.py arguments)`` as a subprocess, ``jobs`` at a time (one thread each when
    jobs > 1), printing "running <name>" as each starts; returns one line per failed run (its last stderr line)."""
    env = dict(os.environ, **({"OMP_NUM_THREADS": "1"} if jobs > 1 else {}))

    def one(job) -> str | None:
        name, args = job
        print(f"running {name}", flush=True)
        done = subprocess.run([sys.executable, str(TRAIN), *args], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            return f"{name}: {(done.stderr.strip().splitlines() or ['exit status'])[-1]}"
        return None

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return [e for e in pool.map(one, commands) if e is not None]


def standardised_held_out(x: torch.Tensor) -> float:
    """The held-out-likelihood bandwidth (`genlab.baselines.bandwidth.held_out`) of x (n, d) standardised per
    axis by its mean and sd: the coordinates ``diffusion.score=kde`` smooths in (`diffusion.standardize`)."""
    return held_out((x - x.mean(0)) / x.std(0))


def truth_references(truth, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """What a seed's memorisation numbers are read against, float64: n fresh truth points (``derive_seed(seed,
    "fresh")``, as many as the training set) and `M_CHANCE` more for the chance level (``"chance"``)."""
    fresh = truth.sample(n, generator=make_generator(derive_seed(seed, "fresh"))).to(torch.float64)
    chance = truth.sample(M_CHANCE, generator=make_generator(derive_seed(seed, "chance"))).to(torch.float64)
    return fresh, chance


def memorisation_references(samples: torch.Tensor, x_train: torch.Tensor, fresh: torch.Tensor,
                            chance: torch.Tensor) -> tuple[float, float]:
    """(chance level, d(train) / d(fresh)): the memorisation fraction (Gu et al. 2023) the fresh points
    ``chance`` get against ``x_train``, and the samples' mean distance to ``x_train`` over that to ``fresh``."""
    return (memorization_fraction(chance, x_train),
            distance_to_training(samples, x_train, fresh)["nn_dist_ratio"])


def fmt_mean_ci(entry: tuple, digits: int = 3) -> str:
    """``(mean, half_width, count)`` as "mean ± half" (the mean alone without an interval; "—" when missing).

    >>> fmt_mean_ci((0.1234, 0.0456, 3)), fmt_mean_ci((2.0, float("nan"), 1)), fmt_mean_ci((float("nan"), 0, 0))
    ('0.123 ± 0.046', '2', '—')
    """
    mean, half, _ = entry
    if not math.isfinite(mean):
        return "—"
    return f"{mean:.{digits}g}" + (f" ± {half:.2g}" if math.isfinite(half) else "")


def split_study_args(argv: list[str], defaults: dict, reserved, usage: str) -> tuple[dict, list[str]]:
    """A study's command line: its own ``key=value`` (the keys of ``defaults``, which give their defaults) and
    every other ``key=value``, a run override forwarded to every run.  ``reserved`` keys (and ``hydra*``), which
    the study sets for each run, are refused; so is an argument that is not ``key=value`` (``usage`` says what
    to give).  One-line ValueErrors.

    >>> split_study_args(["seeds=5", "eval.m=4000"], {"seeds": "3"}, ("seed",), "seeds=K")
    ({'seeds': '5'}, ['eval.m=4000'])
    """
    opts, forward = dict(defaults), []
    for a in argv:
        key, eq, value = a.partition("=")
        if not eq:
            raise ValueError(f"argument {a!r} is not key=value; give {usage} and run overrides")
        if key in opts:
            opts[key] = value
        elif key.lstrip("+~") in reserved or key.startswith("hydra"):
            raise ValueError(f"{key} is set by the study for each run; it cannot be given")
        else:
            forward.append(a)
    return opts, forward


def int_list(name: str, text: str, least: int, sort_key=None) -> list[int]:
    """The distinct integers of a comma-separated ``text``, each >= ``least``, sorted (by ``sort_key``); a
    repeated value would run one directory twice at once, so it counts once.  One-line ValueErrors.

    >>> int_list("n", "64,16,64", 2), int_list("M", "4,0,1", 0, sort_key=lambda v: (v == 0, v))
    ([16, 64], [1, 4, 0])
    """
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"{name} must be integers, got {name}={text}") from None
    if min(values) < least:
        raise ValueError(f"{name} must be >= {least}, got {name}={text}")
    return sorted(set(values), key=sort_key)


def one_int(name: str, text: str) -> int:
    """A count >= 1 (seeds, jobs) given as one integer."""
    if "," in text:
        raise ValueError(f"{name} is one integer, got {name}={text}")
    return int_list(name, text, 1)[0]
