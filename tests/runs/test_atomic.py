"""Atomic writes: a failure mid-write leaves the old file whole and no temporary behind."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genlab.core import files as runs


def test_write_json_round_trip_and_nan_as_null(tmp_path):
    path = tmp_path / "metrics.json"
    runs.write_json(path, {"w1": np.float64(0.25), "n": np.int64(3), "bad": float("nan")})
    assert json.loads(path.read_text()) == {"w1": 0.25, "n": 3, "bad": None}


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    runs.write_json(path, {"w1": 1.0})

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(runs.os, "replace", broken_replace)
    with pytest.raises(OSError):
        runs.write_json(path, {"w1": 2.0})
    assert json.loads(path.read_text()) == {"w1": 1.0}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_samples_npz_holds_samples(tmp_path):
    x = np.arange(6.0).reshape(3, 2)
    runs.write_samples(tmp_path / "samples.npz", x)
    with np.load(tmp_path / "samples.npz") as z:
        np.testing.assert_array_equal(z["samples"], x)


def test_unwritable_dir_is_a_value_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="out_dir"):
        runs.ensure_writable_dir(blocker / "sub")


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_written_files_get_the_mode_open_would_give_them(tmp_path, umask, mode):
    """Not mkstemp's private 0600: collaborators on a cluster read config.yaml and metrics.json too."""
    import os

    old = os.umask(umask)
    try:
        runs.write_json(tmp_path / "metrics.json", {"w1": 1.0})
    finally:
        os.umask(old)
    assert (tmp_path / "metrics.json").stat().st_mode & 0o777 == mode


def test_a_figure_that_fails_mid_save_leaves_the_previous_picture_whole(tmp_path):
    """matplotlib writes straight to its file; save_figure renders into memory and renames."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = tmp_path / "samples.png"
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    runs.save_figure(fig, path, dpi=50)
    good = path.read_bytes()
    assert good.startswith(b"\x89PNG")

    class Failing:
        def savefig(self, buf, **kw):
            buf.write(good[:100])
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        runs.save_figure(Failing(), path)
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples.png"]
    plt.close(fig)
