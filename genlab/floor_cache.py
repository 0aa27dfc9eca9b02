"""Noise floors computed once per (truth, metric, m, reps, evaluation seed) and kept on disk.

Every run of a sweep is scored against the same truth samples (the
evaluation seed depends on neither n nor the training seed), so every run
has the same floor.  At large m a floor is the costly part of a run (exact
W1 between two samples of 16,000 points solves a 16,000 x 16,000 transport
problem), so it is computed once and stored as JSON under ``eval.floor_cache``.
The key includes a fingerprint of the truth's evaluation samples, so a change
in how a truth samples can never serve a stale floor.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import numpy as np

import metrics as M
from metrics.evaluate import SAMPLE_METRICS
from genlab import __version__
from genlab.runs import atomic_write_text

__all__ = ["cached_floors"]


def _fingerprint(truth_sampler: Callable[[int, int], np.ndarray]) -> str:
    """A digest of 64 points the sampler draws at a fixed seed: changes when sampling does."""
    x = np.ascontiguousarray(truth_sampler(64, 20261122), dtype=np.float64)
    return hashlib.sha256(x.tobytes()).hexdigest()[:16]


def cached_floors(cache_dir: str | None, truth_key: dict, truth_sampler, names: list[str], *, m: int,
                  reps: int, seed: int) -> dict[str, M.NoiseFloor]:
    """Floors of the sample metrics among ``names``, read from or written to ``cache_dir``.

    With ``cache_dir`` None or empty, nothing is cached and ``{}`` is returned
    (`metrics.evaluate` then computes the floors itself).
    """
    names = [k for k in names if k in SAMPLE_METRICS]
    if not cache_dir or not names:
        return {}
    root = Path(cache_dir).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    fp = _fingerprint(truth_sampler)
    out = {}
    for name in names:
        key = json.dumps({"truth": truth_key, "metric": name, "m": m, "reps": reps, "seed": seed,
                          "samples": fp, "genlab": __version__}, sort_keys=True)
        path = root / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"
        if path.is_file():
            doc = json.loads(path.read_text())
            out[name] = M.NoiseFloor(mean=doc["mean"], std=doc["std"], reps=doc["reps"], m=doc["m"],
                                     values=tuple(doc["values"]))
            continue
        fl = M.metric_floor(truth_sampler, name, m, reps=reps, seed=seed)
        atomic_write_text(path, json.dumps({"key": json.loads(key), "mean": fl.mean,
                                            "std": None if fl.std != fl.std else fl.std,
                                            "reps": fl.reps, "m": fl.m,
                                            "values": [float(v) for v in fl.values]}) + "\n")
        out[name] = fl
    return out
