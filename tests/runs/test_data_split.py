"""``data_split``: two disjoint training sets of n points from one seed, and the unset path as it always was."""

from __future__ import annotations

import pytest
import torch
from omegaconf import OmegaConf

from genlab.config.compose import compose_config
from genlab.core.seeding import derive_seed, make_generator
from genlab.distributions import make_truth
from genlab.run.data import training_points
from genlab.run.guard import unlock_run_dir
from genlab.run.pipeline import prepare
from genlab.run.validate import validate

TOY = ["n=24", "eval.m=8", "eval.reps=2", "eval.floor_cache=null", "progress=false", "device=cpu"]


def _rows(x: torch.Tensor) -> set:
    return {tuple(r) for r in x.tolist()}


def _direct(truth, n: int, seed: int) -> torch.Tensor:
    """The training points exactly as a run drew them before data_split existed."""
    return truth.sample(n, generator=make_generator(derive_seed(seed, "data")))


def test_the_two_splits_partition_one_draw_of_2n_points_and_are_reproducible():
    truth, n, seed = make_truth("gmm_anisotropic"), 50, 3
    x0, x1 = training_points(truth, n, seed, 0), training_points(truth, n, seed, 1)
    both = _direct(truth, 2 * n, seed)
    assert x0.shape == x1.shape == (n, 2)
    assert _rows(x0) & _rows(x1) == set()
    assert _rows(x0) | _rows(x1) == _rows(both) and len(_rows(both)) == 2 * n
    assert torch.equal(x0, both[:n]) and torch.equal(x1, both[n:])
    assert torch.equal(x0, training_points(truth, n, seed, 0))
    assert torch.equal(x1, training_points(truth, n, seed, 1))


def test_the_unset_split_draws_exactly_what_a_run_drew_before():
    truth = make_truth("gmm_anisotropic")
    for n, seed in ((1, 0), (37, 5), (1000, 11)):
        assert torch.equal(training_points(truth, n, seed), _direct(truth, n, seed))
        assert torch.equal(training_points(truth, n, seed, None), _direct(truth, n, seed))


@pytest.mark.parametrize("recipe", ["empirical_gmm", "kde_gmm", "diffusion_gmm", "gan_ring", "kde_smooth"])
def test_every_family_that_draws_from_a_truth_takes_its_split(recipe, tmp_path):
    preps = {}
    for split in (None, 0, 1):
        value = "null" if split is None else split
        cfg = OmegaConf.to_object(compose_config([f"recipe={recipe}", *TOY, f"data_split={value}"]))
        d = tmp_path / f"split{split}"
        try:
            preps[split] = prepare(cfg, d)
        finally:
            unlock_run_dir(d)
    truth, n, seed = preps[None].truth, preps[None].cfg.n, preps[None].cfg.seed
    both = _direct(truth, 2 * n, seed)
    assert torch.equal(preps[None].x_train, _direct(truth, n, seed))
    assert torch.equal(preps[0].x_train, both[:n]) and torch.equal(preps[1].x_train, both[n:])
    # the same seed otherwise: the model's sample stream (and init, train, derived from seed) does not move
    states = [p.sample_gen.get_state() for p in preps.values()]
    assert all(torch.equal(s, states[0]) for s in states)


@pytest.mark.parametrize("argv, words", [
    (["recipe=kde_gmm", "data_split=2"], "data_split must be null, 0 or 1"),
    (["recipe=kde_gmm", "data_split=-1"], "data_split must be null, 0 or 1"),
    (["recipe=icl_noisy", "data_split=0"], "estimator 'icl' draws its own data"),
    (["recipe=regression_smooth", "data_split=1"], "estimator 'regression' draws its own data"),
])
def test_a_split_that_cannot_apply_is_refused_in_one_line(argv, words):
    cfg = OmegaConf.to_object(compose_config(argv))
    with pytest.raises(ValueError) as info:
        validate(cfg)
    assert words in str(info.value) and "\n" not in str(info.value)
