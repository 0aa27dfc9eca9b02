"""The family registry (`genlab.families`): what ``estimator:`` may name, and a family added from outside."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest
from omegaconf import OmegaConf

from genlab.config.compose import compose_config
from genlab.config import run_schema
from genlab.core import family as registry
from genlab.families import Family, Fitted, family_names, family_sections, get_family, register_family
from genlab.run.pipeline import run


def test_the_unknown_estimator_error_lists_every_registered_family():
    with pytest.raises(ValueError) as info:
        get_family("vae")
    assert str(info.value) == "estimator must be one of empirical, kde, diffusion, gan, icl, regression; got 'vae'"


def test_the_family_sections_are_the_run_configs_family_fields():
    schema = {f.name for f in fields(run_schema())}
    assert set(family_sections()) == {"kde", "diffusion", "gan", "icl", "regression"}
    assert set(family_sections()) <= schema
    assert [get_family(n).has_density for n in family_names()] == [False, True, True, False, False, False]


def test_a_family_is_fitted_or_whole_and_is_registered_once():
    with pytest.raises(ValueError, match="exactly one of fit and run_whole"):
        Family("both", fit=lambda *a, **k: None, run_whole=lambda *a, **k: {})
    with pytest.raises(ValueError, match="exactly one of fit and run_whole"):
        Family("neither")
    with pytest.raises(ValueError, match="'kde' is already registered"):
        register_family(Family("kde", fit=lambda *a, **k: None))


def _shifted_empirical(cfg, truth, x_train, **_):
    """The empirical measure moved by +1 in every coordinate: W1 to it is >= 1 - W1(truth, empirical)."""
    return Fitted(samples=x_train + 1.0)


def test_a_family_registered_from_outside_runs_and_is_scored(tmp_path, monkeypatch):
    monkeypatch.setitem(registry._FAMILIES, "shifted", Family("shifted", fit=_shifted_empirical))
    base = ["recipe=empirical_gmm", "n=200", "eval.m=200", "eval.reps=2", "eval.metrics=[w1]",
            "eval.floor_cache=null", "progress=false", "device=cpu"]
    shifted = run(OmegaConf.to_object(compose_config([*base, "estimator=shifted"])), tmp_path / "shifted")
    plain = run(OmegaConf.to_object(compose_config(base)), tmp_path / "plain")
    # a shift by the vector (1, ..., 1) moves every point by sqrt(d): W1(P, Q + v) >= |v| - W1(P, Q)
    # (triangle inequality), and here W1(P, Q) is the empirical measure's own error
    d = plain.metrics["dim"]
    assert shifted.metrics["w1"] >= d ** 0.5 - plain.metrics["w1"]
    saved = json.loads((tmp_path / "shifted" / "metrics.json").read_text())
    assert saved["w1"] == shifted.metrics["w1"] and "w1_floor" in saved
    # its config.yaml keeps no other family's section
    cfg = OmegaConf.load(tmp_path / "shifted" / "config.yaml")
    assert cfg.estimator == "shifted" and not set(family_sections()) & set(cfg.keys())
    # and a density metric is refused before any work: the family declares no density
    with pytest.raises(ValueError, match="'tv' needs the model's density, and estimator 'shifted' has none"):
        run(OmegaConf.to_object(compose_config([*base, "estimator=shifted", "eval.metrics=[tv]"])),
            tmp_path / "tv")


def test_the_reserved_sections_are_the_run_schemas_own_keys():
    """register_family refuses a section named like a key of the run (genlab.core.family.RESERVED_SECTIONS,
    kept beside the interface so a plugin hears it at registration); the list is the schema's own keys."""
    from genlab.config.schema import RunSettings

    own = {f.name for f in fields(RunSettings)} | {"truth", "eval", "rates", "hydra"}
    assert set(registry.RESERVED_SECTIONS) == own
    with pytest.raises(ValueError, match="section 'eval' is a key of the run itself"):
        register_family(Family("evalfam", fit=_shifted_empirical, section="eval", schema=RunSettings))
