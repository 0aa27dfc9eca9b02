"""evaluate(): value, floor and CI per metric; unknown names raise."""

import numpy as np
import pytest
from scipy import stats

from metrics import METRIC_NAMES, Estimate, evaluate


def normal2(n, seed):
    return np.random.default_rng(seed).normal(size=(n, 2))


def test_all_sample_metrics_and_flat_keys():
    model = np.random.default_rng(99).normal(size=(300, 2)) + [0.6, 0.0]
    names = ["w1", "w2", "sliced_w1", "sliced_w2", "mmd2", "tv_hist", "tv_classifier"]
    out = evaluate(normal2, model, names, reps=3)
    assert list(out) == names
    for name, e in out.items():
        flat = e.as_flat(name)
        flag = {f"{name}_is_lower_bound"} if name == "tv_classifier" else set()
        assert set(flat) == {name, f"{name}_floor", f"{name}_ci_low", f"{name}_ci_high"} | flag
        assert e.ci_low <= e.value <= e.ci_high
    assert out["tv_classifier"].lower_bound and not out["w1"].lower_bound
    # the flat form (metrics.json) marks the lower bound (issue 14, item 8)
    assert out["tv_classifier"].as_flat("tv_classifier")["tv_classifier_is_lower_bound"] == 1
    # W1 between the laws is the shift 0.6; two truth samples of 300 in d = 2 are ~0.24 apart.
    assert 0 < out["w1"].floor < out["w1"].value
    assert out["w1"].floor_std is not None


def test_density_metrics_against_closed_forms():
    mu = np.array([1.0, 0.0])
    model = np.random.default_rng(5).normal(size=(500, 2)) + mu
    tlp = lambda x: stats.norm.logpdf(x).sum(1)
    mlp = lambda x: stats.norm.logpdf(x - mu).sum(1)
    out = evaluate(normal2, model, ["tv", "kl", "hellinger"], reps=20, truth_log_prob=tlp,
                   model_log_prob=mlp, alpha=0.001)
    assert out["tv"].ci_low <= 2 * stats.norm.cdf(0.5) - 1 <= out["tv"].ci_high
    assert out["kl"].ci_low <= 0.5 <= out["kl"].ci_high
    assert out["hellinger"].ci_low <= np.sqrt(1 - np.exp(-1 / 8)) <= out["hellinger"].ci_high
    assert out["kl"].floor == pytest.approx(0.5 * (out["kl"].ci_high - out["kl"].ci_low))


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="names: unknown metric 'w3'.*sliced_w1"):
        evaluate(normal2, np.zeros((10, 2)), ["w3"])
    assert "hellinger" in METRIC_NAMES


def test_exact_estimate():
    e = Estimate.exact(0.25)
    assert e.floor == 0.0 and e.as_flat("w2") == {"w2": 0.25, "w2_floor": 0.0, "w2_ci_low": 0.25, "w2_ci_high": 0.25}


def test_floors_given_are_used_and_equal_the_ones_computed():
    # evaluate(floors=...) with metric_floor's output must reproduce evaluate's own floor
    # bit for bit (same samples, same seeds), and a floor at another m is refused.
    import metrics as M

    def sampler(n, s):
        return np.random.default_rng(s).normal(size=(n, 2))

    x = np.random.default_rng(99).normal(size=(150, 2)) + 0.3
    own = M.evaluate(sampler, x, ["w1", "sliced_w1"], m=150, reps=3, seed=4)
    given = {k: M.metric_floor(sampler, k, 150, reps=3, seed=4) for k in ("w1", "sliced_w1")}
    reused = M.evaluate(sampler, x, ["w1", "sliced_w1"], m=150, reps=3, seed=4, floors=given)
    for k in ("w1", "sliced_w1"):
        assert reused[k].floor == own[k].floor and reused[k].value == own[k].value
    with pytest.raises(ValueError, match="floors"):
        M.evaluate(sampler, x, ["w1"], m=150, reps=3, seed=4,
                   floors={"w1": M.metric_floor(sampler, "w1", 100, reps=3, seed=4)})


def test_ci_of_a_distance_never_goes_below_zero():
    # two runs with t quantile 12.7 (reps = 2) make a wide interval; W1 >= 0 always.
    import metrics as M

    def sampler(n, s):
        return np.random.default_rng(s).normal(size=(n, 1))

    est = M.evaluate(sampler, sampler(100, 123), ["w1"], m=100, reps=2, seed=0)["w1"]
    assert est.ci_low >= 0.0
