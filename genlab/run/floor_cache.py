"""Noise floors computed once per (truth, metric, m, reps, evaluation seed) and kept on disk.

Every run of a sweep is scored against the same truth samples (the
evaluation seed depends on neither n nor the training seed), so every run
has the same floor.  At large m a floor is the costly part of a run (exact
W1 between two samples of 16,000 points solves a 16,000 x 16,000 transport
problem), so it is computed once and stored as JSON under ``eval.floor_cache``.

The key holds a fingerprint of the truth's evaluation samples and one of the
code that computes a floor (the source of the ``metrics`` package and of this
module), so a change in how a truth samples or how a metric is computed can
never serve a stale floor.  Each entry carries the digest of its own contents
and is checked on read: an entry that does not parse, was edited, or was
copied under another key's name is recomputed with a one-line warning.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from pathlib import Path
from typing import Callable

import numpy as np

import metrics as M
from metrics.evaluate import SAMPLE_METRICS
from genlab.core.files import atomic_write_text

__all__ = ["cached_floors", "check_floor_cache", "is_cached"]


def _fingerprint(truth_sampler: Callable[[int, int], np.ndarray]) -> str:
    """A digest of 64 points the sampler draws at a fixed seed: changes when sampling does."""
    x = np.ascontiguousarray(truth_sampler(64, 20261122), dtype=np.float64)
    return hashlib.sha256(x.tobytes()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """A digest of the source of the ``metrics`` package and of this module: changes when a floor would."""
    h = hashlib.sha256()
    for path in sorted(Path(M.__file__).parent.glob("*.py")) + [Path(__file__)]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def _digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _read_entry(path: Path, key: dict, m: int, reps: int) -> tuple[M.NoiseFloor | None, str | None]:
    """The floor stored at ``path``, or (None, why it cannot be used)."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"it does not parse ({' '.join(str(exc).split())})"
    if not isinstance(doc, dict) or not {"key", "mean", "std", "reps", "m", "values", "digest"} <= set(doc):
        return None, "fields are missing"
    payload = {k: doc[k] for k in ("key", "mean", "std", "reps", "m", "values")}
    if doc["digest"] != _digest(payload):
        return None, "its contents do not match their digest (edited or truncated)"
    if doc["key"] != key:
        return None, "it holds the floor of another key (copied under this name)"
    if doc["m"] != m or doc["reps"] != reps or len(doc["values"]) != reps:
        return None, "its sizes disagree with its key"
    std = float("nan") if doc["std"] is None else doc["std"]
    return M.NoiseFloor(mean=doc["mean"], std=std, reps=doc["reps"], m=doc["m"],
                        values=tuple(doc["values"])), None


def _not_a_directory(root: Path) -> ValueError:
    return ValueError(f"eval.floor_cache {root} is not a directory; point it at a directory "
                      f"(or eval.floor_cache=null to compute floors in each run)")


def check_floor_cache(cache_dir: str | None) -> None:
    """Refuse (ValueError, one line) an ``eval.floor_cache`` that exists and is not a directory."""
    root = Path(cache_dir).expanduser() if cache_dir else None
    if root is not None and root.exists() and not root.is_dir():
        raise _not_a_directory(root)


def _root(cache_dir: str) -> Path:
    root = Path(cache_dir).expanduser()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # it, or a folder above it, is a file
        raise _not_a_directory(root) from None
    except OSError as exc:
        raise ValueError(f"eval.floor_cache {root}: {exc.strerror or exc}") from None
    return root


def _entry(root: Path, truth_key: dict, fingerprint: str, name: str, m: int, reps: int,
           seed: int) -> tuple[dict, Path]:
    """The cache key of one floor and the file that holds it under ``root``."""
    key = {"truth": truth_key, "metric": name, "m": m, "reps": reps, "seed": seed, "samples": fingerprint,
           "code": _code_fingerprint()}
    key = json.loads(json.dumps(key, sort_keys=True))  # as it reads back (tuples become lists)
    return key, root / f"{hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]}.json"


def is_cached(cache_dir: str | None, truth_key: dict, truth_sampler, name: str, *, m: int, reps: int,
              seed: int) -> bool:
    """Whether `cached_floors` would read the floor of ``name`` from ``cache_dir`` (a valid entry)
    rather than compute it; creates nothing."""
    root = Path(cache_dir).expanduser() if cache_dir else None
    if root is None or not root.is_dir() or name not in SAMPLE_METRICS:
        return False
    key, path = _entry(root, truth_key, _fingerprint(truth_sampler), name, m, reps, seed)
    return path.is_file() and _read_entry(path, key, m, reps)[0] is not None


def cached_floors(cache_dir: str | None, truth_key: dict, truth_sampler, names: list[str], *, m: int,
                  reps: int, seed: int) -> dict[str, M.NoiseFloor]:
    """Floors of the sample metrics among ``names``, read from or written to ``cache_dir``.

    With ``cache_dir`` None or empty, nothing is cached and ``{}`` is returned
    (`metrics.evaluate` then computes the floors itself).  A damaged entry is
    recomputed and rewritten, with a warning on stderr.
    """
    names = [k for k in names if k in SAMPLE_METRICS]
    if not cache_dir or not names:
        return {}
    root = _root(cache_dir)
    fp = _fingerprint(truth_sampler)
    out = {}
    for name in names:
        key, path = _entry(root, truth_key, fp, name, m, reps, seed)
        if path.is_file():
            floor, problem = _read_entry(path, key, m, reps)
            if floor is not None:
                out[name] = floor
                continue
            print(f"warning: floor cache entry {path} is damaged ({problem}); recomputed", file=sys.stderr,
                  flush=True)
        fl = M.metric_floor(truth_sampler, name, m, reps=reps, seed=seed)
        payload = {"key": key, "mean": fl.mean, "std": None if fl.std != fl.std else fl.std,
                   "reps": fl.reps, "m": fl.m, "values": [float(v) for v in fl.values]}
        atomic_write_text(path, json.dumps({**payload, "digest": _digest(payload)}) + "\n")
        out[name] = fl
    return out
