"""What the study scripts (`genlab.cli.score_regimes`, `genlab.cli.memorisation`) share: the KDE score's
held-out bandwidth in the coordinates it smooths in, and how a seed mean with its interval is printed."""

from __future__ import annotations

import math

import torch

from genlab.baselines.bandwidth import held_out

__all__ = ["standardised_held_out", "fmt_mean_ci"]


def standardised_held_out(x: torch.Tensor) -> float:
    """The held-out-likelihood bandwidth (`genlab.baselines.bandwidth.held_out`) of x (n, d) standardised per
    axis by its mean and sd: the coordinates ``diffusion.score=kde`` smooths in (`diffusion.standardize`)."""
    return held_out((x - x.mean(0)) / x.std(0))


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
