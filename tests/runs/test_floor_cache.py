"""Floors kept on disk are the floors metrics.evaluate would compute, and are keyed safely."""

from __future__ import annotations

import numpy as np

import metrics as M
from genlab.run.floor_cache import cached_floors


def _sampler(shift=0.0):
    def sample(n, s):
        return np.random.default_rng(s).normal(size=(n, 2)) + shift
    return sample


def test_cached_floor_equals_computed_and_is_reused(tmp_path):
    first = cached_floors(str(tmp_path), {"name": "g"}, _sampler(), ["w1", "tv", "sliced_w1"],
                          m=120, reps=3, seed=7)
    assert set(first) == {"w1", "sliced_w1"}          # tv is a density metric: no sampling floor
    direct = M.metric_floor(_sampler(), "w1", 120, reps=3, seed=7)
    assert first["w1"].mean == direct.mean and tuple(first["w1"].values) == tuple(direct.values)
    files = sorted(tmp_path.iterdir())
    again = cached_floors(str(tmp_path), {"name": "g"}, _sampler(), ["w1", "sliced_w1"], m=120, reps=3, seed=7)
    assert sorted(tmp_path.iterdir()) == files
    assert again["w1"].mean == first["w1"].mean


def test_a_different_sampler_or_size_gets_its_own_entry(tmp_path):
    a = cached_floors(str(tmp_path), {"name": "g"}, _sampler(), ["w1"], m=100, reps=2, seed=0)
    b = cached_floors(str(tmp_path), {"name": "g"}, _sampler(shift=5.0), ["w1"], m=100, reps=2, seed=0)
    c = cached_floors(str(tmp_path), {"name": "g"}, _sampler(), ["w1"], m=150, reps=2, seed=0)
    assert len(list(tmp_path.iterdir())) == 3
    assert c["w1"].m == 150 and a["w1"].m == 100 and b["w1"].m == 100


def test_no_cache_dir_means_no_cache(tmp_path):
    assert cached_floors(None, {"name": "g"}, _sampler(), ["w1"], m=50, reps=2, seed=0) == {}


def test_is_cached_says_whether_a_valid_entry_would_be_read(tmp_path):
    from genlab.run.floor_cache import is_cached

    args = dict(m=80, reps=2, seed=3)
    assert not is_cached(str(tmp_path / "absent"), {"name": "g"}, _sampler(), "w1", **args)
    assert not (tmp_path / "absent").exists()                       # the question creates nothing
    assert not is_cached(str(tmp_path), {"name": "g"}, _sampler(), "w1", **args)
    cached_floors(str(tmp_path), {"name": "g"}, _sampler(), ["w1"], **args)
    assert is_cached(str(tmp_path), {"name": "g"}, _sampler(), "w1", **args)
    assert not is_cached(str(tmp_path), {"name": "g"}, _sampler(shift=1.0), "w1", **args)
    assert not is_cached(str(tmp_path), {"name": "g"}, _sampler(), "w1", m=81, reps=2, seed=3)
    assert not is_cached(None, {"name": "g"}, _sampler(), "w1", **args)
    (entry,) = tmp_path.iterdir()
    entry.write_text(entry.read_text().replace('"mean": ', '"mean": 99 + ', 1)[:-20])  # damaged
    assert not is_cached(str(tmp_path), {"name": "g"}, _sampler(), "w1", **args)
