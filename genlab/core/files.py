"""What a run writes, written so that a crash never leaves a half-written file.

A run directory holds ``config.yaml`` (the resolved config), ``metrics.json``
(flat: metric name -> number, ``<metric>_floor`` beside each estimate with a
floor), ``samples.npz`` (array ``samples``, shape (m, d)) and a picture.
Every file is written to a temporary name in the same directory and moved
into place with ``os.replace``, which is atomic on POSIX: a reader sees the
old file or the new one, never a prefix.  ``metrics.json`` is written last,
so its presence marks a complete run -- when it parses and agrees with
config.yaml (`metrics_problem`), which only damage from outside can undo.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import yaml

__all__ = ["atomic_write_bytes", "atomic_write_text", "write_json", "write_samples",
           "read_metrics", "is_complete", "metrics_problem", "save_figure", "METRICS_FILE", "SAMPLES_FILE", "CONFIG_FILE", "CHECKPOINT_DIR",
           "ensure_writable_dir"]

METRICS_FILE = "metrics.json"
SAMPLES_FILE = "samples.npz"
CONFIG_FILE = "config.yaml"
CHECKPOINT_DIR = "checkpoints"


def ensure_writable_dir(path: str | os.PathLike, what: str = "out_dir") -> Path:
    """Create ``path`` (and parents) and check that a file can be written there; ``what`` names the
    setting in the error."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=p, prefix=".probe-"):
            pass
    except OSError as exc:
        raise ValueError(f"{what} '{p}' is not writable: {exc.strerror or exc}") from None
    return p


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename.

    The file gets the mode ``open`` would give it (0666 less the umask: 0644
    by default), not mkstemp's private 0600, so collaborators on a cluster can
    read a run's config.yaml and metrics.json like its pictures.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else (math.inf if value > 0 else -math.inf)
    return value


def write_json(path: str | os.PathLike, mapping: Mapping[str, Any]) -> None:
    """Atomically write a flat mapping as sorted, indented JSON (NaN becomes null)."""
    clean = {str(k): _jsonable(v) for k, v in mapping.items()}
    atomic_write_text(path, json.dumps(clean, indent=2, sort_keys=True, allow_nan=True) + "\n")


def write_samples(path: str | os.PathLike, samples) -> None:
    """Atomically write ``samples`` (m, d) as the array ``samples`` of an .npz file."""
    buf = io.BytesIO()
    np.savez(buf, samples=np.asarray(samples))
    atomic_write_bytes(path, buf.getvalue())


def save_figure(fig, path: str | os.PathLike, **savefig_kwargs) -> None:
    """``fig.savefig`` into memory, then `atomic_write_bytes`: a full disk or a crash mid-save leaves
    the previous picture whole (matplotlib writes straight to the file).  The format follows
    the suffix (.png, .pdf, ...)."""
    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".") or "png", **savefig_kwargs)
    atomic_write_bytes(path, buf.getvalue())


def read_metrics(run_dir: str | os.PathLike) -> dict:
    """The metrics of a complete run (raises FileNotFoundError otherwise)."""
    return json.loads((Path(run_dir) / METRICS_FILE).read_text())


def metrics_problem(run_dir: str | os.PathLike) -> str | None:
    """Why ``run_dir`` holds no complete run's record, or None if it holds one.

    A complete run's metrics.json parses as a non-empty JSON object, and its
    ``n`` and ``seed`` are those of the config.yaml beside it.  metrics.json is
    written last and atomically, so only damage from outside (a truncated copy,
    two writers before run directories were locked) makes one that is not.
    """
    run_dir = Path(run_dir)
    try:
        text = (run_dir / METRICS_FILE).read_text()
    except FileNotFoundError:
        return "no metrics.json"
    except (OSError, UnicodeDecodeError) as exc:
        return f"metrics.json cannot be read: {exc}"
    try:
        mx = json.loads(text)
    except ValueError as exc:
        return f"metrics.json does not parse as JSON ({exc})"
    if not isinstance(mx, dict) or not mx:
        return "metrics.json holds no metrics"
    try:
        saved = yaml.safe_load((run_dir / CONFIG_FILE).read_text())
    except FileNotFoundError:
        return "config.yaml is missing"
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return f"config.yaml cannot be read ({' '.join(str(exc).split())})"
    if not isinstance(saved, dict):
        return "config.yaml holds no config"
    for key in ("n", "seed"):
        if key in mx and key in saved and mx[key] != saved[key]:
            return f"its {key} is {mx[key]}, and config.yaml says {saved[key]}"
    return None


def is_complete(run_dir: str | os.PathLike) -> bool:
    """A run is complete when its metrics.json is a complete run's record (`metrics_problem`)."""
    return metrics_problem(run_dir) is None
